"""GET /fleet in headless Chromium against a whole sandbox: fluxops web, worker and beat as the Procfile runs
them, a configuration created through Slack, the page signed in by a one-time link or a proxy's header."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from cli.chat import Chat, Target
from sandbox.stack import CHANNEL, YOU, Stack
from tests.statuspage.browser import Browser, Page
from tests.statuspage.conftest import NO_ROLE

TUTORIAL_URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
#: how long the page may take to show what a worker has just published (a beat interval and a reload)
SHOWS_WITHIN = 90.0


def email(name: str) -> dict[str, str]:
    """What oauth2-proxy adds to each request of a person it signed in."""
    return {"X-Forwarded-Email": f"{name}@sandbox.example"}


async def page_until(page: Page, url: str, shown: str) -> str:
    """Reload ``url`` until its text has ``shown`` (the page shows what workers last published); its text."""
    deadline = time.monotonic() + SHOWS_WITHIN
    while True:
        assert await page.goto(url) == 200
        text = await page.text()
        if shown in text:
            return text
        assert time.monotonic() < deadline, f"{url} never showed {shown!r}; it shows:\n{text}"
        await asyncio.sleep(0.5)


async def test_the_one_time_link_signs_in_once(status_stack: Stack, chromium: Browser) -> None:
    link = await status_stack.signin_url(YOU)
    first = await chromium.page()
    assert await first.goto(link) == 200
    assert await first.evaluate("location.pathname") == "/fleet"
    text = await first.text()
    assert f"Signed in as slack:{YOU}" in text
    for cluster in ("demo-arc", "flux-demo-aks", "legacy-arc"):
        assert cluster in text
    cookie = next(c for c in await first.cookies() if c["name"] == "fluxops_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/fleet"
    assert not cookie["secure"]  # the sandbox serves plain http (FLUXOPS_PUBLIC_URL http://)
    assert cookie["expires"] > time.time()

    again = await chromium.page()
    assert await again.goto(link) == 403
    assert "already used or has expired" in await again.text()
    assert await again.evaluate("document.cookie") == ""
    assert await again.goto(f"{status_stack.web_url}/fleet") == 401


async def test_a_configuration_created_in_slack_shows_its_state(status_stack: Stack, chromium: Browser) -> None:
    chat = Chat(Target(status_stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    assert await asyncio.to_thread(chat.run, "/flux extension create -c demo-arc") == 0
    command = (
        f"/flux config create status-apps -c demo-arc --namespace status-apps -u {TUTORIAL_URL} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true"
    )
    assert await asyncio.to_thread(chat.run, command) == 0

    page = await chromium.page(headers=email("you"))
    await page_until(page, f"{status_stack.web_url}/fleet", "status-apps")
    row = "document.querySelector('[data-config=\"status-apps\"]').parentElement"
    await page_until(page, f"{status_stack.web_url}/fleet", "Compliant")
    compliance = await page.evaluate(f"{row}.querySelector('[data-compliance]').dataset.compliance")
    assert compliance == "Compliant"
    row_text = str(await page.evaluate(f"{row}.innerText"))
    assert "main/" in row_text, "the source revision the cluster applied"
    assert f"by slack:{YOU}" in row_text and "config create status-apps" in row_text, "who made the last change"
    assert await page.evaluate("document.querySelector('meta[http-equiv=refresh]').content") == "30; url=/fleet"
    assert not [line for line in page.logs if "Content Security Policy" in line], page.logs
    # the page's own style is the one the CSP allows by hash: it applies
    assert await page.evaluate("getComputedStyle(document.querySelector('th')).backgroundColor") == "rgb(246, 248, 250)"


async def test_the_selector_filters_clusters(status_stack: Stack, chromium: Browser) -> None:
    page = await chromium.page(headers=email("you"))
    url = f"{status_stack.web_url}/fleet?selector={quote('env=dev')}"
    assert await page.goto(url) == 200
    shown = await page.evaluate("[...document.querySelectorAll('[data-cluster]')].map(e => e.dataset.cluster)")
    assert shown == ["demo-arc"]
    assert await page.evaluate("document.querySelector('input[name=selector]').value") == "env=dev"

    assert await page.goto(f"{status_stack.web_url}/fleet?selector={quote('type=aks')}") == 200
    shown = await page.evaluate("[...document.querySelectorAll('[data-cluster]')].map(e => e.dataset.cluster)")
    assert shown == ["flux-demo-aks"]

    assert await page.goto(f"{status_stack.web_url}/fleet?selector=nonsense") == 200
    assert "takes KEY=VALUE tags" in str(await page.evaluate("document.getElementById('problem').innerText"))


async def test_a_viewer_sees_only_the_clusters_of_their_role(status_stack: Stack, chromium: Browser) -> None:
    page = await chromium.page(headers=email("viewer"))
    assert await page.goto(f"{status_stack.web_url}/fleet") == 200
    shown = await page.evaluate("[...document.querySelectorAll('[data-cluster]')].map(e => e.dataset.cluster)")
    assert shown == ["legacy-arc"]


async def test_a_person_without_a_role_gets_403_saying_what_is_needed(status_stack: Stack, chromium: Browser) -> None:
    page = await chromium.page(headers=email("operator"))
    assert await page.goto(f"{status_stack.web_url}/fleet") == 403
    text = await page.text()
    assert "needs the viewer role" in text and YOU in text, "what role, and who grants it"
    assert "demo-arc" not in text

    stranger = await chromium.page(headers={"X-Forwarded-Email": "mallory@elsewhere.example"})
    assert await stranger.goto(f"{status_stack.web_url}/fleet") == 403
    assert "not a member of the Slack workspace" in await stranger.text()
    assert NO_ROLE not in await stranger.text()
