"""Composition root of the web process: settings in, aiohttp application out.

Receivers mount here when their secret is set: Slack at /slack/events, GitHub at /webhooks/github,
Azure DevOps at /webhooks/azure-devops; each follows verify -> normalize -> parse -> enqueue -> ack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from aiohttp import web

from bot.config_file import FluxopsConfig, read_config_file
from bot.errors import ConfigurationError
from bot.policy import Policy
from bot.settings import Settings
from handlers.health import add_health_routes
from handlers.metrics import Metrics
from handlers.request_scope import Routes

if TYPE_CHECKING:
    from handlers.authority import EdgeAuthority
    from workers.job_queue import JobQueue

REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
ROUTES_KEY: web.AppKey[Routes] = web.AppKey("routes", Routes)
#: the Slack deliveries counted by kind (handlers/metrics.py)
SLACK_EVENTS = frozenset({"command", "interaction"})


def check_receiver_secrets(settings: Settings) -> None:
    """Refuse to run a receiver that could not verify what it receives."""
    problems = []
    if settings.slack_bot_token is not None and settings.slack_signing_secret is None:
        problems.append("Slack is enabled (SLACK_BOT_TOKEN is set) but SLACK_SIGNING_SECRET is not")
    if (settings.github_token is not None or settings.github_app_id) and settings.github_webhook_secret is None:
        problems.append("GitHub is enabled (GITHUB_TOKEN or GITHUB_APP_ID is set) but GITHUB_WEBHOOK_SECRET is not")
    if (settings.ado_org_url or settings.ado_webhook_username) and (
        settings.ado_webhook_username is None or settings.ado_webhook_password is None
    ):
        problems.append(
            "Azure DevOps is enabled (ADO_ORG_URL or ADO_WEBHOOK_USERNAME is set) but "
            "ADO_WEBHOOK_USERNAME and ADO_WEBHOOK_PASSWORD are not both set"
        )
    if problems:
        raise ConfigurationError(
            "refusing to start the web process: " + "; ".join(problems),
            recommendation="set the missing secret, or unset the receiver's other settings to turn it off",
        )


#: seconds the web process waits for Redis before the request fails (and the sender retries)
REDIS_TIMEOUT = 5.0


def create_app(settings: Settings) -> web.Application:
    check_receiver_secrets(settings)
    config = read_config_file(settings.fluxops_config)  # read once, shared by every receiver
    metrics = Metrics()
    # client_max_size bounds request.read(); the receivers read their bodies themselves, each with its own cap
    app = web.Application(client_max_size=1024 * 1024)
    # a dead connection (a failover, a dropped TCP session) must fail its requests with a 5xx, not hang them
    client = aioredis.Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_keepalive=True,
        health_check_interval=30,
    )
    app[REDIS_KEY] = client
    app[METRICS_KEY] = metrics
    routes = app[ROUTES_KEY] = Routes(app, metrics)

    async def redis_ready() -> None:
        await client.ping()

    async def close_redis(app: web.Application) -> None:
        await client.aclose()

    app.on_cleanup.append(close_redis)
    add_health_routes(routes, metrics=metrics, ready_checks={"redis": redis_ready})
    queue = _job_queue(client, settings)  # one queue (and Celery app, for its messages) for every receiver
    if settings.slack_signing_secret is not None:
        _add_slack(app, settings, client, queue, policy_of(config))
    _add_fleet_page(app, settings, client, policy_of(config))
    if settings.github_webhook_secret is not None:
        _add_github(app, settings, client, queue, config)
    if settings.ado_webhook_username is not None and settings.ado_webhook_password is not None:
        _add_azure_devops(app, settings, client, queue, config)
    routes.finish()
    return app


def _routes(app: web.Application) -> Routes:
    return app[ROUTES_KEY]


def policy_of(config: FluxopsConfig | None) -> Policy:
    """The policy of FLUXOPS_CONFIG; without that file nobody may run anything but help."""
    return Policy.empty() if config is None else Policy(config)


def load_policy(settings: Settings) -> Policy:
    """The policy of the FLUXOPS_CONFIG file ``settings`` names."""
    return policy_of(read_config_file(settings.fluxops_config))


def _job_queue(client: aioredis.Redis, settings: Settings) -> JobQueue:
    from workers.celery_app import make_celery
    from workers.job_queue import JobQueue, QueueCalls

    return JobQueue(redis=client, calls=QueueCalls(celery=make_celery(settings, current=False)))


def _authority(client: aioredis.Redis, settings: Settings, policy: Policy) -> EdgeAuthority:
    from handlers.authority import EdgeAuthority

    return EdgeAuthority(redis=client, policy=policy, rate_limit=settings.rate_limit)


def _add_slack(
    app: web.Application, settings: Settings, client: aioredis.Redis, queue: JobQueue, policy: Policy
) -> None:
    from handlers.slack import SlackIntake, build_bolt, slack_route

    assert settings.slack_signing_secret is not None
    secret = settings.slack_signing_secret.get_secret_value()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    intake = SlackIntake(
        queue=queue,
        redis=client,
        policy=policy,
        authority=_authority(client, settings, policy),
        allowed_teams=settings.slack_allowed_teams,
    )
    bolt = build_bolt(signing_secret=secret, token=token, api_url=settings.slack_api_url, intake=intake)
    route = slack_route(bolt=bolt, signing_secret=secret, redis=client)
    _routes(app).post("/slack/events", route, source="slack", events=SLACK_EVENTS)


def _add_fleet_page(app: web.Application, settings: Settings, client: aioredis.Redis, policy: Policy) -> None:
    """GET /fleet, the status page (and its one-time sign-in links when FLUXOPS_SESSION_SECRET is set)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.fleet_page import FleetPageRoutes
    from handlers.fleet_reads import FleetReads
    from handlers.slack_directory import SlackDirectory
    from handlers.web_session import SessionCodec, secure_cookies

    secret = settings.session_secret.get_secret_value() if settings.session_secret is not None else None
    if secret is not None and len(secret.encode()) < 16:
        raise ConfigurationError(
            "refusing to start the web process: FLUXOPS_SESSION_SECRET is shorter than 16 bytes",
            recommendation="set it to a long random value (python -c 'import secrets; print(secrets.token_hex(32))')",
        )
    directory = None
    if settings.slack_bot_token is not None:
        slack = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
        directory = SlackDirectory(
            client=slack, groups=policy.groups_referenced("slack"), allowed_teams=settings.slack_allowed_teams
        )
    header = settings.trusted_proxy_header.strip().lower() if settings.trusted_proxy_header else None
    if header not in (None, "x-forwarded-email", "x-forwarded-user"):
        raise ConfigurationError(
            f"refusing to start the web process: FLUXOPS_TRUSTED_PROXY_HEADER is {settings.trusted_proxy_header!r}",
            recommendation="set it to X-Forwarded-Email or X-Forwarded-User (as oauth2-proxy sends them), or unset it",
        )
    networks = settings.trusted_proxy_networks()
    FleetPageRoutes(
        reads=FleetReads(redis=client),
        policy=policy,
        codec=SessionCodec(secret.encode(), max_age=settings.session_max_age) if secret is not None else None,
        proxy_header=header,
        proxy_networks=networks,
        secure_cookies=secure_cookies(settings.public_url),
        directory=directory,
    ).add_to(_routes(app))


def _non_empty(value: str, name: str) -> str:
    """An empty webhook secret would let anyone through: refuse it like a missing one."""
    if not value.strip():
        raise ConfigurationError(
            f"refusing to start the web process: {name} is set but empty",
            recommendation=f"set {name} to the secret configured on the webhook, or unset it to turn the receiver off",
        )
    return value


def _add_github(
    app: web.Application, settings: Settings, client: aioredis.Redis, queue: JobQueue, config: FluxopsConfig | None
) -> None:
    from handlers.git_intake import GitIntake
    from handlers.github import EVENTS, github_route

    assert settings.github_webhook_secret is not None
    secret = _non_empty(settings.github_webhook_secret.get_secret_value(), "GITHUB_WEBHOOK_SECRET")
    intake = GitIntake(
        queue=queue,
        platform="github",
        config=config,
        authority=_authority(client, settings, policy_of(config)),
        comment_max_age=settings.comment_max_age,
    )
    route = github_route(secret=secret, intake=intake)
    _routes(app).post("/webhooks/github", route, source="github", events=EVENTS)


def _add_azure_devops(
    app: web.Application, settings: Settings, client: aioredis.Redis, queue: JobQueue, config: FluxopsConfig | None
) -> None:
    from handlers.azure_devops import EVENTS, PLATFORM, azure_devops_route
    from handlers.git_intake import GitIntake

    assert settings.ado_webhook_username is not None
    assert settings.ado_webhook_password is not None
    intake = GitIntake(
        queue=queue,
        platform=PLATFORM,
        config=config,
        authority=_authority(client, settings, policy_of(config)),
        comment_max_age=settings.comment_max_age,
    )
    route = azure_devops_route(
        username=_non_empty(settings.ado_webhook_username, "ADO_WEBHOOK_USERNAME"),
        password=_non_empty(settings.ado_webhook_password.get_secret_value(), "ADO_WEBHOOK_PASSWORD"),
        intake=intake,
    )
    _routes(app).post("/webhooks/azure-devops", route, source=PLATFORM, events=EVENTS)
