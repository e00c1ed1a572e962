"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol, through aiohttp's WebSocket client.

A small client, enough for the status page tests: each ``page()`` is a new browser context (its own cookies, as
a different person's browser), optionally with extra request headers (what a sign-in proxy adds); ``goto``
navigates and waits for the load event, returning the main document's HTTP status; ``html`` and ``evaluate``
read the DOM; console messages and log entries (a CSP violation is one) are collected.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")
#: how long one protocol call or a page load may take before the test fails saying which
CALL_TIMEOUT = 60.0


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    browser: Browser
    session: str
    target: str
    logs: list[str] = field(default_factory=list)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.call(method, params, session=self.session)

    async def goto(self, url: str) -> int:
        """Load ``url`` (following redirects); the final document's HTTP status."""
        statuses: list[int] = []
        loaded = asyncio.Event()

        def on_event(message: dict[str, Any]) -> None:
            if message.get("sessionId") != self.session:
                return
            method, params = message.get("method"), message.get("params") or {}
            if method == "Network.responseReceived" and params.get("type") == "Document":
                statuses.append(int(params["response"]["status"]))
            elif method == "Page.loadEventFired":
                loaded.set()

        self.browser.listeners.append(on_event)
        try:
            await self.call("Page.navigate", {"url": url})
            await asyncio.wait_for(loaded.wait(), CALL_TIMEOUT)
        finally:
            self.browser.listeners.remove(on_event)
        assert statuses, f"no document response for {url}"
        return statuses[-1]

    async def evaluate(self, expression: str) -> Any:
        answer = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return answer["result"].get("value")

    async def html(self) -> str:
        return str(await self.evaluate("document.documentElement.outerHTML"))

    async def text(self) -> str:
        return str(await self.evaluate("document.body.innerText"))

    async def cookies(self) -> list[dict[str, Any]]:
        answer = await self.call("Network.getCookies")
        return list(answer.get("cookies", []))


class Browser:
    def __init__(self) -> None:
        self.listeners: list[Any] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._profile = tempfile.mkdtemp(prefix="fluxops-chromium-")

    async def start(self) -> None:
        binary = chromium_path()
        assert binary is not None, "chromium is not installed (scripts/bootstrap installs it)"
        args = [
            binary,
            "--headless=new",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self._process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        assert self._process.stderr is not None
        url = await asyncio.wait_for(self._devtools_url(self._process.stderr), CALL_TIMEOUT)
        self._session = aiohttp.ClientSession()
        self._socket = await self._session.ws_connect(url, max_msg_size=64 * 1024 * 1024)
        self._reader = asyncio.create_task(self._read())

    @staticmethod
    async def _devtools_url(stderr: asyncio.StreamReader) -> str:
        while True:
            line = await stderr.readline()
            if not line:
                raise RuntimeError("chromium exited before it opened its DevTools port")
            found = DEVTOOLS.search(line.decode(errors="replace"))
            if found:
                return found.group(1)

    async def _read(self) -> None:
        assert self._socket is not None
        async for frame in self._socket:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            if "id" in message:
                waiter = self._waiting.pop(int(message["id"]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
                continue
            for listener in list(self.listeners):
                listener(message)

    async def call(self, method: str, params: dict[str, Any] | None = None, *, session: str = "") -> dict[str, Any]:
        assert self._socket is not None
        call_id = next(self._ids)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = waiter
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self._socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(waiter, CALL_TIMEOUT)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def page(self, *, headers: dict[str, str] | None = None) -> Page:
        """A tab in a new browser context: no cookies from other pages."""
        context = (await self.call("Target.createBrowserContext"))["browserContextId"]
        target = (await self.call("Target.createTarget", {"url": "about:blank", "browserContextId": context}))[
            "targetId"
        ]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session, target)

        def collect(message: dict[str, Any]) -> None:
            if message.get("sessionId") != session:
                return
            params = message.get("params") or {}
            if message.get("method") == "Log.entryAdded":
                page.logs.append(str(params.get("entry", {}).get("text", "")))
            elif message.get("method") == "Runtime.consoleAPICalled":
                page.logs.append(" ".join(str(a.get("value", "")) for a in params.get("args", [])))
            elif message.get("method") == "Runtime.exceptionThrown":
                page.logs.append(str(params.get("exceptionDetails", {}).get("text", "")))

        self.listeners.append(collect)
        for domain in ("Page", "Network", "Runtime", "Log"):
            await page.call(f"{domain}.enable")
        if headers:
            await page.call("Network.setExtraHTTPHeaders", {"headers": headers})
        return page

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 15)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    running = Browser()
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
