"""Talking to the sandbox's fake GitHub and Azure DevOps the way a person with a browser would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import Stack

T = TypeVar("T")


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float = 90.0,
    every: float = 0.3,
    seen: Callable[[], object] | None = None,
) -> T:
    """Poll ``probe`` until it returns something truthy; fail saying what never happened (and, with
    ``seen``, what there was instead)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            instead = f"; instead: {seen()!r}" if seen is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{instead}")
        time.sleep(every)


def github(stack: Stack, method: str, path: str, **json_body: Any) -> Any:
    """A control route of the fake GitHub; GET lists come unwrapped (``{"statuses": [...]}`` -> the list)."""
    url = f"{stack.github_url}_sandbox/{path}"
    if method == "GET":
        response = requests.get(url, params=json_body, timeout=30)
    else:
        response = requests.post(url, json=json_body, timeout=60)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    data = response.json()
    return data.get(path.replace("-", "_"), data.get(path, data)) if method == "GET" else data


def set_receiver(stack: Stack, enabled: bool, repository: str | None = None) -> None:
    """Turn the simulated Flux's push Receiver for ``repository`` (None: every repository) on or off."""
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    response = requests.put(
        f"{endpoints.arm_url}/_sandbox/receivers",
        json={"enabled": enabled, "repository": repository},
        verify=str(endpoints.ca_file),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def push(
    stack: Stack, repo: str, branch: str, files: dict[str, str | None], *, receiver: bool = True, **extra: Any
) -> Any:
    """Push to the fake GitHub. ``receiver=False``: the push lands without nudging the simulated Flux (as with
    no notification-controller Receiver), so only its interval or ``/flux reconcile`` fetches it."""
    url = f"https://github.com/{repo}"
    if receiver:
        return github(stack, "POST", "push", repo=repo, branch=branch, files=files, **extra)
    set_receiver(stack, False, url)
    try:
        return github(stack, "POST", "push", repo=repo, branch=branch, files=files, **extra)
    finally:
        set_receiver(stack, True, url)


def ado(stack: Stack, method: str, path: str, **json_body: Any) -> Any:
    url = f"{stack.ado_url}_sandbox/{path}"
    if method == "GET":
        response = requests.get(url, params=json_body, timeout=30)
    else:
        response = requests.post(url, json=json_body, timeout=60)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def channel_text_with(chat: Chat, needle: str) -> list[str]:
    """The channel messages (as people read them) that mention ``needle``."""
    _, messages = chat.messages(0, 0)
    texts = [blocks_to_text(m.get("blocks") or [], fallback=str(m.get("text") or "")) for m in messages]
    return [t for t in texts if needle in t]


def final_states(statuses: list[dict[str, Any]], key: str = "state") -> dict[str, list[str]]:
    """Context -> its states, oldest first."""
    found: dict[str, list[str]] = {}
    for status in sorted(statuses, key=lambda s: s["id"]):
        found.setdefault(status["context"], []).append(status[key])
    return found
