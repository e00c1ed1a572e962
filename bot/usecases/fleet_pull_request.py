"""A fleet repository's pull request as a job sees it (``FleetJob``): the repository checked with the host,
the comment that asked re-read, the plan computed from the fleet files and the clusters, and the one plan
comment; ``plan()`` is the plan job. Applying builds on it (``bot.usecases.fleet_apply_checks``,
``bot.usecases.fleet_rollout``); ``bot.usecases.fleet_jobs`` says what the jobs do and runs them."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace

from bot import errors
from bot.commands import ApplyFleet, ClusterTarget, PlanFleet, Run
from bot.config_file import FleetRepository
from bot.fleet import (
    ActualCluster,
    Plan,
    expand_fleet,
    make_plan,
    plan_keys,
)
from bot.fleet.desired import FleetSpec, Selector
from bot.fleet.load import load_fleet
from bot.git_capabilities import pull_requests, repository_files
from bot.git_host import PLAN_MARKER, CommentRef, PullRequestInfo
from bot.gitevents import AZURE_DEVOPS, CommentEvent, PullRequestEvent, RepoRef, ReviewEvent, event_from_json
from bot.grammar import parse
from bot.jobs import JobRecord
from bot.models import Cluster
from bot.policy import Identity
from bot.ports import Reporter
from bot.render.plan_markdown import render_fleet_error, render_plan
from bot.repo_urls import canonical_repo, redact_url
from bot.usecases import fleet_freeze, scope_checks
from bot.usecases.comments import CommentChanged, reread
from bot.usecases.context import JobPorts, ResolvedCluster
from bot.usecases.refusals import audit_refusal
from bot.views import Phase, TextView

log = logging.getLogger(__name__)


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
    """A plan with what it was made from: the clusters resolved, the configurations managed before, the commit."""

    plan: Plan
    resolved: dict[str, ResolvedCluster]
    managed: frozenset[tuple[str, str]]
    head_sha: str
    #: (cluster key, configuration) pairs the fleet files at ``head_sha`` declare
    declared: frozenset[tuple[str, str]] = frozenset()


class FleetJob:
    """One plan or apply job on a fleet repository's pull request."""

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
        host = ports.git.host(self.repo.provider)
        self.host = pull_requests(host)
        self.files = repository_files(host)
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
        fleet = self.ports.git.fleet_repository(self.repo.url)
        if fleet is None:
            return None
        actual = self.files.repository(self.repo)
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

    def verified_fleet(self, not_fleet: str) -> FleetRepository | Phase:
        """``fleet()``, or the phase the job ends in: a mismatch refused (audited, not posted: the event's PR may
        be anyone's); a comment on a repository that is no fleet repository refused with ``not_fleet`` (what
        follows "REPO is not a fleet repository"); any other event about such a repository done."""
        try:
            fleet = self.fleet()
        except RepositoryMismatch as mismatch:
            log.warning("%s: %s", self.holder, mismatch.message)
            return self.refuse(mismatch.message, tell=False)
        if fleet is not None:
            return fleet
        if isinstance(self.event, CommentEvent):
            return self.refuse(f"{self.repo.full_name} is not a fleet repository{not_fleet}")
        return self.end(Phase.SUCCEEDED)

    # -- planning --------------------------------------------------------------------------------

    def compute(self, fleet: FleetRepository, ref: str, base: str | None) -> Planned:
        """The plan for the fleet files at ``ref``; ``base`` (a branch) says which configurations the
        repository managed before; with None, those remembered from this PR's last plan count."""
        desired = self.expanded(load_fleet(self.files.read_files(self.repo, ref, fleet.path)))
        managed: set[tuple[str, str]] = set()
        if base is not None:
            try:
                before = self.expanded(load_fleet(self.files.read_files(self.repo, base, fleet.path)))
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
                where = self.ports.clusters.resolve(ClusterTarget(key))
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

    def expanded(self, spec: FleetSpec) -> FleetSpec:
        """``spec`` with its selector documents turned into the clusters of the inventory they match
        (``bot.fleet.selection``): the inventory as `/flux clusters --selector` sees it."""
        if not spec.selections:
            return spec
        directory = self.ports.clusters

        def select(selector: Selector) -> list[tuple[Cluster, str | None]]:
            return [(row.cluster, row.alias) for row in directory.rows(selector)]

        def arm_id_of(key: str) -> str | None:
            try:
                return directory.resolve(ClusterTarget(key)).cluster.ref.arm_id
            except errors.FluxopsError as error:
                if error.retryable:
                    raise
                return None  # make_plan says the key names no cluster

        return expand_fleet(spec, select, arm_id_of)

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
                frozen=fleet_freeze.closed_now(
                    self.ports, planned.resolved, [c.key for c in planned.plan.clusters if c.status != "unchanged"]
                ),
            )
            self.ports.jobs.put(self.store, "shown", f"{planned.plan.digest}@{pr.head_sha}")
            self.ports.jobs.put(self.store, "managed", json.dumps(sorted(planned.managed)))
        ref = self.host.find_comment(self.repo, self.number, PLAN_MARKER)
        if ref is None:
            self.host.comment(self.repo, self.number, body)
        else:
            self.host.edit_comment(self.repo, self.number, ref, body)
        return planned, body

    def opened(self) -> PullRequestInfo | Phase:
        """The pull request, once the comment that asked (if one did) is acknowledged; the Phase the job ended
        in when that comment is gone, forged or edited since."""
        try:
            if isinstance(self.event, CommentEvent) and not self.acknowledge():
                return self.end(Phase.CANCELED)
        except CommentChanged as changed:
            return self.refuse(changed.user_text())
        return self.host.pull_request(self.repo, self.number)

    def acknowledge(self) -> bool:
        """Check the comment that asked is still as delivered and show it was seen; False when it is gone or
        forged; CommentChanged when it was edited since (the caller refuses)."""
        assert isinstance(self.event, CommentEvent)
        current = reread(
            self.host, self.event, received_at=self.record.created_at, max_age=self.ports.git.comment_max_age
        )
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

    def plan(self) -> Phase:
        fleet = self.verified_fleet(", so there is no plan (FLUXOPS_CONFIG `fleet_repositories` lists them).")
        if isinstance(fleet, Phase):
            return fleet
        pr = self.opened()
        if isinstance(pr, Phase):
            return pr
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
