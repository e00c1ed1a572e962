"""What a watch alert shows: one message per (configuration, incident), and the replies in its thread.

Built by bot/usecases/watch_alerts.py from what the scan saw; rendered by bot/render/documents/alerts.py for
Slack and Markdown. Times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """What broke, worst first: ARM could not provision the configuration, its source cannot be fetched, Flux
    objects fail (Non-Compliant), or a HelmRelease drifted from what was applied."""

    PROVISIONING = "provisioning"
    SOURCE = "source"
    NON_COMPLIANT = "non-compliant"
    DRIFT = "drift"


@dataclass(frozen=True)
class FailingObject:
    """A Flux object Flux reports failing, with its Ready condition's reason and message."""

    kind: str
    name: str
    namespace: str
    reason: str
    message: str


@dataclass(frozen=True)
class Change:
    """The last change made to a configuration, as far as fluxops knows it: a push it traced, or a command."""

    actor: str  # "github:octocat", "slack:U123"
    summary: str  # "push of 4f1bdad to main", "`/flux config update apps -c prod`"
    at: float


class Ending(StrEnum):
    """Why an alert was resolved: the configuration is healthy again, it was deleted, or the channel stopped
    watching it (`/flux unwatch`, or its selector no longer matches the cluster)."""

    HEALTHY = "healthy"
    DELETED = "deleted"
    UNWATCHED = "unwatched"


@dataclass(frozen=True)
class AlertView:
    """The alert message: firing (edited while the incident lasts) or resolved."""

    config: str
    cluster: str  # the label people know it by (alias or name)
    kind: AlertKind
    headline: str  # "Kustomization apps-apps is failing"
    since: float
    objects: tuple[FailingObject, ...] = ()
    #: ARM's own message (provisioning failures, a Non-Compliant roll-up without objects)
    detail: str = ""
    revision: str = ""
    compliance: str = ""
    #: the newest Warning events of the failing objects, one line each (cluster access), or why none are shown
    events: tuple[str, ...] = ()
    events_problem: str = ""
    change: Change | None = None
    resolved_at: float | None = None
    ending: Ending = Ending.HEALTHY
    #: when the view was made (the message says "as of")
    as_of: float = 0.0


class ReplyKind(StrEnum):
    REMINDER = "reminder"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertReply:
    """A reply in the alert's thread: a reminder that it is still broken, or that it recovered."""

    kind: ReplyKind
    config: str
    cluster: str
    since: float
    at: float
    headline: str = ""
    ending: Ending = Ending.HEALTHY
