"""Slack: slash commands and button presses at POST /slack/events.

verify -> normalize -> parse -> enqueue -> ack. Verification is ours first (body cap, UTF-8, signature in
constant time with Slack's 5-minute window, and a replay guard keyed by the signature), then bolt's own.
Bolt's listeners normalize the payload (only from the allowed workspaces); the grammar parses; one
decision (bot.decision) resolves the cluster against the inventory the workers publish and checks the
policy; refusals are audited; the job is written with its decision and enqueued in one Redis step; the
ack carries the job id.
Nothing here talks to Azure: the web process has no Azure credential.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.command_codec import decode_command, encode
from bot.commands import ApplyFleet, ApproveJob, CancelJob, ClusterTarget, ConfirmJob, PlanFleet, Reply, Role, Run
from bot.decision import Decision, approvals_missing, short
from bot.errors import FluxopsError, Forbidden, NotFound
from bot.fleet_decision import is_fleet_write
from bot.grammar import parse
from bot.jobs import Confirmation, JobRecord
from bot.policy import Identity, Policy
from bot.render.slack import SlackMessage, render
from bot.views import JobView, Phase, TextView, mention
from handlers.authority import EdgeAuthority, rate_message
from handlers.log_context import bind_delivery
from handlers.metrics import ACCEPTED, DUPLICATE, REFUSED, note_event, note_outcome
from handlers.webhook_body import read_capped
from workers.job_queue import JobQueue, new_job_id

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a slash command is ~1 KiB; a block_actions payload carries the message, ~40 KiB at most
REPLAY_TTL = 600  # longer than the 300 s window in which a signature is accepted
GROUPS_TTL = 300.0

Ack = Callable[..., Awaitable[None]]
#: commands that only mean something in a pull-request comment
PULL_REQUEST_ONLY = (PlanFleet, ApplyFleet, ConfirmJob, ApproveJob, CancelJob)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def _ack_args(messages: list[SlackMessage]) -> dict[str, Any]:
    first = messages[0]
    return {"text": first.text, "blocks": list(first.blocks), "response_type": "ephemeral"}


class GroupLookupFailed(FluxopsError):
    """Slack did not say who is in the policy's user groups: refuse rather than guess."""


class GroupCache:
    """Which of the policy's Slack user groups a user is in (usergroups.users.list, cached).

    Only complete answers are cached: when Slack fails to list a group, the cache is not refreshed and
    the request is refused (a role given through a group is neither lost nor assumed for five minutes).
    """

    def __init__(self, groups: set[str]) -> None:
        self._groups = groups
        self._members: dict[str, frozenset[str]] = {}
        self._fetched = -GROUPS_TTL

    async def groups_of(self, user: str, client: AsyncWebClient) -> frozenset[str]:
        if not self._groups:
            return frozenset()
        if time.monotonic() - self._fetched > GROUPS_TTL:
            members: dict[str, frozenset[str]] = {}
            for group in sorted(self._groups):
                try:
                    response = await client.usergroups_users_list(usergroup=group)
                    members[group] = frozenset(response.get("users") or [])
                except Exception:
                    log.warning("cannot list members of Slack user group %s", group, exc_info=True)
                    raise GroupLookupFailed(
                        "fluxops could not ask Slack who is in the user groups its policy names",
                        recommendation="try again in a minute; if it persists, check the bot's usergroups:read scope",
                    ) from None
            self._members, self._fetched = members, time.monotonic()
        return frozenset(g for g, users in self._members.items() if user in users)


class SlackIntake:
    """The listeners bolt calls, and the checks they share."""

    def __init__(
        self,
        *,
        queue: JobQueue,
        redis: aioredis.Redis,
        policy: Policy,
        authority: EdgeAuthority | None = None,
        allowed_teams: Sequence[str] = (),
    ) -> None:
        """``allowed_teams``: the workspaces taken; empty: the one the bot token belongs to (auth.test)."""
        self.queue = queue
        self.redis = redis
        self.policy = policy
        self.authority = authority or EdgeAuthority(redis=redis, policy=policy)
        self.groups = GroupCache(policy.groups_referenced("slack"))
        self._allowed_teams = frozenset(allowed_teams)

    async def identity(self, user: str, client: AsyncWebClient) -> Identity:
        return Identity("slack", user, await self.groups.groups_of(user, client))

    async def identity_or_named(self, user: str, client: AsyncWebClient) -> tuple[Identity, str]:
        """Who asks; when Slack cannot say who is in the policy's groups, the person as named alone (a role
        given through a group is then not seen, never assumed) and a note saying so for a refusal."""
        try:
            return await self.identity(user, client), ""
        except GroupLookupFailed as failed:
            note = f" (and {failed.message}, so a role given through a Slack user group was not seen: try again)"
            return Identity("slack", user), note

    async def team_allowed(self, team: str, enterprise: str, client: AsyncWebClient) -> bool:
        """Whether a request from workspace ``team`` (or Enterprise Grid ``enterprise``) is taken."""
        if not self._allowed_teams:
            try:
                response = await client.auth_test()
            except Exception:
                log.warning("auth.test failed: cannot tell which Slack workspace fluxops belongs to", exc_info=True)
                return False
            own = {str(response.get("team_id") or ""), str(response.get("enterprise_id") or "")} - {""}
            self._allowed_teams = frozenset(own)
        return bool(team) and (team in self._allowed_teams or (bool(enterprise) and enterprise in self._allowed_teams))

    async def _refuse(
        self, ack: Ack, user: str, channel: str, text: str, reason: str, cluster: str = "", *, shown: str = ""
    ) -> None:
        """Audit the refusal (``reason``) and answer it (``shown``: the reason with what to do, by default
        the reason alone)."""
        note_outcome(REFUSED)
        await self.authority.audit_refusal(
            actor=f"slack:{user}",
            origin=f"slack:{channel}" if channel else "slack",
            command=f"/flux {text}",
            cluster=cluster,
            reason=reason,
        )
        await ack(**_ack_args(render(TextView(shown or reason, error=True))))

    async def on_command(self, ack: Ack, command: dict[str, Any], client: AsyncWebClient) -> None:
        note_event("command")
        text = str(command.get("text") or "")
        user = str(command.get("user_id") or "")
        channel = str(command.get("channel_id") or "")
        team = str(command.get("team_id") or "")
        enterprise = str(command.get("enterprise_id") or "")
        bind_delivery(delivery_id=str(command.get("trigger_id") or ""), event="slash_command", actor=f"slack:{user}")
        if not await self.team_allowed(team, enterprise, client):
            log.warning("slash command from Slack workspace %r refused: not an allowed workspace", team[:32])
            reason = "This Slack workspace is not one fluxops serves (SLACK_ALLOWED_TEAMS)."
            await self._refuse(ack, user, channel, text, reason)
            return
        parsed = parse(text)
        if isinstance(parsed, Reply):
            await ack(**_ack_args(render(TextView(parsed.text, error=parsed.error))))
            return
        if not isinstance(parsed, Run):
            await ack()
            return
        if isinstance(parsed.command, PULL_REQUEST_ONLY):
            note = (
                f"`/flux {parsed.command.verb}` works in a pull-request comment (on a fleet repository for plan "
                "and apply); in Slack, destructive commands are confirmed with their buttons."
            )
            await ack(**_ack_args(render(TextView(note, error=True))))
            return
        wait = await self.authority.rate_limited(f"slack:{user}", str(command.get("trigger_id") or uuid.uuid4()))
        if wait is not None:
            await self._refuse(ack, user, channel, text, rate_message(wait, self.authority.rate_limit))
            return
        identity, unseen_groups = await self.identity_or_named(user, client)
        try:
            decision = await self.authority.decide(identity, parsed.command, text)
        except FluxopsError as error:
            await ack(**_ack_args(render(TextView(error.user_text(), error=True))))
            return
        if not decision.allowed:
            target = parsed.command.cluster_target
            reason = decision.reason + unseen_groups
            shown = f"{reason} — {decision.recommendation}" if decision.recommendation else reason
            await self._refuse(ack, user, channel, text, reason, str(target) if target else "", shown=shown)
            return
        record = JobRecord(
            job_id=new_job_id(),
            text=text,
            platform="slack",
            actor=user,
            channel=channel,
            team=team,
            response_url=str(command.get("response_url") or ""),
            created_at=time.time(),
            decision=decision.to_json(),
            command=encode(parsed.command),
        )
        # trigger_id is unique per invocation: a replayed or repeated delivery enqueues nothing new
        trigger = command.get("trigger_id")
        submitted = await self.queue.submit(record, dedupe_key=f"slack:command:{trigger}" if trigger else None)
        label = decision.target_label
        where = f" on {label}" if label else ""
        verb = parsed.command.verb
        note_outcome(DUPLICATE if submitted.duplicate else ACCEPTED, dedupe_hits=int(submitted.duplicate))
        if submitted.duplicate:
            note = f"`{verb}`{where} is already job {submitted.job_id}; nothing new was started."
        elif parsed.command.destructive:
            note = f"`{verb}`{where}: job {submitted.job_id}. I'll show what it removes and ask you to confirm."
        else:
            note = f"On it: `{verb}`{where}, job {submitted.job_id}. Progress follows in this channel."
        await ack(**_ack_args(render(TextView(note))))

    async def on_button(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """Confirm, Approve or Cancel of a staged job: the presser is checked against the staged decision,
        which the button names by digest; the command is never parsed again."""
        note_event("interaction")
        await ack()
        action = (body.get("actions") or [{}])[0]
        job_id, _, named_digest = str(action.get("value") or "").partition(" ")
        presser = str((body.get("user") or {}).get("id") or "")
        bind_delivery(delivery_id=str(body.get("trigger_id") or ""), event="block_actions", actor=f"slack:{presser}")
        team = str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")
        enterprise = str((body.get("enterprise") or {}).get("id") or "")
        if not await self.team_allowed(team, enterprise, client):
            await respond(text="This Slack workspace is not one fluxops serves.", replace_original=False)
            return
        kind = {"fluxops_confirm": "confirm", "fluxops_approve": "approve"}.get(str(action.get("action_id")), "cancel")
        raw = await self.redis.hgetall(f"fluxops:job:{job_id}")
        if not raw:
            await respond(text="That job is not known any more (jobs are kept 30 days).", replace_original=False)
            return
        channel = _text(raw.get(b"channel"))
        pressed_in = str((body.get("channel") or {}).get("id") or "")
        try:
            decision = Decision.from_json(_text(raw.get(b"decision")))
            if _text(raw.get(b"platform")) != "slack" or decision.platform != "slack":
                raise Forbidden(f"job {job_id} was not started in Slack: confirm it where it was started")
            if pressed_in and channel and pressed_in != channel:
                raise Forbidden(f"job {job_id} was started in another channel; nothing was run")
            if kind != "cancel" and short(decision.command_digest) != named_digest:
                raise Forbidden(f"job {job_id} is not the command this button was made for; nothing was run")
            identity = await self.identity(presser, client)
            await self.check_presser(identity, decision, _text(raw.get(b"command")))
            if kind == "approve" and presser.casefold() == decision.user.casefold():
                raise Forbidden(
                    f"<@{presser}> asked for job {job_id}: an approval must come from someone else",
                    recommendation="ask a teammate with the same role to press Approve",
                )
        except FluxopsError as error:
            await self._refuse_press(presser, channel, f"{kind} {job_id}", error.message, job_id)
            await respond(text=error.user_text(), response_type="ephemeral", replace_original=False)
            return
        if kind == "approve":
            await self._approve(job_id, identity, decision, channel, respond)
        elif kind == "confirm":
            await self._confirm(job_id, presser, decision, channel, _text(raw.get(b"p:phase")), respond)
        elif await self.queue.cancel(job_id):
            label = decision.target_label
            view = JobView(
                job_id=job_id,
                actor=_text(raw.get(b"actor")),
                title=f"{decision.verb} on {label}" if label else decision.verb,
                phase=Phase.CANCELED,
                note=f"canceled by {mention(presser)}; nothing was changed",
            )
            message = render(view)[0]
            await respond(text=message.text, blocks=list(message.blocks), replace_original=True)

    async def _approve(self, job_id: str, identity: Identity, decision: Decision, channel: str, respond: Any) -> None:
        presser = identity.user
        counted = await self.queue.approve(
            job_id, approver=presser, digest=decision.command_digest, groups=identity.groups
        )
        if counted <= 0:
            reason = {-3: "the one who asked cannot approve it", -1: "it is another command"}.get(
                counted, "it is not waiting for approvals"
            )
            await self._refuse_press(presser, channel, f"approve {job_id}", reason, job_id)
            await respond(text=f"Job {job_id} was not approved: {reason}.", replace_original=False)
            return
        await self.authority.audit_note(
            actor=f"slack:{presser}",
            origin=f"slack:{channel}",
            command=f"approve {job_id} (/flux {decision.text})",
            result=f"approved: {counted} of {decision.approvals_required}",
            cluster=decision.target_label,
            job_id=job_id,
        )
        left = decision.approvals_required - counted
        more = f"{left} more needed" if left > 0 else "the one who asked can now press Confirm"
        await respond(
            text=f"<@{presser}> approved job {job_id} ({counted} of {decision.approvals_required}); {more}.",
            replace_original=False,
        )

    async def _confirm(
        self, job_id: str, presser: str, decision: Decision, channel: str, phase: str, respond: Any
    ) -> None:
        outcome = await self.queue.confirm(job_id, confirmed_by=presser, digest=decision.command_digest)
        if outcome:
            return
        if outcome is Confirmation.NEEDS_APPROVALS:
            reason = approvals_missing(decision, job_id)
            await self._refuse_press(presser, channel, f"confirm {job_id}", reason, job_id)
            await respond(text=f"Not yet: {reason}. Ask a teammate to press Approve.", replace_original=False)
        else:
            await respond(
                text=f"Job {job_id} is not waiting for confirmation ({phase or 'unknown'}).", replace_original=False
            )

    async def _refuse_press(self, presser: str, channel: str, command: str, reason: str, job_id: str) -> None:
        await self.authority.audit_refusal(
            actor=f"slack:{presser}", origin=f"slack:{channel}", command=command, reason=reason, job_id=job_id
        )

    async def check_presser(self, identity: Identity, decision: Decision, stored: str = "") -> None:
        """Raise Forbidden unless ``identity`` holds the staged command's role on its decided cluster; for a fleet
        run (``stored``: the record's command), on every cluster it was decided over."""
        needed = Role(decision.role)
        if not decision.target_id:
            have = self.policy.role_anywhere(identity)
            if have is None or have.rank < needed.rank:
                raise Forbidden(f"{identity.mention} may not confirm `{decision.verb}`: it needs {needed.value}")
            command = decode_command(stored) if stored else None
            if command is not None and is_fleet_write(command):
                for entry in await self.authority.fleet_clusters(decision.identity, command):
                    self.policy.require(identity, needed, entry.cluster, entry.alias, decision.verb)
            return
        inventory = await self.authority.inventory()
        try:
            placed = inventory.resolve(ClusterTarget(decision.target_id))
        except NotFound:
            raise NotFound(f"cluster {decision.target_label} is no longer in the inventory; nothing was run") from None
        self.policy.require(identity, needed, placed.cluster, placed.alias, decision.verb)


def build_bolt(*, signing_secret: str, token: str, api_url: str, intake: SlackIntake) -> AsyncApp:
    client = AsyncWebClient(token=token, base_url=api_url)
    bolt = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        raise_error_for_unhandled_request=False,
    )
    bolt.command("/flux")(intake.on_command)
    bolt.action("fluxops_confirm")(intake.on_button)
    bolt.action("fluxops_approve")(intake.on_button)
    bolt.action("fluxops_cancel")(intake.on_button)
    return bolt


def slack_route(
    *, bolt: AsyncApp, signing_secret: str, redis: aioredis.Redis
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        raw = await read_capped(request, MAX_BODY)  # capped, and in at most READ_TIMEOUT_SECONDS
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise web.HTTPBadRequest(text="the body is not UTF-8") from None
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        # is_valid checks the 5-minute window and compares the HMAC in constant time
        try:
            valid = verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except (ValueError, TypeError):  # a non-numeric timestamp, a non-ASCII signature
            valid = False
        if not valid:
            raise web.HTTPUnauthorized(text="invalid or expired Slack signature")
        seen = f"fluxops:slack:seen:{hashlib.sha256(signature.encode()).hexdigest()}"
        if not await redis.set(seen, "1", nx=True, ex=REPLAY_TTL):
            note_outcome(DUPLICATE, dedupe_hits=1)
            raise web.HTTPUnauthorized(text="this signed request was already received (replay)")
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(request.headers))
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    return slack_events
