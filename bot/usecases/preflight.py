"""The preflight job of a pull request on a repository Flux configurations use as their source: what merging
it would break, said on the pull request before it merges.

The configurations are those a push to the PR's base branch would reach (bot/usecases/push_targets.py). The
files are read through the Git host at the PR's head and at its base branch; the checks (bot/preflight) run per
(cluster, configuration), and the clusters of a configuration with the same findings make one group. Results:
the commit status ``fluxops/preflight`` on the head commit (failure when anything breaks: the first problem as
``file:line — message``), one ``fluxops/preflight/<configuration>`` per configuration, the same statuses on the
pull request itself on Azure DevOps, and one comment listing the findings per group, edited in place on each
push. A head commit already checked is not checked again (a redelivered or repeated event changes nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import errors
from bot.git_capabilities import commit_statuses, pull_requests, repository_files
from bot.git_host import CommitStatus, StatusState
from bot.gitevents import PullRequestEvent, RepoRef
from bot.jobs import JobRecord
from bot.models import ExtensionState, FluxConfigState
from bot.ports import GitHost, PullRequestStatuses
from bot.preflight.chart_versions import ChartIndex
from bot.preflight.findings import Finding
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


def _store(repo: RepoRef, number: int) -> str:
    """The job-store record of a pull request's preflight (the head commit last checked)."""
    return f"preflight-{repo.provider}-{repo.full_name}#{number}"


def multi_tenancy(extension: ExtensionState | None) -> bool:
    """Whether the cluster's flux extension enforces multi-tenancy (its default: on unless set to false)."""
    if extension is None:
        return False
    return dict(extension.settings).get("multiTenancy.enforce", "true").strip().lower() != "false"


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
        pr = pull_requests(self.host).pull_request(repo, event.number)
        store = _store(repo, event.number)
        if pr.state != "open" or self.ports.jobs.get(store, "checked") == pr.head_sha:
            return self.end(Phase.SUCCEEDED)
        names = sorted({state.name for _, state in targets})
        self.status(repo, pr.head_sha, CommitStatus(StatusState.PENDING, CONTEXT, "checking what this change breaks"))
        head = Tree(files.read_files(repo, pr.head_sha, ""))
        base = Tree(files.read_files(repo, pr.base_branch, ""))
        subjects = self.subjects(targets)
        indexes = self.indexes({url for s in subjects.values() for url in chart_urls(s, head, base)})
        rows: list[tuple[str, str, Sequence[Finding]]] = [
            (where.label, state.name, preflight(subjects[(where.label, state.name)], head, base, indexes))
            for where, state in targets
        ]
        report = Report(repo.full_name, event.number, pr.head_sha, pr.base_branch, grouped(rows))
        self.comment(repo, report)
        for config in names:
            groups = [g for g in report.groups if g.config == config]
            findings = [f for g in groups for f in g.findings]
            clusters = sum(len(g.clusters) for g in groups)
            state = StatusState.FAILURE if any(g.errors for g in groups) else StatusState.SUCCESS
            self.status(repo, pr.head_sha, CommitStatus(state, f"{CONTEXT}/{config}", status_line(findings, clusters)))
        every = [f for g in report.groups for f in g.findings]
        overall = StatusState.FAILURE if report.failed else StatusState.SUCCESS
        self.status(repo, pr.head_sha, CommitStatus(overall, CONTEXT, status_line(every, report.clusters)))
        self.ports.jobs.put(store, "checked", pr.head_sha)
        # the job did its work whatever it found: the findings are in the statuses and the comment
        return self.end(Phase.SUCCEEDED)

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
        charts = self.ports.git.charts
        if charts is None:
            return {url: ChartIndex(url, {}, problem="is not read by this fluxops") for url in urls}
        return {url: charts.read(url) for url in sorted(urls)}

    def status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        commit_statuses(self.host).set_commit_status(repo, sha, status)
        if isinstance(self.host, PullRequestStatuses):
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
