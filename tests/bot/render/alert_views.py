"""Watch alerts (bot.alert_views) as bot/usecases/watch_alerts.py builds them, for the golden tests of
test_alert_render.py: the alert when it opens, when what is broken changes, a reminder in its thread, and its
resolution (healthy again, the configuration deleted, the channel no longer watching), with the thread's replies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.alert_views import AlertKind, AlertReply, AlertView, Change, Ending, FailingObject, ReplyKind
from bot.render.document import Document
from bot.render.documents.alerts import alert_document, reply_document

#: 2022-04-06 17:20:00 UTC, and the alert's times around it
SINCE = 1_649_265_600.0
OPENED = SINCE + 45
CHANGE = Change("github:octocat", "push of 9b2c6f1 to main", SINCE - 120)
APPS_MISSING = "kustomization path not found: stat /tmp/kustomization-2412/apps/nope: no such file or directory"


def opened() -> AlertView:
    return AlertView(
        config="cluster-config",
        cluster="flux-demo-arc",
        kind=AlertKind.NON_COMPLIANT,
        headline="Kustomization cluster-config-apps is failing",
        since=SINCE,
        objects=(FailingObject("Kustomization", "cluster-config-apps", "cluster-config", "BuildFailed", APPS_MISSING),),
        revision="main@sha1:9b2c6f1e0d3a4b5c6d7e8f90a1b2c3d4e5f60718",
        compliance="Non-Compliant",
        events=(f"kustomize-controller · BuildFailed · {APPS_MISSING}",),
        change=CHANGE,
        as_of=OPENED,
    )


def updated() -> AlertView:
    """What is broken changed: the HelmRelease fails too, and the events could not be read this time."""
    helm = FailingObject("HelmRelease", "podinfo", "podinfo", "InstallFailed", "install retries exhausted")
    view = opened()
    return replace(
        view,
        headline="2 Flux objects are failing",
        objects=(*view.objects, helm),
        events=(),
        events_problem="Flux's events could not be read: the cluster did not answer in time",
        as_of=OPENED + 600,
    )


def reminder() -> AlertReply:
    view = opened()
    return AlertReply(
        ReplyKind.REMINDER, view.config, view.cluster, since=SINCE, at=SINCE + 4 * 3600 + 60, headline=view.headline
    )


def resolved(ending: Ending = Ending.HEALTHY) -> AlertView:
    view = opened()
    at = SINCE + 5 * 3600 + 30 * 60
    return AlertView(
        config=view.config,
        cluster=view.cluster,
        kind=view.kind,
        headline=view.headline,
        since=SINCE,
        revision=view.revision if ending is not Ending.DELETED else "",
        compliance="Compliant" if ending is Ending.HEALTHY else "",
        change=CHANGE,
        resolved_at=at,
        ending=ending,
        as_of=at,
    )


def resolved_reply(ending: Ending = Ending.HEALTHY) -> AlertReply:
    view = resolved(ending)
    assert view.resolved_at is not None
    return AlertReply(
        ReplyKind.RESOLVED,
        view.config,
        view.cluster,
        since=SINCE,
        at=view.resolved_at,
        headline=view.headline,
        ending=ending,
    )


CASES: dict[str, Callable[[], Document]] = {
    "alert_open": lambda: alert_document(opened()),
    "alert_updated": lambda: alert_document(updated()),
    "alert_reminder_reply": lambda: reply_document(reminder()),
    "alert_resolved": lambda: alert_document(resolved()),
    "alert_resolved_reply": lambda: reply_document(resolved_reply()),
    "alert_resolved_deleted": lambda: alert_document(resolved(Ending.DELETED)),
    "alert_resolved_deleted_reply": lambda: reply_document(resolved_reply(Ending.DELETED)),
    "alert_resolved_unwatched": lambda: alert_document(resolved(Ending.UNWATCHED)),
    "alert_resolved_unwatched_reply": lambda: reply_document(resolved_reply(Ending.UNWATCHED)),
}
