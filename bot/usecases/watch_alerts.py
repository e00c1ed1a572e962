"""Telling the channels: the alert of one configuration's incident, posted once per channel and edited after.

Posting is claimed per (incident, channel) in the alert store before the message is sent, so two workers (or
a restarted one) never post the same alert twice; a post that fails gives its claim back and a later scan tries
again. A worker that dies between claiming and recording the message leaves the claim: that channel's alert is
then not re-posted (at most once), and the next edits skip it.

Only the channels the scan routes the alert to now are told anything (bot.watches: their watch's creator may
see the cluster under today's policy); a channel that had the alert and lost that right hears nothing more. A
channel that stopped watching gets the alert closed in its thread (``close``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot import errors
from bot.alert_views import AlertKind, AlertReply, AlertView, Change, Ending, ReplyKind
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

    def edit(self, incident: str, view: AlertView, channels: set[str], reply: AlertReply | None = None) -> None:
        """Edit the alert where it was posted among ``channels``, and reply in its thread when given one."""
        for channel, ts in sorted(self.store.posts(incident).items()):
            if not ts or channel not in channels:
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

    def resolve(self, ended: Ended, channels: set[str], ending: Ending = Ending.HEALTHY) -> None:
        """Reply resolved in the alert's thread and edit the alert to say it is resolved (and why), in
        ``channels``; the incident is over."""
        view, reply = self._resolved(ended, ending)
        self.edit(ended.record.incident, view, channels, reply)
        self.store.forget_posts(ended.record.incident)

    def close(self, ended: Ended, channels: set[str]) -> None:
        """The alert is resolved in ``channels`` only, which no longer watch it; the incident goes on elsewhere
        (a channel that watches again gets it anew)."""
        view, reply = self._resolved(ended, Ending.UNWATCHED)
        self.edit(ended.record.incident, view, channels, reply)
        for channel in channels:
            self.store.release_post(ended.record.incident, channel)

    def _resolved(self, ended: Ended, ending: Ending) -> tuple[AlertView, AlertReply]:
        record, state, now = ended.record, ended.state, ended.now
        kind = AlertKind(record.kind) if record.kind in AlertKind.__members__.values() else AlertKind.NON_COMPLIANT
        view = AlertView(
            config=ended.config,
            cluster=ended.label,
            kind=kind,
            headline=record.headline or "broken",
            since=record.since,
            revision=(state.source_synced_commit or "") if state is not None else "",
            compliance=(state.compliance_state or "") if state is not None else "",
            change=self.last_change(ended.key, ended.label, ended.config),
            resolved_at=now,
            ending=ending,
            as_of=now,
        )
        reply = AlertReply(
            ReplyKind.RESOLVED,
            ended.config,
            ended.label,
            since=record.since,
            at=now,
            headline=record.headline,
            ending=ending,
        )
        return view, reply


@dataclass(frozen=True)
class Ended:
    """An alert that ends (everywhere, or in some channels): its record, and what was last read of it (None when
    its configuration is gone)."""

    key: str
    label: str
    config: str
    record: AlertRecord
    now: float
    state: FluxConfigState | None = None
