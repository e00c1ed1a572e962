"""``GET /fleet``: the fleet status page; ``GET /fleet/signin?token=``: a one-time sign-in link.

Read -> identify -> authorize -> render: the viewer comes from the proxy header (believed only from a direct
peer inside FLUXOPS_TRUSTED_PROXY_CIDRS) or the session cookie (handlers/web_session.py); the policy's viewer
role on a cluster shows it (as `/flux clusters` does), and a person with no role anywhere gets 403 with the
role needed and who grants it; the data is what the workers publish to Redis (handlers/fleet_reads.py),
rendered by handlers/fleet_html.py. Nothing here calls ARM; the page is built and rendered on the default
thread pool (a fleet of 1,000 clusters costs tens of milliseconds of CPU, which the event loop serving
webhooks should not wait on).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web

from bot.commands import Role
from bot.errors import FluxopsError
from bot.grammar.clusters_and_audit import selector as parse_selector
from bot.policy import Identity, Policy
from bot.status_page import build_page
from bot.usage import UsageError
from handlers.fleet_html import SECURITY_HEADERS, fleet_page, message_page
from handlers.fleet_reads import FleetReads
from handlers.request_scope import Routes
from handlers.slack_directory import SlackDirectory
from handlers.web_session import COOKIE, SessionCodec, Viewer, redeem_signin

log = logging.getLogger(__name__)
#: the proxy headers fluxops knows how to read
EMAIL_HEADER = "x-forwarded-email"
USER_HEADER = "x-forwarded-user"
#: longest header value or selector taken (an email is at most 254 characters)
MAX_VALUE = 512


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)


@dataclass
class FleetPageRoutes:
    reads: FleetReads
    policy: Policy
    codec: SessionCodec | None
    #: FLUXOPS_TRUSTED_PROXY_HEADER, lowercase; None: no proxy header is believed
    proxy_header: str | None
    secure_cookies: bool
    directory: SlackDirectory | None
    clock: Callable[[], float] = time.time
    #: FLUXOPS_TRUSTED_PROXY_CIDRS: the direct peers the proxy header is believed from
    proxy_networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def add_to(self, routes: Routes) -> None:
        routes.get("/fleet", self.fleet)
        routes.get("/fleet/signin", self.signin)

    # -- who ------------------------------------------------------------------------------------

    async def _from_proxy(self, value: str) -> Viewer | None:
        """The viewer the proxy names; a Viewer with no user id (platform "none") when Slack knows no one."""
        if self.proxy_header == USER_HEADER:
            return Viewer("slack", value)
        if self.directory is None:
            raise FluxopsError(
                "fluxops cannot turn the proxy's email into a Slack user without Slack",
                recommendation="set SLACK_BOT_TOKEN (scope users:read.email), or have the proxy send X-Forwarded-User",
            )
        user = await self.directory.user_by_email(value)
        return Viewer("slack", user, value) if user else Viewer("none", value, value)

    def _from_proxy_address(self, remote: str | None) -> bool:
        """Whether the direct peer (aiohttp's ``request.remote``, not a forwarded address) is the proxy."""
        try:
            address = ip_address(remote or "")
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.proxy_networks)

    async def viewer(self, request: web.Request) -> Viewer | None:
        if self.proxy_header is not None and self._from_proxy_address(request.remote):
            value = request.headers.get(self.proxy_header, "").strip()
            if value and len(value) <= MAX_VALUE:
                return await self._from_proxy(value)
        cookie = request.cookies.get(COOKIE)
        if cookie and self.codec is not None and len(cookie) <= 4096:
            return self.codec.decode(cookie)
        return None

    async def identity(self, viewer: Viewer) -> Identity:
        groups: frozenset[str] = frozenset()
        if viewer.platform == "slack" and self.directory is not None:
            try:
                groups = await self.directory.groups_of(viewer.user)
            except FluxopsError:
                log.warning("Slack did not say who is in the policy's groups; roles given through groups not seen")
        return Identity(viewer.platform, viewer.user, groups)

    # -- routes -----------------------------------------------------------------------------------

    async def fleet(self, request: web.Request) -> web.Response:
        try:
            viewer = await self.viewer(request)
        except FluxopsError as error:
            return html(message_page("fluxops: cannot tell who you are", [error.message, error.recommendation]), 503)
        if viewer is None:
            return html(message_page("fluxops: sign in", self._how_to_sign_in()), 401)
        identity = await self.identity(viewer)
        inventory = await self.reads.inventory()
        if inventory is None:
            text = ["fluxops has not listed the clusters yet: a worker publishes them when it starts. Try again soon."]
            return html(message_page("fluxops: no clusters yet", text), 503)
        visible = self.policy.visible(identity, inventory.all())
        if not visible and self.policy.role_anywhere(identity) is None:
            return html(message_page("fluxops: no access", self._refusal(viewer)), 403)
        problem = ""
        wanted: tuple[tuple[str, str], ...] = ()
        typed = request.query.get("selector", "").strip()[:MAX_VALUE]
        if typed:
            try:
                wanted = parse_selector([typed], flag="selector")
            except UsageError as error:
                problem = f"{error.message.replace('`', '')} Showing every cluster instead."
        snapshot, claims, runs, keys, audit = await asyncio.gather(
            self.reads.snapshot(),
            self.reads.claims(visible),
            self.reads.runs_in_flight(),
            self.reads.deploy_keys(),
            self.reads.audit(),
        )
        build = partial(
            build_page,
            viewer=viewer.label,
            visible=visible,
            selector=wanted,
            snapshot=snapshot,
            claims=claims,
            runs=runs,
            keys=keys,
            audit=audit,
            now=self.clock(),
        )
        body = await asyncio.get_running_loop().run_in_executor(None, lambda: fleet_page(build(), problem=problem))
        return html(body)

    async def signin(self, request: web.Request) -> web.Response:
        if self.codec is None:
            text = ["Sign-in links are off: this fluxops has no FLUXOPS_SESSION_SECRET."]
            return html(message_page("fluxops: sign-in is off", text), 404)
        viewer = await redeem_signin(self.reads.redis, request.query.get("token", ""))
        if viewer is None:
            text = [
                "This sign-in link was already used or has expired: each link signs in once.",
                *self._how_to_sign_in(),
            ]
            return html(message_page("fluxops: sign-in link used or expired", text), 403)
        response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": "/fleet"})
        response.set_cookie(
            COOKIE,
            self.codec.encode(viewer),
            max_age=self.codec.max_age,
            path="/fleet",
            httponly=True,
            secure=self.secure_cookies,
            samesite="Lax",
        )
        log.info("status page: %s signed in with a one-time link", viewer.label)
        return response

    # -- texts ------------------------------------------------------------------------------------

    def _how_to_sign_in(self) -> list[str]:
        ways = []
        if self.proxy_header is not None:
            ways.append("Open this page through the organisation's sign-in proxy.")
        if self.codec is not None:
            ways.append("Open a one-time sign-in link (`fluxops sandbox up` prints one for the sandbox).")
        if not ways:
            ways.append(
                "This fluxops has no way to sign in configured: an admin sets FLUXOPS_TRUSTED_PROXY_HEADER behind a "
                "sign-in proxy, or FLUXOPS_SESSION_SECRET for sign-in links."
            )
        return ways

    def _refusal(self, viewer: Viewer) -> list[str]:
        if viewer.platform == "none":
            who = f"{viewer.label} is not a member of the Slack workspace fluxops answers in, so it has no role."
        else:
            who = f"{viewer.label} has no role in fluxops."
        admins = self.policy.people_with(Role.ADMIN)
        granted_by = (
            "a fluxops admin (Slack " + ", ".join(admins) + ")" if admins else "whoever maintains fluxops' policy"
        )
        return [
            who,
            "The fleet page needs the viewer role (or operator or admin) on at least one cluster.",
            f"Roles are granted by {granted_by}: they add your Slack user id under `slack_users` of a `roles:` rule "
            "in FLUXOPS_CONFIG.",
        ]
