"""Config-as-code on a fleet repository's pull requests: the plan comment, `/flux apply`, apply on merge.

- **the repository**: the fleet entry is matched by the event's repository URL, then the host is asked
  for the repository itself (Azure DevOps: by the id the event named) and its URL must be the same: a
  forged Azure DevOps event (hooks are not signed) cannot point a fleet entry at another repository's
  pull request. A mismatch is refused and audited, and nothing is posted where the event pointed.
- **plan** (PR opened / new commits / reviewed / `/flux plan`): read the fleet files at the PR's head and
  base, read the declared clusters from ARM, and write one plan comment, edited on every push. The plan's
  digest and head commit are remembered, so an apply applies exactly the plan people saw.
- **apply** (`/flux apply`): refused unless the PR is open, approved (bot.usecases.approvals: on the head
  commit, by someone with write access and a fluxops role on every cluster it changes who wrote none of its
  commits), not from a fork, the commenter has write access and the policy's role on every cluster it
  changes (operator; admin when it deletes or touches the extension), and the plan is the one shown. Then
  each cluster is claimed for this PR (other PRs are refused it until this one merges or closes), the
  operations run once each (their ARM operation tokens saved, so a restarted worker resumes), and
  reconciliation is followed to Compliant.
- **apply on merge** (``apply_on_merge: true``): who merged and the merge commit are read from the host,
  never from the event; the merge needs the same approvals as `/flux apply` (on the PR's final head
  commit) and the merger the same roles; then the fleet files *of the merge commit* are planned and
  applied, and the PR's claims are released.
- A PR that closes without merging releases its claims. Every refusal is audited.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot import errors
from bot.commands import ApplyFleet, ClusterTarget, PlanFleet, Role, Run
from bot.config_file import FleetRepository
from bot.fleet import (
    ActualCluster,
    CreateConfig,
    DeleteConfig,
    InstallExtension,
    Operation,
    Plan,
    UpdateConfig,
    UpdateExtension,
    make_plan,
    plan_keys,
)
from bot.fleet.desired import FleetSpec
from bot.fleet.load import load_fleet
from bot.git_host import PLAN_MARKER, CommentRef, Permission, PullRequestInfo
from bot.gitevents import AZURE_DEVOPS, CommentEvent, PullRequestEvent, RepoRef, ReviewEvent, event_from_json
from bot.grammar import parse
from bot.jobs import JobRecord
from bot.policy import Identity
from bot.ports import GitHost, LongRunning, Reporter
from bot.render.plan_markdown import render_fleet_error, render_plan
from bot.repo_urls import canonical_repo, redact_url
from bot.usecases import scope_checks
from bot.usecases.approvals import Tally, requirement, shortfall, tally
from bot.usecases.comments import POLICY_PLATFORM, CommentChanged, reread
from bot.usecases.configs import lock_key, protected_settings, with_known_hosts
from bot.usecases.context import Job, JobPorts, ResolvedCluster
from bot.usecases.refusals import audit_refusal
from bot.views import AuditEntry, ErrorInfo, Phase, StepState, TextView

log = logging.getLogger(__name__)

SETTLED = ("Compliant", "Non-Compliant", "Suspended")
#: a user no policy rule names: what ``*`` rules give everyone (such a role makes no approval count)
_ANYONE = "fluxops:anyone"


class RepositoryMismatch(errors.Forbidden):
    """The repository the host knows by the event's id is not the one the event's URL claims."""


def holder_of(repo: RepoRef, number: int) -> str:
    """How a PR names itself in cluster claims and in other PRs' plan comments: its web page."""
    web = repo.url.strip().removesuffix(".git").rstrip("/")
    if not web.startswith("https://"):
        return f"{repo.full_name}#{number}"
    return f"{web}/pullrequest/{number}" if repo.provider == AZURE_DEVOPS else f"{web}/pull/{number}"


def _pr_store(repo: RepoRef, number: int) -> str:
    """The job-store record that remembers a PR's last plan (digest, head, managed configurations)."""
    return f"pr-{repo.provider}-{repo.full_name}#{number}"


@dataclass(frozen=True)
class Planned:
    plan: Plan
    resolved: dict[str, ResolvedCluster]
    managed: frozenset[tuple[str, str]]
    head_sha: str
    #: (cluster key, configuration) pairs the fleet files at ``head_sha`` declare
    declared: frozenset[tuple[str, str]] = frozenset()


class FleetJob:
    def __init__(self, record: JobRecord, ports: JobPorts, reporter: Reporter) -> None:
        self.record = record
        self.ports = ports
        self.reporter = reporter
        event = event_from_json(record.event)
        if not isinstance(event, (PullRequestEvent, CommentEvent, ReviewEvent)):
            raise errors.InvalidRequest(f"a {record.kind} job needs a pull request event")
        self.event = event
        self.repo = event.repo
        self.number = event.number
        self.host: GitHost = ports.git_host(self.repo.provider)
        self.store = _pr_store(self.repo, self.number)
        self.holder = holder_of(self.repo, self.number)
        #: who merged, as the host says (apply on merge), once checked
        self.merger: Identity | None = None

    # -- small helpers ---------------------------------------------------------------------------

    def end(self, phase: Phase) -> Phase:
        self.ports.jobs.put(self.record.job_id, "phase", phase.value)
        return phase

    def refuse(self, text: str, *, clusters: str = "", tell: bool = True) -> Phase:
        """Refuse the job: audited, and (``tell``) said on the pull request."""
        record = self.record if self.merger is None else replace(self.record, actor=self.merger.user)
        audit_refusal(self.ports.audit, record, text, command=self.command_text(), cluster=clusters)
        if tell:
            self.reporter.private(TextView(text, error=True))
        return self.end(Phase.FAILED)

    def command_text(self) -> str:
        if isinstance(self.event, PullRequestEvent):
            return f"apply on merge {self.holder}" if self.record.kind == "apply" else f"plan {self.holder}"
        return f"/flux {self.record.text or self.record.kind}"

    def fleet(self) -> FleetRepository | None:
        """The fleet entry of this repository, once the host confirms the event's repository is that one.

        None when the event's repository is no fleet repository; RepositoryMismatch when the host's
        repository of the event's id has another URL (a forged or confused event).
        """
        fleet = self.ports.fleet_repository(self.repo.url)
        if fleet is None:
            return None
        actual = self.host.repository(self.repo)
        claimed, real, entry = (
            canonical_repo(self.repo.url),
            canonical_repo(actual.url),
            canonical_repo(fleet.repository),
        )
        if real is None or real != claimed or real != entry:
            raise RepositoryMismatch(
                f"the event names repository {redact_url(self.repo.url)} (id {self.repo.id or 'none'}), but "
                f"{self.repo.provider} says that repository is {redact_url(actual.url)}",
                recommendation="nothing was done; check the service hook's subscription and who knows its password",
            )
        # from here on the host's word: name, id and default branch as it has them
        self.repo = replace(
            self.repo,
            full_name=actual.full_name or self.repo.full_name,
            id=actual.id or self.repo.id,
            default_branch=actual.default_branch or self.repo.default_branch,
        )
        return fleet

    def verified_fleet(self) -> FleetRepository | Phase | None:
        """``fleet()``, with a mismatch refused (audited, not posted: the event's PR may be anyone's)."""
        try:
            return self.fleet()
        except RepositoryMismatch as mismatch:
            log.warning("%s: %s", self.holder, mismatch.message)
            return self.refuse(mismatch.message, tell=False)

    # -- planning --------------------------------------------------------------------------------

    def compute(self, fleet: FleetRepository, ref: str, base: str | None) -> Planned:
        """The plan for the fleet files at ``ref``; ``base`` (a branch) says which configurations the
        repository managed before; with None, those remembered from this PR's last plan count."""
        desired = load_fleet(self.host.read_files(self.repo, ref, fleet.path))
        managed: set[tuple[str, str]] = set()
        if base is not None:
            try:
                before = load_fleet(self.host.read_files(self.repo, base, fleet.path))
            except errors.ConfigurationError:
                before = FleetSpec()
            managed = {(c.key, spec.name) for c in before.values() for spec in c.configurations}
        else:
            managed = {(k, n) for k, n in json.loads(self.ports.jobs.get(self.store, "managed") or "[]")}
        actual: dict[str, ActualCluster] = {}
        unresolved: dict[str, str] = {}
        resolved: dict[str, ResolvedCluster] = {}
        for key in plan_keys(desired, managed):
            try:
                where = self.ports.resolve(ClusterTarget(key))
                ref_ = where.cluster.ref
                actual[key] = ActualCluster(
                    label=where.label,
                    cluster=ref_,
                    configs=tuple(self.ports.flux.list(ref_)),
                    extension=self.ports.extensions.find_flux(ref_),
                )
                resolved[key] = where
            except errors.FluxopsError as error:
                if error.retryable:
                    raise
                unresolved[key] = error.user_text()
        scope = scope_checks.fleet_scope(self.ports)
        plan = make_plan(desired, actual, managed=managed, unresolved=unresolved, scope=scope)
        declared = frozenset((c.key, spec.name) for c in desired.values() for spec in c.configurations)
        return Planned(plan, resolved, frozenset(managed), ref, declared)

    def locks_seen(self, plan: Plan) -> dict[str, str]:
        claims = self.ports.claims
        found: dict[str, str] = {}
        if claims is None:
            return found
        for cluster in plan.clusters:
            if cluster.cluster is None:
                continue
            holder = claims.holder(cluster.cluster.arm_id)
            if holder is not None and holder != self.holder:
                found[cluster.label] = holder
        return found

    def publish_plan(self, pr: PullRequestInfo, fleet: FleetRepository) -> tuple[Planned | None, str]:
        """Plan the PR's head and write the one plan comment; returns the plan (None when the files are broken)."""
        planned: Planned | None = None
        try:
            planned = self.compute(fleet, pr.head_sha, pr.base_branch)
        except errors.ConfigurationError as error:
            body = render_fleet_error(error, repo=self.repo.full_name, number=self.number, head_sha=pr.head_sha)
        else:
            note = "Merging applies it automatically." if fleet.apply_on_merge else ""
            body = render_plan(
                planned.plan,
                repo=self.repo.full_name,
                number=self.number,
                head_sha=pr.head_sha,
                locks=self.locks_seen(planned.plan),
                approved=pr.approved,
                note=note,
            )
            self.ports.jobs.put(self.store, "shown", f"{planned.plan.digest}@{pr.head_sha}")
            self.ports.jobs.put(self.store, "managed", json.dumps(sorted(planned.managed)))
        ref = self.host.find_comment(self.repo, self.number, PLAN_MARKER)
        if ref is None:
            self.host.comment(self.repo, self.number, body)
        else:
            self.host.edit_comment(self.repo, self.number, ref, body)
        return planned, body

    def plan(self) -> Phase:
        fleet = self.verified_fleet()
        if isinstance(fleet, Phase):
            return fleet
        if fleet is None:
            if isinstance(self.event, CommentEvent):
                return self.refuse(
                    f"{self.repo.full_name} is not a fleet repository, so there is no plan "
                    "(FLUXOPS_CONFIG `fleet_repositories` lists them)."
                )
            return self.end(Phase.SUCCEEDED)
        try:
            if isinstance(self.event, CommentEvent) and not self.acknowledge():
                return self.end(Phase.CANCELED)
        except CommentChanged as changed:
            return self.refuse(changed.user_text())
        pr = self.host.pull_request(self.repo, self.number)
        if pr.from_fork and not fleet.plan_forks:
            # a fork's author need not have any access: a plan would show them the state of every cluster named
            log.info("%s comes from a fork: not planned (fleet_repositories plan_forks)", self.holder)
            if isinstance(self.event, CommentEvent):
                return self.refuse(
                    "This pull request comes from a fork: fluxops does not plan forks, since a plan shows the "
                    "state of the clusters it names (FLUXOPS_CONFIG fleet_repositories: plan_forks: true allows it)."
                )
            return self.end(Phase.SUCCEEDED)
        if pr.state != "open":
            applies = (
                pr.state == "merged"
                and fleet.apply_on_merge
                and pr.base_branch == self.repo.default_branch
                and not pr.from_fork
            )
            if not applies and self.ports.claims is not None:
                released = self.ports.claims.release_all(self.holder)
                if released:
                    log.info("%s %s: released %d cluster claims", self.holder, pr.state, len(released))
            return self.end(Phase.SUCCEEDED)
        self.publish_plan(pr, fleet)
        return self.end(Phase.SUCCEEDED)

    def acknowledge(self) -> bool:
        """Check the comment that asked is still as delivered and show it was seen; False when it is gone or
        forged; CommentChanged when it was edited since (the caller refuses)."""
        assert isinstance(self.event, CommentEvent)
        current = reread(self.host, self.event, received_at=self.record.created_at, max_age=self.ports.comment_max_age)
        if current is None:
            return False
        parsed = parse(current.body, comment=True)
        wanted = ApplyFleet if self.record.kind == "apply" else PlanFleet
        if not (isinstance(parsed, Run) and isinstance(parsed.command, wanted)):
            log.warning("comment %s on %s no longer asks for %s; ignored", current.comment_id, self.holder, wanted.verb)
            return False
        self.event = current
        if self.ports.jobs.get(self.record.job_id, "done:acknowledged") != "1":
            self.host.acknowledge(self.repo, self.number, CommentRef(current.comment_id, current.thread_id))
            self.ports.jobs.put(self.record.job_id, "done:acknowledged", "1")
        return True

    # -- applying --------------------------------------------------------------------------------

    def apply(self) -> Phase:
        phase = self._apply()
        if isinstance(self.event, PullRequestEvent) and self.ports.claims is not None:
            self.ports.claims.release_all(self.holder)  # merged: the PR is done with its clusters
        return phase

    def _apply(self) -> Phase:
        fleet = self.verified_fleet()
        if isinstance(fleet, Phase):
            return fleet
        if fleet is None:
            if isinstance(self.event, CommentEvent):
                return self.refuse(
                    f"{self.repo.full_name} is not a fleet repository: `/flux apply` applies a fleet "
                    "repository's plan (FLUXOPS_CONFIG `fleet_repositories`)."
                )
            return self.end(Phase.SUCCEEDED)
        job = Job(self.record, self.ports, self.reporter, f"apply {self.holder}")
        if self.ports.jobs.get(self.record.job_id, "apply:planned") is None:
            verdict = self.check(fleet)
            if isinstance(verdict, Phase):
                return verdict
            planned = verdict
            self.ports.jobs.put(self.record.job_id, "apply:planned", planned.head_sha)
        else:
            # a resumed run: plan again at the same commit (what ran already is marked done)
            head = self.ports.jobs.get(self.record.job_id, "apply:planned") or ""
            planned = self.compute(fleet, head, None)
        try:
            self.run_operations(job, planned)
        except errors.FluxopsError as error:
            if error.retryable:
                raise
            job.fail_running_steps()
            job.show(
                phase=Phase.FAILED,
                note="",
                error=ErrorInfo(
                    doing=f"applying the plan of {self.holder}",
                    message=error.message,
                    recommendation=error.recommendation,
                ),
            )
        self.audit(job, planned)
        return self.end(job.view.phase)

    def check(self, fleet: FleetRepository) -> Planned | Phase:
        """Everything that must hold before an apply; a Phase when it is refused (and the PR was told)."""
        try:
            if isinstance(self.event, CommentEvent) and not self.acknowledge():
                return self.end(Phase.CANCELED)
        except CommentChanged as changed:
            return self.refuse(changed.user_text())
        pr = self.host.pull_request(self.repo, self.number)
        if pr.from_fork:
            return self.refuse("This pull request comes from a fork: fluxops never applies from a fork.")
        if isinstance(self.event, PullRequestEvent):
            if pr.state != "merged" or not fleet.apply_on_merge or pr.base_branch != self.repo.default_branch:
                return self.end(Phase.SUCCEEDED)
            return self.check_merged(fleet, pr)
        if pr.state != "open":
            return self.refuse(f"This pull request is {pr.state}: there is nothing to apply.")
        assert isinstance(self.event, CommentEvent)
        author = self.event.author
        have = self.host.permission(self.repo, author)
        if not have.at_least(Permission.WRITE):
            return self.refuse(
                f"Not applied: {author} has {have.value} access to {self.repo.full_name}; applying needs write."
            )
        try:
            planned = self.compute(fleet, pr.head_sha, pr.base_branch)
        except errors.ConfigurationError as error:
            return self.refuse(f"Not applied: the fleet files cannot be read. {error.user_text()}")
        shown = self.ports.jobs.get(self.store, "shown")
        if shown != f"{planned.plan.digest}@{pr.head_sha}":
            self.publish_plan(pr, fleet)
            return self.refuse(
                "Not applied: the plan changed since it was last shown (new commits, or the clusters changed). "
                "The plan comment is up to date now: review it and comment `/flux apply` again."
            )
        counted = self.approvals(pr, planned)
        if not counted.approved:
            return self.refuse(
                f"Not applied: {shortfall(counted)}. `/flux apply` needs {requirement(pr.head_sha)}: "
                "ask for a review of the head commit, then comment `/flux apply` again.",
                clusters=self.labels(planned),
            )
        refusal = self.authorize(planned, Identity(POLICY_PLATFORM[self.repo.provider], author))
        if refusal:
            return self.refuse(refusal, clusters=self.labels(planned))
        if not planned.plan.operations():
            problems = planned.plan.problems()
            if problems:
                return self.refuse("Not applied: " + "; ".join(problems))
            self.reporter.private(TextView("Nothing to apply: the clusters already match the fleet files."))
            return self.end(Phase.SUCCEEDED)
        problems = planned.plan.problems()
        if problems:
            return self.refuse("Not applied: the plan has problems: " + "; ".join(problems))
        conflict = self.claim(planned)
        if conflict:
            return self.refuse(conflict, clusters=self.labels(planned))
        return planned

    def check_merged(self, fleet: FleetRepository, pr: PullRequestInfo) -> Planned | Phase:
        """A merge that applies on merge: the host names the merger and the merge commit, the merge had the
        approvals `/flux apply` needs (on its final head), and the merger the roles; the merge commit's
        fleet files are what is applied."""
        host = "Azure DevOps" if self.repo.provider == AZURE_DEVOPS else "GitHub"
        if not pr.merged_by:
            return self.refuse(
                f"Merged, but nothing was applied: {host} does not say who merged this pull request, so the "
                "merge cannot be authorized. Apply the fleet files with a new pull request and `/flux apply`."
            )
        if not pr.merge_commit:
            return self.refuse(
                f"Merged, but nothing was applied: {host} names no merge commit for this pull request, so "
                "fluxops cannot tell what was merged. Apply the fleet files with a new pull request and `/flux apply`."
            )
        self.merger = Identity(POLICY_PLATFORM[self.repo.provider], pr.merged_by)
        try:
            planned = self.compute(fleet, pr.merge_commit, None)
        except errors.ConfigurationError as error:
            return self.refuse(
                f"Merged, but nothing was applied: the merged fleet files cannot be read. {error.user_text()}"
            )
        if not planned.plan.operations():
            problems = planned.plan.problems()
            if problems:
                return self.refuse("Merged, but nothing was applied: " + "; ".join(problems))
            self.reporter.private(TextView("Nothing to apply: the clusters already match the fleet files."))
            return self.end(Phase.SUCCEEDED)
        refusal = self.authorize(planned, self.merger)
        if refusal:
            return self.refuse(
                f"Merged, but nothing was applied: {refusal.removeprefix('Not applied: ')}",
                clusters=self.labels(planned),
            )
        counted = self.approvals(pr, planned)
        if not counted.approved:
            return self.refuse(
                f"Merged, but nothing was applied: {shortfall(counted)}. Applying on merge needs "
                f"{requirement(pr.head_sha)}. The clusters keep their configuration: apply it with an approved "
                "pull request and `/flux apply`.",
                clusters=self.labels(planned),
            )
        conflict = self.claim(planned)
        if conflict:
            return self.refuse(f"Merged, but {conflict[0].lower()}{conflict[1:]}", clusters=self.labels(planned))
        return planned

    def approvals(self, pr: PullRequestInfo, planned: Planned) -> Tally:
        """The pull request's approvals counted against the plan's clusters (bot.usecases.approvals)."""
        platform = POLICY_PLATFORM[self.repo.provider]
        policy = self.ports.policy
        clusters = [
            planned.resolved[key]
            for key in sorted({op.cluster_key for op in planned.plan.operations()})
            if key in planned.resolved
        ]

        def role_gap(user: str) -> str:
            who, anyone = Identity(platform, user), Identity(platform, _ANYONE)
            lacking = []
            for where in clusters:
                have = policy.role_for(who, where.cluster, where.alias)
                everyone = policy.role_for(anyone, where.cluster, where.alias)
                if have is None or (everyone is not None and have.rank <= everyone.rank):
                    lacking.append(where.label)
            if not lacking:
                return ""
            return "has no fluxops role of their own on " + ", ".join(lacking)

        def can_write(user: str) -> str:
            have = self.host.permission(self.repo, user)
            return "" if have.at_least(Permission.WRITE) else f"has {have.value} access to the repository"

        authors = self.host.pull_request_authors(self.repo, self.number)
        # the policy's approvals: for apply on these clusters may ask for more than one
        required = max([1, *(policy.approvals_required("apply", w.cluster, w.alias)[0] for w in clusters)])
        return tally(pr, authors=authors, role_gap=role_gap, can_write=can_write, required=required)

    @staticmethod
    def labels(planned: Planned) -> str:
        return ", ".join(sorted({op.label for op in planned.plan.operations()}))

    def authorize(self, planned: Planned, identity: Identity) -> str:
        """ "" when ``identity`` may apply every change; otherwise what they lack, where."""
        needed: dict[str, Role] = {}
        for op in planned.plan.operations():
            role = Role.ADMIN if isinstance(op, (DeleteConfig, InstallExtension, UpdateExtension)) else Role.OPERATOR
            if op.cluster_key not in needed or role.rank > needed[op.cluster_key].rank:
                needed[op.cluster_key] = role
        lacking = []
        for key, role in needed.items():
            where = planned.resolved.get(key)
            if where is None:
                continue
            have = self.ports.policy.role_for(identity, where.cluster, where.alias)
            if have is None or have.rank < role.rank:
                lacking.append(f"{role.value} on {where.label} (you have {have.value if have else 'no role'})")
        if not lacking:
            return ""
        return f"Not applied: {identity.user} needs " + ", ".join(lacking) + " (FLUXOPS_CONFIG roles)."

    def claim(self, planned: Planned) -> str:
        claims = self.ports.claims
        if claims is None:
            return ""
        held = []
        taken = []
        for op in planned.plan.operations():
            before = claims.holder(op.cluster.arm_id)
            holder = claims.claim(op.cluster.arm_id, self.holder)
            if holder != self.holder:
                held.append(f"{op.label} is being applied from {holder}")
            elif before is None:
                taken.append(op.cluster.arm_id)
        if held:
            if taken and self.ports.jobs.get(self.store, "applied") is None:
                claims.release_all(self.holder)  # nothing applied from this PR yet: it holds nothing
            return "Not applied: " + "; ".join(sorted(set(held))) + ". It is free again once that PR merges or closes."
        return ""

    def run_operations(self, job: Job, planned: Planned) -> None:
        ports = self.ports
        job.show(phase=Phase.RUNNING, note=f"planned at {planned.head_sha[:12]}")
        written: list[tuple[ResolvedCluster | None, str, str]] = []
        for op in planned.plan.operations():
            text = op.describe()
            # keyed by what it does, not by position: a resumed run plans again, and what already ran drops out
            key = "op:" + hashlib.sha256(f"{op.cluster.arm_id.lower()}|{text}".encode()).hexdigest()[:16]
            if not job.done(key):
                scope_checks.check_fleet_operation(job, op, planned.resolved.get(op.cluster_key))
                job.step(text)
            with ports.locks.hold(lock_key(op.cluster, op.lock_name), job.job_id):
                job.operation(key, self._begin(op), self._resume(op))
            job.finish_step(text)
            if isinstance(op, (CreateConfig, UpdateConfig)):
                name = op.spec.name if isinstance(op, CreateConfig) else op.name
                written.append((planned.resolved.get(op.cluster_key), op.label, name))
        ports.jobs.put(self.store, "managed", json.dumps(sorted(planned.declared)))
        ports.jobs.put(self.store, "applied", planned.head_sha)
        failed = False
        for where, label, name in written:
            if where is None:
                continue
            failed |= not self.follow(job, where, label, name)
        job.show(phase=Phase.FAILED if failed else Phase.SUCCEEDED, note="")

    def follow(self, job: Job, where: ResolvedCluster, label: str, name: str) -> bool:
        """Wait until Flux settles configuration ``name``; True when it is Compliant."""
        ports = self.ports
        text = f"{name} on {label}: reconciling"
        job.step(text)
        deadline = ports.clock() + ports.watch.timeout
        delay = ports.watch.first
        while True:
            ports.heartbeat(job.job_id)
            state = ports.flux.get(where.cluster.ref, name)
            if state.provisioning_state in ("Failed", "Canceled"):
                job.step(text, StepState.FAILED)
                job.finish_step(text, f"{name} on {label}: provisioning {state.provisioning_state}")
                return False
            if state.provisioning_state == "Succeeded" and state.compliance_state in SETTLED:
                ok = state.compliance_state != "Non-Compliant"
                done = f"{name} on {label}: {state.compliance_state}"
                job.finish_step(text, done)
                if not ok:
                    job.step(done, StepState.FAILED)
                return ok
            if ports.clock() >= deadline:
                job.step(text, StepState.FAILED)
                return False
            ports.sleep(delay)
            delay = min(delay * ports.watch.factor, ports.watch.longest)

    def _begin(self, op: Operation) -> Callable[[], LongRunning[object]]:
        ports = self.ports
        if isinstance(op, InstallExtension):
            return lambda: ports.extensions.begin_create(op.cluster, op.spec)
        if isinstance(op, UpdateExtension):
            return lambda: ports.extensions.begin_update(op.cluster, op.name, op.patch)
        if isinstance(op, CreateConfig):
            protected = protected_settings(ports.credentials, op.credentials)
            spec = with_known_hosts(op.spec, ports.credentials, op.credentials)
            return lambda: ports.flux.begin_create_or_update(op.cluster, spec, protected)
        if isinstance(op, UpdateConfig):
            return lambda: ports.flux.begin_update(op.cluster, op.name, op.patch)
        return lambda: ports.flux.begin_delete(op.cluster, op.name)

    def _resume(self, op: Operation) -> Callable[[str], LongRunning[object]]:
        if isinstance(op, (InstallExtension, UpdateExtension)):
            return self.ports.extensions.resume
        return self.ports.flux.resume

    def audit(self, job: Job, planned: Planned) -> None:
        view = job.view
        result = "succeeded" if view.phase is Phase.SUCCEEDED else f"{view.phase.value}"
        if view.error is not None:
            result = f"{result}: {view.error.message}"
        labels = sorted({op.label for op in planned.plan.operations()})
        how = "on merge" if isinstance(self.event, PullRequestEvent) else "/flux apply"
        actor = self.record.actor_id if self.merger is None else f"{self.merger.platform}:{self.merger.user}"
        self.ports.audit.append(
            AuditEntry(
                id="",
                time=datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
                actor=actor,
                origin=f"{self.repo.provider}:{self.holder}",
                command=f"{how} {self.holder} at {planned.head_sha[:12]}",
                cluster=", ".join(labels),
                job_id=self.record.job_id,
                result=result[:500],
            )
        )


def run(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    job = FleetJob(record, ports, reporter)
    return job.plan() if record.kind == "plan" else job.apply()
