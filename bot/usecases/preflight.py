"""The preflight job of a pull request on a repository Flux configurations use as their source: what merging
it would break, said on the pull request before it merges.

The configurations are those a push to the PR's base branch would reach (bot/usecases/push_targets.py). The
files their kustomizations build are read through the Git host at the PR's head and at its base branch, within
caps (bot/preflight/reading.py); the checks (bot/preflight) run once per distinct (namespace, kustomizations,
multi-tenancy) and the clusters of a configuration with the same findings make one group. Results:
the commit status ``fluxops/preflight`` on the head commit (failure when anything breaks: the first problem as
``file:line — message``), one ``fluxops/preflight/<configuration>`` per configuration, the same statuses on the
pull request itself on Azure DevOps, and one comment listing the findings per group, edited in place on each
push. A head commit already checked is not checked again (a redelivered or repeated event changes nothing).

One preflight of a pull request runs at a time (a lock per pull request), and a result is dropped when the
head moved while it ran. A pull request from a fork gets the overall status with counts only: no comment, no
configuration or cluster named, no Helm repository index read (its author need not have any access). The
overall status never stays pending: an error status ends it whatever stopped the job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from bot import errors
from bot.git_capabilities import commit_statuses, pull_requests, repository_files
from bot.git_host import CommitStatus, PullRequestInfo, StatusState
from bot.gitevents import PullRequestEvent, RepoRef
from bot.jobs import JobRecord
from bot.models import ExtensionState, FluxConfigState
from bot.ports import GitHost, PullRequestStatuses, RepositoryFiles
from bot.preflight.chart_versions import ChartIndex
from bot.preflight.findings import Finding
from bot.preflight.reading import ScopeReader
from bot.preflight.report import CONTEXT, MARKER, Report, grouped, status_line
from bot.preflight.run import Subject, chart_urls, preflight
from bot.preflight.tree import Tree
from bot.render.documents.preflight import preflight_document
from bot.render.markdown import render_document
from bot.usecases.context import JobPorts, ResolvedCluster
from bot.usecases.push_targets import tracking
from bot.views import Phase

log = logging.getLogger(__name__)

PREFLIGHT = "preflight"
#: pull request actions after which the head may have changed (Azure DevOps says only "updated")
CHECKED_ACTIONS = frozenset({"opened", "synchronize", "reopened", "updated"})
#: Helm repository indexes one preflight reads (the URLs come from the pull request)
MAX_INDEXES = 10


def _store(repo: RepoRef, number: int) -> str:
    """The job-store record of a pull request's preflight (the head commit last checked)."""
    return f"preflight-{repo.provider}-{repo.full_name}#{number}"


def multi_tenancy(extension: ExtensionState | None) -> bool:
    """Whether the cluster's flux extension enforces multi-tenancy (its default: on unless set to false)."""
    if extension is None:
        return False
    return dict(extension.settings).get("multiTenancy.enforce", "true").strip().lower() != "false"


def chart_urls_of(subjects: Iterable[Subject], head: Tree, base: Tree) -> set[str]:
    """The index URLs the chart-version check needs, each distinct subject looked at once."""
    return {url for subject in set(subjects) for url in chart_urls(subject, head, base)}


def fork_line(errors_found: int, clusters: int) -> str:
    """The only thing said on a pull request from a fork: counts, no cluster, configuration or file names."""
    where = f"{clusters} cluster{'' if clusters == 1 else 's'}"
    if not errors_found:
        return f"no problems found for {where} (details are not shown on pull requests from forks)"
    noun = "problem" if errors_found == 1 else "problems"
    return f"{errors_found} {noun} found for {where} (details are not shown on pull requests from forks)"


def subject_of(state: FluxConfigState, extension: ExtensionState | None) -> Subject:
    assert state.spec is not None
    kustomizations = tuple((k.name, k.path or "./") for k in state.spec.kustomizations)
    return Subject(state.spec.namespace, kustomizations, multi_tenancy(extension))


class PreflightJob:
    """One preflight of one pull request at its current head."""

    def __init__(self, record: JobRecord, ports: JobPorts) -> None:
        self.record = record
        self.ports = ports
        self.event = PullRequestEvent.from_json(record.event)
        self.host: GitHost = ports.git.host(self.event.repo.provider)
        #: the pull request was pushed again while this job checked it
        self.moved = False

    def run(self) -> Phase:
        event = self.event
        if event.action not in CHECKED_ACTIONS:
            return self.end(Phase.SUCCEEDED)
        files = repository_files(self.host)
        # the host's word for which repository this is (an Azure DevOps service hook is not signed)
        repo = files.repository(event.repo)
        targets = tracking(self.ports, repo.url, event.base_branch)
        if not targets:
            log.info("%s#%s: no configuration uses %s; no preflight", repo.full_name, event.number, event.base_branch)
            return self.end(Phase.SUCCEEDED)
        store = _store(repo, event.number)
        # one preflight of a pull request at a time: two pushes in a row must not write over each other
        with self.ports.locks.hold(f"preflight/{store}", self.record.job_id):
            pr = pull_requests(self.host).pull_request(repo, event.number)
            if pr.state != "open" or self.ports.jobs.get(store, "checked") == pr.head_sha:
                return self.end(Phase.SUCCEEDED)
            self.status(
                repo, pr.head_sha, CommitStatus(StatusState.PENDING, CONTEXT, "checking what this change breaks")
            )
            final: CommitStatus | None = None
            try:
                final = self.check(repo, pr, targets, files)
            except errors.InvalidRequest as refused:
                # a tree past the caps, or files the host will not give: said, and the check is not passed
                final = CommitStatus(StatusState.ERROR, CONTEXT, f"not checked: {refused.message}")
            finally:
                # the pending status never stays: whatever happened, the head commit gets a final one
                if final is None:
                    final = CommitStatus(StatusState.ERROR, CONTEXT, "the preflight stopped before it finished")
                self.status(repo, pr.head_sha, final, on_pull_request=not self.moved)
            if final.state is not StatusState.ERROR:
                self.ports.jobs.put(store, "checked", pr.head_sha)
        # the job did its work whatever it found: the findings are in the statuses and the comment
        return self.end(Phase.SUCCEEDED)

    def check(
        self,
        repo: RepoRef,
        pr: PullRequestInfo,
        targets: Sequence[tuple[ResolvedCluster, FluxConfigState]],
        files: RepositoryFiles,
    ) -> CommitStatus:
        """Run the checks at the PR's head; post the comment and the per-configuration statuses (not from a
        fork); the overall status to post (an error when the head moved meanwhile: the next job checks that)."""
        subjects = self.subjects(targets)
        paths = sorted({path for s in subjects.values() for _, path in s.kustomizations})
        head_reader = ScopeReader(lambda path: files.read_files(repo, pr.head_sha, path))
        head = head_reader.tree(paths)
        base = ScopeReader(lambda path: files.read_files(repo, pr.base_branch, path)).tree(
            paths, also=head_reader.asked
        )
        # a fork's author need not have any access: the comment and statuses would name the clusters and
        # configurations, and the chart indexes read would be theirs to choose
        wanted = {} if pr.from_fork else self.indexes(chart_urls_of(subjects.values(), head, base))
        memo: dict[Subject, Sequence[Finding]] = {}
        rows: list[tuple[str, str, Sequence[Finding]]] = []
        for where, state in targets:
            subject = subjects[(where.label, state.name)]
            if subject not in memo:
                memo[subject] = preflight(subject, head, base, wanted)
            rows.append((where.label, state.name, memo[subject]))
        report = Report(repo.full_name, self.event.number, pr.head_sha, pr.base_branch, grouped(rows))
        now = pull_requests(self.host).pull_request(repo, self.event.number).head_sha
        if now != pr.head_sha:
            # pushed again meanwhile: the job for the new head (waiting on this one's lock) says what it breaks
            log.info("%s#%s moved past %s during its preflight; dropped", repo.full_name, report.number, pr.head_sha)
            self.moved = True
            return CommitStatus(StatusState.ERROR, CONTEXT, f"not checked: the pull request moved on to {now[:7]}")
        every = [f for g in report.groups for f in g.findings]
        overall = StatusState.FAILURE if report.failed else StatusState.SUCCESS
        if pr.from_fork:
            return CommitStatus(overall, CONTEXT, fork_line(len(report.errors), report.clusters))
        self.comment(repo, report)
        for config in sorted({state.name for _, state in targets}):
            groups = [g for g in report.groups if g.config == config]
            findings = [f for g in groups for f in g.findings]
            clusters = sum(len(g.clusters) for g in groups)
            verdict = StatusState.FAILURE if any(g.errors for g in groups) else StatusState.SUCCESS
            self.status(
                repo, pr.head_sha, CommitStatus(verdict, f"{CONTEXT}/{config}", status_line(findings, clusters))
            )
        return CommitStatus(overall, CONTEXT, status_line(every, report.clusters))

    def subjects(self, targets: Sequence[tuple[ResolvedCluster, FluxConfigState]]) -> dict[tuple[str, str], Subject]:
        """Each (cluster, configuration)'s subject, the cluster's flux extension read once."""
        extensions: dict[str, ExtensionState | None] = {}
        subjects = {}
        for where, state in targets:
            ref = where.cluster.ref
            if ref.arm_id not in extensions:
                extensions[ref.arm_id] = self.ports.extensions.find_flux(ref)
            subjects[(where.label, state.name)] = subject_of(state, extensions[ref.arm_id])
        return subjects

    def indexes(self, urls: set[str]) -> dict[str, ChartIndex]:
        """The Helm repository indexes of ``urls``, at most MAX_INDEXES of them read (a note for the rest)."""
        charts = self.ports.git.charts
        if charts is None:
            return {url: ChartIndex(url, {}, problem="is not read by this fluxops") for url in urls}
        ordered = sorted(urls)
        skipped = f"was not read: a preflight reads at most {MAX_INDEXES} Helm repository indexes"
        found = {url: ChartIndex(url, {}, problem=skipped) for url in ordered[MAX_INDEXES:]}
        found.update((url, charts.read(url)) for url in ordered[:MAX_INDEXES])
        return found

    def status(self, repo: RepoRef, sha: str, status: CommitStatus, *, on_pull_request: bool = True) -> None:
        commit_statuses(self.host).set_commit_status(repo, sha, status)
        if on_pull_request and isinstance(self.host, PullRequestStatuses):
            self.host.set_pull_request_status(repo, self.event.number, status)

    def comment(self, repo: RepoRef, report: Report) -> None:
        """The one preflight comment on the pull request, written or edited in place."""
        body = f"{MARKER}\n{render_document(preflight_document(report))}"
        host = pull_requests(self.host)
        ref = host.find_comment(repo, report.number, MARKER)
        if ref is None:
            host.comment(repo, report.number, body)
        else:
            host.edit_comment(repo, report.number, ref, body)

    def end(self, phase: Phase) -> Phase:
        self.ports.jobs.put(self.record.job_id, "phase", phase.value)
        return phase


def run_preflight(record: JobRecord, ports: JobPorts) -> Phase:
    """The preflight job (kind ``preflight``); FluxopsError from the host or ARM propagate (retryable ones
    are retried by the task)."""
    try:
        return PreflightJob(record, ports).run()
    except errors.NotFound as gone:
        log.info("preflight of %s: %s", record.channel, gone.message)
        return PreflightJob(record, ports).end(Phase.CANCELED)
