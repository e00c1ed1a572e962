"""The web process: health, readiness against a real Redis, metrics, and the receiver-secret guard."""

from __future__ import annotations

import pytest

from bot.errors import ConfigurationError
from bot.settings import Settings
from handlers.app import check_receiver_secrets, create_app
from tests.redis_server import free_port


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the process environment too: these tests must see only what they pass."""
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


async def test_health_ready_and_metrics(aiohttp_client, redis_server: str):
    client = await aiohttp_client(create_app(Settings(REDIS_URL=redis_server)))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"
    text = await (await client.get("/metrics")).text()
    assert 'fluxops_http_requests_total{method="GET",route="/healthz",status="200"} 1' in text
    assert 'fluxops_http_request_seconds_count{route="/readyz"} 1' in text


async def test_other_paths_and_methods_are_answered_as_aiohttp_would_and_counted_unmatched(
    aiohttp_client, redis_server: str
):
    client = await aiohttp_client(create_app(Settings(REDIS_URL=redis_server)))
    missing = await client.get("/no/such/page")
    assert missing.status == 404
    wrong = await client.post("/healthz")
    assert wrong.status == 405 and set(wrong.headers["Allow"].split(",")) == {"GET", "HEAD"}
    head = await client.head("/healthz")
    assert head.status == 200
    text = await (await client.get("/metrics")).text()
    assert 'fluxops_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'fluxops_http_requests_total{method="POST",route="unmatched",status="405"} 1.0' in text
    assert 'fluxops_http_requests_total{method="HEAD",route="/healthz",status="200"} 1.0' in text


async def test_not_ready_without_redis(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")))
    response = await client.get("/readyz")
    assert response.status == 503 and (await response.json())["failing"] == {"redis": "ConnectionError"}


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SLACK_BOT_TOKEN": "x"}, "SLACK_SIGNING_SECRET"),
        ({"GITHUB_TOKEN": "x"}, "GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_APP_ID": "1"}, "GITHUB_WEBHOOK_SECRET"),
        ({"ADO_ORG_URL": "https://dev.azure.com/o"}, "ADO_WEBHOOK_PASSWORD"),
        ({"ADO_WEBHOOK_USERNAME": "u"}, "ADO_WEBHOOK_PASSWORD"),
    ],
)
def test_refuses_a_receiver_without_its_secret(env: dict[str, str], needle: str):
    with pytest.raises(ConfigurationError) as caught:
        check_receiver_secrets(Settings(**env))
    assert needle in caught.value.message and "refusing to start" in caught.value.message


def test_receivers_with_secrets_start():
    check_receiver_secrets(
        Settings(
            SLACK_BOT_TOKEN="x", SLACK_SIGNING_SECRET="s", GITHUB_TOKEN="t", GITHUB_WEBHOOK_SECRET="w",
            ADO_ORG_URL="https://dev.azure.com/o", ADO_WEBHOOK_USERNAME="u", ADO_WEBHOOK_PASSWORD="p",
        )
    )  # fmt: skip


def test_settings_never_print_secrets():
    settings = Settings(SLACK_SIGNING_SECRET="very-secret-value", AZURE_SUBSCRIPTION_IDS="a, b,,c")
    assert "very-secret-value" not in repr(settings) and "very-secret-value" not in str(settings.model_dump())
    assert settings.azure_subscription_ids == ["a", "b", "c"]


@pytest.mark.parametrize("installed", [True, False])
def test_the_event_loop_is_uvloops_when_installed_unless_turned_off(monkeypatch: pytest.MonkeyPatch, installed: bool):
    import asyncio
    import importlib

    from handlers import web

    class FakeUvloop:
        @staticmethod
        def new_event_loop() -> asyncio.AbstractEventLoop:
            loop = asyncio.new_event_loop()
            loop.made_by = "uvloop"  # type: ignore[attr-defined]
            return loop

    def import_module(name: str) -> object:
        if name != "uvloop" or not installed:
            raise ImportError(name)
        return FakeUvloop

    monkeypatch.setattr(importlib, "import_module", import_module)
    loops = {choice: web.new_event_loop(choice) for choice in ("auto", "asyncio")}
    assert getattr(loops["auto"], "made_by", "asyncio") == ("uvloop" if installed else "asyncio")
    assert not hasattr(loops["asyncio"], "made_by")
    if installed:
        loops["uvloop"] = web.new_event_loop("uvloop")
        assert getattr(loops["uvloop"], "made_by", "") == "uvloop"
    else:
        with pytest.raises(ConfigurationError, match="uvloop is not installed"):
            web.new_event_loop("uvloop")
    for loop in loops.values():
        loop.close()
