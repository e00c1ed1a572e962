"""``FakeSlack``: the workspace, the Web API, response URLs and the control routes in one aiohttp app.

Point slack_sdk at ``f"{fake.base_url}api/"`` and the fake at the app's ``POST /slack/events``
(``fake.request_url``); then ``POST /_sandbox/command`` types a slash command and
``GET /_sandbox/messages`` shows what the bot said.
"""

from __future__ import annotations

from aiohttp import web

from bot.models import Secret
from sandbox.slack.control import DEFAULT_CHANNEL, DEFAULT_USER, Control
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.response_url import ResponseUrls
from sandbox.slack.state import BotIdentity, Workspace
from sandbox.slack.web_api import WebApi

#: Slack's request size limit for Web API calls is generous; this only stops runaway bodies
MAX_BODY = 4 * 1024 * 1024
BOT = BotIdentity(user_id="U0FLUXOPS", bot_id="B0FLUXOPS", app_id="A0FLUXOPS", name="fluxops")


class FakeSlack:
    """A Slack workspace with the fluxops app installed, served over plain HTTP.

    ``users`` maps user ids to names, ``usergroups`` user-group ids (``S...``) to member ids, ``channels``
    channel ids to names. ``rate_limits`` turns on Slack's per-method limits (HTTP 429 + Retry-After).
    """

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str,
        request_url: str | None = None,
        users: dict[str, str] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        team_id: str = "T0SANDBOX",
        rate_limits: bool = False,
        channels: dict[str, str] | None = None,
        team_domain: str = "sandbox",
    ) -> None:
        self._bot_token = Secret(bot_token)
        self._signing_secret = Secret(signing_secret)
        #: the app's POST /slack/events URL, where commands and button presses are sent
        self.request_url = request_url
        #: "http://host:port/" once served; set by whoever starts the app (``start`` does it itself)
        self.base_url = ""
        #: how long Slack waits for the app to acknowledge a command or press
        self.ack_timeout = 3.0
        self.state = Workspace(
            team_id=team_id,
            team_domain=team_domain,
            bot=BOT,
            users=users if users is not None else {DEFAULT_USER: "sandbox-user"},
            usergroups=usergroups or {},
            channels=channels if channels is not None else {DEFAULT_CHANNEL: "sandbox"},
        )
        self.limiter = RateLimiter(enabled=rate_limits)
        self.web_api = WebApi(state=self.state, bot_token=self._bot_token.reveal, limiter=self.limiter)
        self.responses = ResponseUrls(state=self.state)
        self.control = Control(state=self.state, host=self, signing_secret=self._signing_secret)
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"FakeSlack(team_id={self.state.team_id!r}, base_url={self.base_url!r})"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.web_api.add_routes(app)
        self.responses.add_routes(app)
        self.control.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns and sets ``base_url``."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give slack_sdk's WebClient."""
        return self.base_url.rstrip("/") + "/api/"
