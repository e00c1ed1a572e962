"""One authorization decision, made at intake and carried in the job record to the ARM write.

The web process parses a command once, resolves its cluster to an ARM id, expands who asks (Slack user
groups), checks the policy and stores what it decided as a ``Decision`` in the job record. The worker acts
on that decision only: the command text must be the one decided (its digest), the cluster is the decided
ARM id (never a name resolved again against a live inventory that may have changed), and the same
``authorize`` runs again against the policy the worker has now, so a role revoked in between stops
queued work. A PR comment's decision also keeps the digest of the comment as the signed delivery had it:
the worker refuses when the Git host's comment no longer matches it.

``authorize`` is the one check both sides run. It never tells a person about a cluster they have no
role on: an unknown cluster and a cluster they may not see get the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Protocol

from bot import errors
from bot.change_calendar import now_utc
from bot.command_codec import encode
from bot.commands import ClusterTarget, Command, Help, Role
from bot.fleet_decision import FleetWrite, Select, authorize_fleet, is_fleet_write, selector_text
from bot.freezes import check_change
from bot.freezes import target as freeze_target
from bot.models import Cluster
from bot.policy import Identity, Policy

#: a job's decision that was refused at intake (the worker only tells the person and audits it)
REFUSED = "refused"
ALLOWED = "allowed"


class Placed(Protocol):
    """A resolved cluster: an inventory entry (web) or a ResolvedCluster (worker)."""

    @property
    def cluster(self) -> Cluster: ...

    @property
    def alias(self) -> str | None: ...


Resolve = Callable[[ClusterTarget], Placed]


def digest(text: str) -> str:
    """The digest people and jobs name a command or a comment by (SHA-256, hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short(full_digest: str) -> str:
    """The part of a digest a person types: ``/flux confirm JOB 1a2b3c4d``."""
    return full_digest[:8]


@dataclass(frozen=True)
class Decision:
    """What intake decided about one command from one person.

    ``text`` is the command as authorized (the words after /flux) and ``command_digest`` its digest;
    ``parsed_digest`` is the digest of the typed command intake parsed from it (bot.command_codec), the one the
    worker runs;
    ``target_id`` the ARM id of its cluster ("" for commands without one) and ``target_label`` how
    messages name it; ``platform``/``user``/``groups`` the identity as the policy saw it (groups expanded at
    intake); ``role`` the role the command needs; ``comment_digest`` the digest of the whole PR comment as
    delivered ("" from Slack); ``outcome`` is ``allowed`` or ``refused`` with the ``reason`` shown to the person.
    """

    text: str
    command_digest: str
    platform: str
    user: str
    parsed_digest: str = ""
    groups: tuple[str, ...] = ()
    target_id: str = ""
    target_label: str = ""
    role: str = ""
    verb: str = ""
    policy_version: str = ""
    comment_digest: str = ""
    outcome: str = ALLOWED
    reason: str = ""
    recommendation: str = ""
    #: people other than the one asking who must approve before it runs, and for how long an approval counts
    approvals_required: int = 0
    approval_ttl: int = 0

    @property
    def identity(self) -> Identity:
        return Identity(self.platform, self.user, frozenset(self.groups))

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Decision:
        """Read a stored decision; anything that is not exactly its shape is refused (Redis is not trusted)."""
        try:
            data = json.loads(text)
        except ValueError:
            raise _unreadable("it is not JSON") from None
        if not isinstance(data, dict):
            raise _unreadable("it is not an object")
        values: dict[str, object] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "groups":
                if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
                    raise _unreadable("groups is not a list of strings")
                values[f.name] = tuple(value)
            elif f.name in _COUNTS:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise _unreadable(f"{f.name} is not a count")
                values[f.name] = value
            elif not isinstance(value, str):
                raise _unreadable(f"{f.name} is missing")
            else:
                values[f.name] = value
        decision = cls(**values)  # type: ignore[arg-type]
        if decision.command_digest != digest(decision.text):
            raise _unreadable("its command does not match its digest")
        if decision.outcome not in (ALLOWED, REFUSED):
            raise _unreadable(f"unknown outcome {decision.outcome!r}")
        return decision


_COUNTS = ("approvals_required", "approval_ttl")


def _unreadable(why: str) -> errors.Forbidden:
    return errors.Forbidden(
        f"the job's authorization record cannot be read ({why}), so it is not run",
        recommendation="send the command again; if this repeats, something other than fluxops writes to its Redis",
    )


class Unseen(errors.NotFound):
    """A cluster that does not exist, or that the person has no role on: one answer for both (audited)."""


def unseen(target: ClusterTarget, identity: Identity) -> Unseen:
    """The one answer for a cluster that does not exist and for one ``identity`` has no role on."""
    return Unseen(
        f"{identity.mention} has no role on a cluster named '{target.cluster}'",
        recommendation="`/flux clusters` lists the clusters you may see; check the name, or ask a fluxops admin",
    )


def authorize(policy: Policy, identity: Identity, command: Command, *, resolve: Resolve) -> tuple[Placed | None, Role]:
    """The cluster ``command`` acts on (None when it has none) once ``identity`` may run it there.

    Raises Forbidden (the role is too low), NotFound (no such cluster, or none this person may see:
    the same answer), InvalidRequest (ambiguous names).
    """
    if isinstance(command, Help):
        return None, Role.VIEWER
    target = command.cluster_target
    if target is None:
        policy.authorize(identity, command, None)
        return None, command.role
    try:
        where = resolve(target)
    except errors.NotFound:
        raise unseen(target, identity) from None
    if policy.role_for(identity, where.cluster, where.alias) is None:
        raise unseen(target, identity)
    policy.authorize(identity, command, where.cluster, where.alias)
    return where, command.role


def decide(
    policy: Policy,
    identity: Identity,
    command: Command,
    text: str,
    *,
    resolve: Resolve,
    select: Select | None = None,
    comment_digest: str = "",
    now: float | None = None,
) -> Decision:
    """Authorize ``command`` (typed as ``text``) for ``identity`` and say so in a Decision.

    A refusal is a Decision too (``outcome`` refused, ``reason`` the message for the person), so a refused
    PR comment can still be answered on its pull request; so is a command that cannot be decided now.
    ``select`` gives the clusters a selector matches among those ``identity`` may see: a fleet run is decided
    over them (bot.fleet_decision); without it (tests' fakes) a fleet run needs its role on some cluster, as
    every command without a cluster does, and the worker checks the run's clusters. A change to a cluster in a
    freeze (at ``now``, epoch seconds; default the clock) is refused too, unless an admin broke the glass
    (bot.freezes).
    """
    moment = now_utc(time.time() if now is None else now)
    base = Decision(
        text=text,
        command_digest=digest(text),
        parsed_digest=digest(encode(command)),
        platform=identity.platform,
        user=identity.user,
        groups=tuple(sorted(identity.groups)),
        role=command.role.value,
        verb=command.verb,
        policy_version=policy.version,
        comment_digest=comment_digest,
    )
    try:
        if is_fleet_write(command) and select is not None:
            return _decide_fleet(policy, identity, command, base, select, moment)
        where, _ = authorize(policy, identity, command, resolve=resolve)
        if where is not None:
            check_change(policy, identity, command, [freeze_target(where.cluster, where.alias)], moment)
    except errors.FluxopsError as refusal:  # not allowed, or not decidable now (no inventory yet): not run
        return replace(base, outcome=REFUSED, reason=refusal.message, recommendation=refusal.recommendation)
    if where is None:
        return base
    required, ttl = (0, 0)
    if command.destructive:
        required, ttl = policy.approvals_required(command.verb, where.cluster, where.alias)
    return replace(
        base,
        target_id=where.cluster.ref.arm_id,
        target_label=where.alias or where.cluster.ref.name,
        approvals_required=required,
        approval_ttl=ttl,
    )


def _decide_fleet(
    policy: Policy, identity: Identity, command: FleetWrite, base: Decision, select: Select, moment: datetime
) -> Decision:
    """A fleet run's decision: its role on every matched cluster, and the most approvals any of them asks for.
    ``target_label`` says how many clusters matched (messages show it); ``target_id`` stays "" (no one cluster)."""
    selector = command.selector
    matched = select(selector)
    required, ttl = authorize_fleet(policy, identity, command, matched)
    check_change(policy, identity, command, [freeze_target(m.cluster, m.alias) for m in matched], moment)
    count = len(matched)
    return replace(
        base,
        target_label=f"{count} cluster{'' if count == 1 else 's'} matching {selector_text(selector)}",
        approvals_required=required,
        approval_ttl=ttl,
    )


def recheck(
    policy: Policy,
    decision: Decision,
    command: Command,
    text: str,
    *,
    resolve: Resolve,
    stored: str | None = None,
    now: float | None = None,
    started: bool = False,
) -> Placed | None:
    """The worker's side: the job may run ``command`` (decoded from ``stored``, the record's JSON; parsed from
    ``text``) as decided, under today's policy.

    Returns the decided cluster, resolved by its ARM id. Raises Forbidden when the text or the command is not
    the one decided, the decision was a refusal, or the policy no longer allows it (a freeze on its cluster at
    ``now`` included: bot.freezes.Frozen, unless the job has ``started`` changing it: a started change runs to its
    end); NotFound when the decided cluster has gone from the inventory.
    """
    if not decision.allowed:
        raise errors.Forbidden(
            decision.reason or "this command was refused when it was received", recommendation=decision.recommendation
        )
    decided = is_decided(encode(command) if stored is None else stored, decision)
    if digest(text) != decision.command_digest or text != decision.text or not decided:
        raise errors.Forbidden(
            "the job's command is not the one that was authorized, so it is not run",
            recommendation="send the command again",
        )
    target = command.cluster_target
    if (target is None) != (not decision.target_id):
        raise errors.Forbidden(
            "the job's cluster is not the one that was authorized, so it is not run",
            recommendation="send the command again",
        )
    if target is None:
        authorize(policy, decision.identity, command, resolve=resolve)
        return None
    try:
        where = resolve(ClusterTarget(decision.target_id))
    except errors.NotFound:
        raise errors.NotFound(
            f"cluster {decision.target_label} ({decision.target_id}) is no longer in the inventory",
            recommendation="check `/flux clusters`; send the command again once the cluster is back",
        ) from None
    if where.cluster.ref.arm_id.casefold() != decision.target_id.casefold():
        raise errors.Forbidden(f"the inventory resolves {decision.target_id} to another cluster; not run")
    # the same check as intake's, on the decided cluster whatever the command's words name now
    placed, _ = authorize(policy, decision.identity, command, resolve=lambda _named: where)
    # a freeze that began since intake stops it too, before its first change (a fleet run meets it at its next wave)
    if placed is not None and not started:
        moment = now_utc(time.time() if now is None else now)
        check_change(policy, decision.identity, command, [freeze_target(placed.cluster, placed.alias)], moment)
    return placed


def is_decided(stored: str, decision: Decision) -> bool:
    """``stored`` (a job record's command, as bot.command_codec wrote it) is the very command intake decided
    about, not one changed on its way through Redis. Compared as stored, so it does not depend on how this
    version of fluxops would encode the command."""
    return hmac.compare_digest(digest(stored), decision.parsed_digest)


def approvals_missing(decision: Decision, job_id: str) -> str:
    """Why a staged job may not run yet: the approvals the policy asks for, and how long each one counts."""
    minutes = max(1, decision.approval_ttl // 60)
    return (
        f"job {job_id} needs {decision.approvals_required} approval(s) from people other than the one asking, "
        f"each given within the last {minutes} min (older ones have expired), before it can run"
    )
