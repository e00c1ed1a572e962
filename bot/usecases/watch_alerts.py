"""Telling the channels: the alert of one configuration's incident, posted once per channel and edited after.

Posting is claimed per (incident, channel) in the alert store before the message is sent, so two workers (or
a restarted one) never post the same alert twice; a post that fails gives its claim back and a later scan tries
again. A worker that dies between claiming and recording the message leaves the claim: that channel's alert is
then not re-posted (at most once), and the next edits skip it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot import errors
from bot.alert_views import AlertKind, AlertReply, AlertView, Change, ReplyKind
from bot.models import FluxConfigState, arm_time
from bot.ports import AlertNotifier, AlertStore, AuditLog, ClusterApi
from bot.usecases.failure_events import WARNING, event_line, failing_refs, newest_per_object, read_events
from bot.usecases.watch_health import Trouble
from bot.usecases.watch_transitions import AlertRecord

log = logging.getLogger(__name__)

#: how far back the audit log is read for the last change fluxops made to a configuration (seconds)
AUDIT_LOOKBACK = 7 * 24 * 3600


@dataclass
class Teller:
    """Builds an alert's view and sends it to the channels."""

    store: AlertStore
    notifier: AlertNotifier
    audit: AuditLog | None = None
    cluster_api: ClusterApi | None = None

    # -- the view -------------------------------------------------------------------------------

    def view(
        self, key: str, label: str, state: FluxConfigState, trouble: Trouble, record: AlertRecord, now: float
    ) -> AlertView:
        events, problem = self._events(state)
        return AlertView(
            config=state.name,
            cluster=label,
            kind=trouble.kind,
            headline=trouble.headline,
            since=record.since,
            objects=trouble.objects,
            detail=trouble.detail,
            revision=state.source_synced_commit or "",
            compliance=state.compliance_state or "",
            events=events,
            events_problem=problem,
            change=self.last_change(key, label, state.name),
            as_of=now,
        )

    def _events(self, state: FluxConfigState) -> tuple[tuple[str, ...], str]:
        refs = failing_refs(state)
        if self.cluster_api is None or not refs:
            return (), ""
        try:
            found = read_events(self.cluster_api, state.cluster, refs)
        except errors.FluxopsError as error:
            return (), f"Flux's events could not be read: {error.user_text()}"
        except Exception:  # an adapter's bug: the alert still goes out, without the events
            log.exception("events of %s on %s could not be read", state.name, state.cluster.name)
            return (), "Flux's events could not be read: an unexpected error (see the worker log)"
        return tuple(event_line(e) for e in newest_per_object(e for e in found if e.type == WARNING)), ""

    def last_change(self, key: str, label: str, config: str) -> Change | None:
        """The newer of the last push traced to the configuration and the last fluxops command that named it."""
        found = [c for c in (self.store.last_change(key), self._audited(label, config)) if c is not None]
        return max(found, key=lambda c: c.at) if found else None

    def _audited(self, label: str, config: str) -> Change | None:
        if self.audit is None:
            return None
        try:
            entries = self.audit.read(since_seconds=AUDIT_LOOKBACK, cluster=label, limit=20)
        except Exception:  # the audit log is a nicety here: the alert goes out without it
            log.warning("the audit log could not be read for %s on %s", config, label, exc_info=True)
            return None
        for entry in entries:  # newest first
            words = entry.command.split()
            if config in words and not entry.result.startswith("refused"):
                moment = arm_time(entry.time)
                return Change(
                    actor=entry.actor, summary=f"`/flux {entry.command}`", at=moment.timestamp() if moment else 0
                )
        return None

    # -- sending --------------------------------------------------------------------------------

    def post_new(self, incident: str, channels: Iterable[str], view: AlertView) -> int:
        """Post the alert in every channel that has not had it yet; returns how many got it now."""
        posted = 0
        have = self.store.posts(incident)
        for channel in sorted(set(channels) - set(have)):
            if not self.store.claim_post(incident, channel):
                continue
            try:
                ts = self.notifier.post(channel, view)
            except Exception:
                self.store.release_post(incident, channel)
                log.warning("the alert of %s could not be posted in %s; a later scan tries again", view.config, channel)
                continue
            self.store.save_post(incident, channel, ts)
            posted += 1
        return posted

    def edit(self, incident: str, view: AlertView, reply: AlertReply | None = None) -> None:
        """Edit the alert wherever it was posted, and reply in its thread when given one."""
        for channel, ts in sorted(self.store.posts(incident).items()):
            if not ts:
                continue
            try:
                self.notifier.update(channel, ts, view)
                if reply is not None:
                    self.notifier.reply(channel, ts, reply)
            except Exception:  # this channel's message only: the others still go, the next change edits again
                log.warning("telling %s about the alert of %s failed", channel, view.config, exc_info=True)

    @staticmethod
    def reminder(view: AlertView, now: float) -> AlertReply:
        return AlertReply(
            ReplyKind.REMINDER, view.config, view.cluster, since=view.since, at=now, headline=view.headline
        )

    def resolve(self, key: str, label: str, state: FluxConfigState, record: AlertRecord, now: float) -> None:
        """Reply resolved in the alert's thread and edit the alert to say it is resolved."""
        kind = AlertKind(record.kind) if record.kind in AlertKind.__members__.values() else AlertKind.NON_COMPLIANT
        resolved = AlertView(
            config=state.name,
            cluster=label,
            kind=kind,
            headline=record.headline or "broken",
            since=record.since,
            revision=state.source_synced_commit or "",
            compliance=state.compliance_state or "",
            change=self.last_change(key, label, state.name),
            resolved_at=now,
            as_of=now,
        )
        reply = AlertReply(ReplyKind.RESOLVED, state.name, label, since=record.since, at=now, headline=record.headline)
        self.edit(record.incident, resolved, reply)
        self.store.forget_posts(record.incident)
