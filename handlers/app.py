"""Composition root of the web process: settings in, aiohttp application out.

Receivers (Slack, GitHub, Azure DevOps) mount here as their issues land; each follows
verify -> normalize -> parse -> enqueue -> ack.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp import web

from bot.config_file import read_config_file
from bot.errors import ConfigurationError
from bot.policy import Policy
from bot.settings import Settings
from handlers.health import add_health_routes
from handlers.metrics import Metrics

REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)


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


def create_app(settings: Settings) -> web.Application:
    check_receiver_secrets(settings)
    metrics = Metrics()
    app = web.Application(middlewares=[metrics.middleware], client_max_size=1024 * 1024)
    client = aioredis.Redis.from_url(settings.redis_url)
    app[REDIS_KEY] = client

    async def redis_ready() -> None:
        await client.ping()

    async def close_redis(app: web.Application) -> None:
        await client.aclose()

    app.on_cleanup.append(close_redis)
    add_health_routes(app, metrics=metrics, ready_checks={"redis": redis_ready})
    if settings.slack_signing_secret is not None:
        _add_slack(app, settings, client)
    return app


def load_policy(settings: Settings) -> Policy:
    """The policy of FLUXOPS_CONFIG; without that file nobody may run anything but help."""
    config = read_config_file(settings.fluxops_config)
    return Policy.empty() if config is None else Policy(config)


def _add_slack(app: web.Application, settings: Settings, client: aioredis.Redis) -> None:
    from handlers.enqueue import JobQueue
    from handlers.slack import SlackIntake, build_bolt, slack_route
    from workers.celery_app import app as celery_app

    assert settings.slack_signing_secret is not None
    secret = settings.slack_signing_secret.get_secret_value()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    intake = SlackIntake(queue=JobQueue(redis=client, celery=celery_app), redis=client, policy=load_policy(settings))
    bolt = build_bolt(signing_secret=secret, token=token, api_url=settings.slack_api_url, intake=intake)
    app.router.add_post("/slack/events", slack_route(bolt=bolt, signing_secret=secret, redis=client))
