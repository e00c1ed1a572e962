"""Views with Flux events, as the bot builds them: ``/flux events`` on the tutorial's cluster, and a Non-Compliant
result that carries the kustomize-controller's events (the tutorial's apps kustomization pointed at ./apps/nope).

Shared by the Slack (test_slack_render.py; test_slack_push.py has the push with an event) and Markdown
(test_markdown.py) golden tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.cluster_objects import FluxEvent, ObjectRef
from bot.views import EventList, JobView, Phase, View
from tests.bot.render import tutorial_views as tv

AS_OF = "2022-04-06T17:20:00Z"
SOURCE = ObjectRef("GitRepository", "cluster-config", tv.NAMESPACE)
INFRA = ObjectRef("Kustomization", "cluster-config-infra", tv.NAMESPACE)
APPS = ObjectRef("Kustomization", "cluster-config-apps", tv.NAMESPACE)
PODINFO = ObjectRef("HelmRelease", "podinfo", "podinfo")
NOT_FOUND = "kustomization path not found: stat /tmp/kustomization-2412/apps/nope: no such file or directory"


def _event(
    involved: ObjectRef, reason: str, message: str, last_seen: str, *, warning: bool = False, count: int = 1
) -> FluxEvent:
    source = "source-controller" if involved.kind == "GitRepository" else "kustomize-controller"
    return FluxEvent(
        involved=involved,
        type="Warning" if warning else "Normal",
        reason=reason,
        message=message,
        count=count,
        first_seen=last_seen,
        last_seen=last_seen,
        source=source,
    )


FETCHED = _event(
    SOURCE, "NewArtifact", f"stored artifact for commit 'Merge pull request #4': {tv.REVISION}", "2022-04-06T17:02:10Z"
)
INFRA_APPLIED = _event(
    INFRA, "ReconciliationSucceeded", "Reconciliation finished in 2.1s, next run in 10m0s", "2022-04-06T17:02:14Z"
)
APPS_FAILED = _event(APPS, "ArtifactFailed", NOT_FOUND, "2022-04-06T17:17:30Z", warning=True, count=4)
PODINFO_UPGRADED = _event(
    PODINFO,
    "UpgradeSucceeded",
    "Helm upgrade succeeded for release podinfo/podinfo.v2 with chart podinfo@6.1.0",
    "2022-04-06T17:03:01Z",
)


def events_listing() -> JobView:
    """``/flux events cluster-config -c flux-demo-arc``: the source, both kustomizations and a HelmRelease; 12
    older events left out."""
    events = (FETCHED, INFRA_APPLIED, PODINFO_UPGRADED, APPS_FAILED)
    return JobView(
        job_id=tv.JOB,
        actor=tv.ALICE,
        title="events cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        events=EventList(events=events, as_of=AS_OF, more=12),
    )


def events_none() -> JobView:
    return replace(
        events_listing(),
        events=EventList(as_of=AS_OF),
        note="no events about its Kustomization objects in the last 30m",
    )


def non_compliant_with_events() -> JobView:
    """The tutorial's Non-Compliant update, with the kustomize-controller's Warning about the missing path."""
    return replace(tv.tutorial_non_compliant(), failure_events=EventList(events=(APPS_FAILED,), as_of=AS_OF))


def non_compliant_events_unreadable() -> JobView:
    """The cluster's API refused fluxops: the result says so in one line and is otherwise the same."""
    problem = (
        "Flux's events could not be read: the Kubernetes API of flux-demo-arc refused fluxops (403) — grant "
        "fluxops' identity the Azure Arc Kubernetes Viewer role on flux-demo-arc"
    )
    return replace(tv.tutorial_non_compliant(), failure_events=EventList(as_of=AS_OF, problem=problem))


CASES: dict[str, Callable[[], View]] = {
    "events_listing": events_listing,
    "events_none": events_none,
    "non_compliant_with_events": non_compliant_with_events,
    "non_compliant_events_unreadable": non_compliant_events_unreadable,
}
