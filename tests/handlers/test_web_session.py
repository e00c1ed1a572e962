"""Session cookies (signed, expiring) and one-time sign-in links on a real Redis; the proxy header is believed
only when FLUXOPS_TRUSTED_PROXY_HEADER says so."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from bot.settings import Settings
from handlers.app import create_app
from handlers.web_session import COOKIE, SessionCodec, Viewer, issue_signin, redeem_signin
from workers.redis_names import INVENTORY_KEY

SECRET = b"0123456789abcdef0123456789abcdef"
SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


def test_a_cookie_is_signed_and_expires() -> None:
    now = [1000.0]
    codec = SessionCodec(SECRET, max_age=60, clock=lambda: now[0])
    value = codec.encode(Viewer("slack", "U1", "a@example.com"))
    assert codec.decode(value) == Viewer("slack", "U1", "a@example.com")
    body, _, signature = value.partition(".")
    forged = SessionCodec(b"another secret of 32 bytes......", max_age=60, clock=lambda: now[0])
    assert forged.decode(value) is None
    assert codec.decode(body + "." + "0" * len(signature)) is None
    assert codec.decode("garbage") is None and codec.decode(".") is None
    now[0] += 61
    assert codec.decode(value) is None


async def test_a_sign_in_token_works_once_even_when_raced(redis_server: str) -> None:
    client = aioredis.Redis.from_url(redis_server)
    try:
        token = await issue_signin(client, Viewer("slack", "U1"))
        assert not [k async for k in client.scan_iter(match=f"*{token}*")], "Redis keeps the digest, not the token"
        results = await asyncio.gather(*(redeem_signin(client, token) for _ in range(5)))
        assert [r for r in results if r is not None] == [Viewer("slack", "U1")]
        assert await redeem_signin(client, token) is None
        assert await redeem_signin(client, "") is None
    finally:
        await client.aclose()


async def seed_inventory(redis_server: str) -> None:
    ref = ClusterRef(SUB, "rg", ClusterType.MANAGED, "c1")
    client = aioredis.Redis.from_url(redis_server)
    await client.set(INVENTORY_KEY, Inventory([Cluster(ref, "weu", {})]).to_json())
    await client.aclose()


async def test_the_proxy_header_counts_only_when_trusted(aiohttp_client, redis_server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await seed_inventory(redis_server)
    policy = tmp_path / "fluxops.yaml"
    policy.write_text("roles:\n  - role: viewer\n    slack_users: [U1]\n")
    header = {"X-Forwarded-User": "U1"}

    untrusting = await aiohttp_client(create_app(Settings(REDIS_URL=redis_server, FLUXOPS_CONFIG=str(policy))))
    refused = await untrusting.get("/fleet", headers=header)
    assert refused.status == 401
    assert refused.headers["Content-Security-Policy"].startswith("default-src 'none'")

    def behind_proxy_at(cidrs: str) -> Settings:
        return Settings(
            REDIS_URL=redis_server,
            FLUXOPS_CONFIG=str(policy),
            FLUXOPS_TRUSTED_PROXY_HEADER="X-Forwarded-User",
            FLUXOPS_TRUSTED_PROXY_CIDRS=cidrs,
        )

    # the test client connects from 127.0.0.1: not the proxy's address, so the header is anyone's claim
    elsewhere = await aiohttp_client(create_app(behind_proxy_at("10.0.0.0/8, 192.168.7.0/24")))
    spoofed = await elsewhere.get("/fleet", headers=header)
    assert spoofed.status == 401 and "sign in" in await spoofed.text()

    trusting = await aiohttp_client(create_app(behind_proxy_at("10.0.0.0/8,127.0.0.1/32")))
    shown = await trusting.get("/fleet", headers=header)
    assert shown.status == 200 and "c1" in await shown.text()
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["X-Frame-Options"] == "DENY"
    other = await trusting.get("/fleet", headers={"X-Forwarded-User": "U2"})
    assert other.status == 403 and "viewer role" in await other.text()


async def test_a_link_sets_a_secure_http_only_cookie_outside_plain_http(
    aiohttp_client, redis_server: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    await seed_inventory(redis_server)
    policy = tmp_path / "fluxops.yaml"
    policy.write_text("roles:\n  - role: viewer\n    slack_users: [U1]\n")
    settings = Settings(
        REDIS_URL=redis_server,
        FLUXOPS_CONFIG=str(policy),
        FLUXOPS_SESSION_SECRET=SECRET.decode(),
        FLUXOPS_PUBLIC_URL="https://fluxops.example.com",
    )
    client = await aiohttp_client(create_app(settings))
    redis = aioredis.Redis.from_url(redis_server)
    token = await issue_signin(redis, Viewer("slack", "U1"))
    await redis.aclose()
    answer = await client.get(f"/fleet/signin?token={token}", allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/fleet"
    cookie = answer.cookies[COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/fleet"
    assert int(cookie["max-age"]) == settings.session_max_age


def test_a_short_session_secret_is_refused(redis_server: str) -> None:
    from bot.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="FLUXOPS_SESSION_SECRET"):
        create_app(Settings(REDIS_URL=redis_server, FLUXOPS_SESSION_SECRET="short"))
    with pytest.raises(ConfigurationError, match="FLUXOPS_TRUSTED_PROXY_HEADER"):
        create_app(
            Settings(
                REDIS_URL=redis_server, FLUXOPS_TRUSTED_PROXY_HEADER="X-Real-Ip", FLUXOPS_TRUSTED_PROXY_CIDRS="::1"
            )
        )
    with pytest.raises(ConfigurationError, match="without FLUXOPS_TRUSTED_PROXY_CIDRS"):
        create_app(Settings(REDIS_URL=redis_server, FLUXOPS_TRUSTED_PROXY_HEADER="X-Forwarded-User"))
    with pytest.raises(ConfigurationError, match=r"'10\.0\.0\.300/8', not a CIDR"):
        Settings(FLUXOPS_TRUSTED_PROXY_CIDRS="10.0.0.300/8").trusted_proxy_networks()
    networks = Settings(FLUXOPS_TRUSTED_PROXY_CIDRS=" 10.1.2.3/8 , ::1 ").trusted_proxy_networks()
    assert [str(n) for n in networks] == ["10.0.0.0/8", "::1/128"]
