"""Refused and ignored input on both Git receivers: a 4xx or a 202 "ignored", never a 5xx, nothing enqueued.

Each case is one request as an attacker, a misconfigured sender or an uninteresting event would send it.
After it the Redis database must hold no job, no dedupe key and no queue message (the stale-duplicate
cases seed a dedupe key first and check it is all there is).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers.azure_devops import MAX_BODY as ADO_MAX
from handlers.github import MAX_BODY as GITHUB_MAX
from tests.handlers.test_ado_webhook import pr as documented_pr
from tests.handlers.test_ado_webhook import pr_comment as documented_comment
from tests.handlers.test_ado_webhook import push as documented_push
from tests.handlers.test_github_webhook import (
    ADO_FLEET,
    ADO_OTHER,
    ADO_PASSWORD,
    ADO_USER,
    FLEET,
    GITHUB_SECRET,
    HOOK_ID,
    OTHER,
    Hooks,
    basic,
    clean_environment,
    encode,
    github_headers,
    sign,
    start_hooks,
)
from tests.handlers.test_github_webhook import comment as published_comment
from tests.handlers.test_github_webhook import pr as published_pr
from tests.handlers.test_github_webhook import push as published_push
from tests.handlers.test_github_webhook import review as published_review

GITHUB, ADO = "/webhooks/github", "/webhooks/azure-devops"
SUBSCRIPTION = "0b4c0b4c-1111-2222-3333-444455556666"
SHA_A, SHA_B = "a" * 40, "b" * 40
ZERO = "0" * 40
FIXED_DELIVERY = "11111111-2222-3333-4444-555555555555"


@dataclass
class Case:
    path: str
    body: bytes
    headers: dict[str, str]
    expect: int
    chunked_bytes: int = 0  # > 0: send this many bytes as a chunked body instead of ``body``
    seed_dedupe: str = ""  # a dedupe key that exists before the request (a stale duplicate)
    reason: str = ""  # a word the refusal or the "ignored" reason must contain


# -- GitHub requests -------------------------------------------------------------------------------------


# GitHub's published examples (tests/github_examples.py) through the builders of test_github_webhook.py


def gh_repo(full_name: str = FLEET) -> dict[str, Any]:
    repository: dict[str, Any] = published_push(full_name=full_name)["repository"]
    return repository


def gh_push(ref: str = "refs/heads/main", after: str = SHA_B) -> dict[str, Any]:
    payload = published_push(ref)
    payload["after"] = after
    if after == ZERO:  # GitHub's push of a deleted branch carries no commits
        payload.update(commits=[], head_commit=None)
    return payload


def gh_comment(
    body: str = "/flux apply", *, author: str = "carol", is_pull_request: bool = True, action: str = "created"
) -> dict[str, Any]:
    payload = published_comment(body, comment_id=5, author=author)
    payload["action"] = action
    if not is_pull_request:
        del payload["issue"]["pull_request"]  # the published comment as it is: on an issue
    return payload


def gh_pr(action: str = "opened", full_name: str = FLEET) -> dict[str, Any]:
    return published_pr(action, full_name=full_name)


def github(event: str, payload: dict[str, Any] | bytes, expect: int, reason: str = "", **headers: str) -> Case:
    body = payload if isinstance(payload, bytes) else encode(payload)
    merged = {**github_headers(event, body), **headers}
    return Case(GITHUB, body, {k: v for k, v in merged.items() if v != "<drop>"}, expect, reason=reason)


def signed_github(body: bytes, expect: int, reason: str = "", **headers: str) -> Case:
    return github("push", body, expect, reason, **headers)


def mutated(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``payload`` with the field at dotted ``path`` set to ``value`` (``<del>`` removes it)."""
    data: dict[str, Any] = json.loads(json.dumps(payload))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value == "<del>":
        del node[last]
    else:
        node[last] = value
    return data


def bot_comment() -> dict[str, Any]:
    return gh_comment(author="fluxops[bot]")


def digest(algorithm: str, payload: dict[str, Any]) -> str:
    """``{algorithm}=<hex HMAC>`` of the payload under the right secret: right key, wrong algorithm."""
    return f"{algorithm}=" + hmac.new(GITHUB_SECRET.encode(), encode(payload), getattr(hashlib, algorithm)).hexdigest()


def deep(levels: int) -> bytes:
    return b'{"a":' + b"[" * levels + b"]" * levels + b"}"


DROP = "<drop>"
GITHUB_CASES: dict[str, Case] = {
    "gh-no-signature": github("push", gh_push(), 401, "X-Hub-Signature-256", **{"X-Hub-Signature-256": DROP}),
    "gh-empty-signature": github("push", gh_push(), 401, **{"X-Hub-Signature-256": ""}),
    "gh-sha1-only": github(
        "push", gh_push(), 401, **{"X-Hub-Signature-256": DROP, "X-Hub-Signature": digest("sha1", gh_push())}
    ),
    "gh-wrong-algorithm": github("push", gh_push(), 401, **{"X-Hub-Signature-256": digest("sha512", gh_push())}),
    "gh-sha1-in-256-header": github("push", gh_push(), 401, **{"X-Hub-Signature-256": digest("sha1", gh_push())}),
    "gh-wrong-secret": github("push", gh_push(), 401, **{"X-Hub-Signature-256": sign(encode(gh_push()), "guess")}),
    "gh-truncated-signature": github("push", gh_push(), 401, **{"X-Hub-Signature-256": sign(encode(gh_push()))[:-1]}),
    "gh-uppercase-hex": github(
        "push", gh_push(), 401, **{"X-Hub-Signature-256": "sha256=" + sign(encode(gh_push()))[7:].upper()}
    ),
    "gh-uppercase-prefix": github(
        "push", gh_push(), 401, **{"X-Hub-Signature-256": "SHA256=" + sign(encode(gh_push()))[7:]}
    ),
    "gh-signature-of-another-body": github(
        "push", gh_push(), 401, "does not match", **{"X-Hub-Signature-256": sign(encode(gh_push("refs/heads/x")))}
    ),
    "gh-signature-not-hex": github("push", gh_push(), 401, **{"X-Hub-Signature-256": "sha256=" + "zz" * 32}),
    "gh-signature-too-long": github("push", gh_push(), 401, **{"X-Hub-Signature-256": sign(encode(gh_push())) + "00"}),
    "gh-non-utf8": signed_github(b'{"ref": "\xff\xfe"}', 400, "UTF-8"),
    "gh-invalid-json": signed_github(b'{"ref": "refs/heads/main",', 400, "not valid JSON"),
    "gh-empty-body": signed_github(b"", 400, "not valid JSON"),
    "gh-json-array": signed_github(b"[1, 2]", 400, "an array"),
    "gh-json-string": signed_github(b'"push"', 400, "a string"),
    "gh-json-number": signed_github(b"42", 400, "a number"),
    "gh-json-null": signed_github(b"null", 400, "null"),
    "gh-nested-10000": signed_github(deep(10_000), 400, "nests deeper"),
    "gh-nested-65": signed_github(deep(64), 400, "nests deeper"),
    "gh-text-plain": github("push", gh_push(), 415, "Content-Type", **{"Content-Type": "text/plain"}),
    "gh-no-content-type": github("push", gh_push(), 415, "Content-Type", **{"Content-Type": DROP}),
    "gh-latin1-charset": github(
        "push", gh_push(), 415, "UTF-8", **{"Content-Type": "application/json; charset=latin-1"}
    ),
    "gh-form-without-payload": github(
        "push",
        urlencode({"data": "{}"}).encode(),
        400,
        "payload",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "gh-form-two-payloads": github(
        "push",
        urlencode([("payload", "{}"), ("payload", "{}")]).encode(),
        400,
        "payload",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "gh-missing-event": github("push", gh_push(), 400, "X-GitHub-Event", **{"X-GitHub-Event": DROP}),
    "gh-missing-delivery": github("push", gh_push(), 400, "X-GitHub-Delivery", **{"X-GitHub-Delivery": DROP}),
    "gh-delivery-with-spaces": github("push", gh_push(), 400, "X-GitHub-Delivery", **{"X-GitHub-Delivery": "a b"}),
    "gh-hook-id-not-a-number": github("push", gh_push(), 400, "Hook-ID", **{"X-GitHub-Hook-ID": "1; DROP"}),
    "gh-unknown-event": github("deployment", {"repository": gh_repo()}, 202, "deployment"),
    "gh-push-tag": github("push", gh_push("refs/tags/v1.0"), 202, "not a branch"),
    "gh-push-branch-deleted": github("push", gh_push(after=ZERO), 202, "deleted"),
    "gh-comment-not-flux": github("issue_comment", gh_comment("LGTM /flux apply"), 202, "does not start with /flux"),
    "gh-comment-fluxcd": github("issue_comment", gh_comment("/fluxcd apply"), 202, "does not start with /flux"),
    "gh-comment-on-issue": github("issue_comment", gh_comment(is_pull_request=False), 202, "not on a pull request"),
    "gh-comment-by-bot": github("issue_comment", bot_comment(), 202, "bot"),
    "gh-comment-user-type-bot": github("issue_comment", mutated(gh_comment(), "comment.user.type", "Bot"), 202, "bot"),
    "gh-comment-edited": github("issue_comment", gh_comment(action="edited"), 202, "only new comments"),
    "gh-pr-labeled": github("pull_request", gh_pr("labeled"), 202, "does not change the plan"),
    "gh-pr-other-repo-closed": github("pull_request", gh_pr("closed", full_name=OTHER), 202, "needs no preflight"),
    "gh-review-edited": github(
        "pull_request_review",
        mutated(published_review(), "action", "edited"),
        202,
        "does not change the plan",
    ),
    "gh-missing-repository": github("push", mutated(gh_push(), "repository", "<del>"), 400, "repository is missing"),
    "gh-repository-is-a-list": github("push", mutated(gh_push(), "repository", [1]), 400, "must be an object"),
    "gh-repository-id-string": github("push", mutated(gh_push(), "repository.id", "1001"), 400, "repository.id"),
    "gh-full-name-not-owner-repo": github(
        "push", mutated(gh_push(), "repository.full_name", "fleet"), 400, "owner/name"
    ),
    "gh-ref-is-a-number": github("push", mutated(gh_push(), "ref", 7), 400, "ref must be a string"),
    "gh-pr-number-string": github(
        "pull_request", mutated(gh_pr(), "pull_request.number", "12"), 400, "pull_request.number"
    ),
    "gh-pr-without-head": github("pull_request", mutated(gh_pr(), "pull_request.head", "<del>"), 400, "head"),
    "gh-comment-without-user": github(
        "issue_comment", mutated(gh_comment(), "comment.user", "<del>"), 400, "comment.user"
    ),
    "gh-comment-body-number": github("issue_comment", mutated(gh_comment(), "comment.body", 5), 400, "comment.body"),
    "gh-installation-id-string": github(
        "push", mutated(gh_push(), "installation", {"id": "77"}), 400, "installation.id"
    ),
    "gh-deleted-not-bool": github("push", mutated(gh_push(), "deleted", "no"), 400, "deleted"),
}

oversized_gh = Case(GITHUB, b"{" + b" " * GITHUB_MAX + b"}", {}, 413, reason="at most")
oversized_gh.headers = github_headers("push", oversized_gh.body)
GITHUB_CASES["gh-oversized-content-length"] = oversized_gh
GITHUB_CASES["gh-oversized-chunked"] = Case(
    GITHUB, b"", github_headers("push", b"anything"), 413, chunked_bytes=GITHUB_MAX + 1, reason="over"
)
stale = github("push", gh_push(), 202, "", **{"X-GitHub-Delivery": FIXED_DELIVERY})
stale.seed_dedupe = f"github:{HOOK_ID}:{FIXED_DELIVERY}"
GITHUB_CASES["gh-stale-duplicate-delivery"] = stale


# -- Azure DevOps requests -------------------------------------------------------------------------------


# Azure DevOps' documented samples (tests/handlers/ado_samples) through the builders of test_ado_webhook.py


def ours(payload: dict[str, Any], notification: int) -> dict[str, Any]:
    """``payload`` as a delivery of this module's subscription."""
    payload.update(subscriptionId=SUBSCRIPTION, notificationId=notification)
    return payload


def ado_push(branch: str = "main", after: str = SHA_B, notification: int = 1) -> dict[str, Any]:
    payload = documented_push(branch)
    payload["resource"]["refUpdates"][0]["newObjectId"] = after
    return ours(payload, notification)


def ado_pr(names: tuple[str, str, str] = ADO_FLEET) -> dict[str, Any]:
    return ours(documented_pr("git.pullrequest.created", names=names), 2)


def ado_comment(content: str = "/flux apply") -> dict[str, Any]:
    return ours(documented_comment(content), 3)


def azure(payload: dict[str, Any] | bytes, expect: int, reason: str = "", **headers: str) -> Case:
    body = payload if isinstance(payload, bytes) else encode(payload)
    merged = {"Authorization": basic(), "Content-Type": "application/json", **headers}
    return Case(ADO, body, {k: v for k, v in merged.items() if v != DROP}, expect, reason=reason)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


ADO_CASES: dict[str, Case] = {
    "ado-no-auth": azure(ado_push(), 401, "basic-auth", Authorization=DROP),
    "ado-wrong-user": azure(ado_push(), 401, Authorization=basic(user="admin")),
    "ado-wrong-password": azure(ado_push(), 401, Authorization=basic(password="guess")),
    "ado-user-prefix-only": azure(ado_push(), 401, Authorization=basic(password=ADO_PASSWORD[:-1])),
    "ado-not-base64": azure(ado_push(), 401, Authorization="Basic %%%not-base64%%%"),
    "ado-no-colon": azure(ado_push(), 401, Authorization="Basic " + b64(ADO_USER.encode() + ADO_PASSWORD.encode())),
    "ado-bearer-scheme": azure(ado_push(), 401, Authorization="Bearer " + b64(f"{ADO_USER}:{ADO_PASSWORD}".encode())),
    "ado-empty-basic": azure(ado_push(), 401, Authorization="Basic "),
    "ado-non-utf8-credentials": azure(ado_push(), 401, Authorization="Basic " + b64(b"\xff\xfe:\xff")),
    "ado-non-utf8": azure(b'{"eventType": "\xff"}', 400, "UTF-8"),
    "ado-invalid-json": azure(b"{'eventType': 'git.push'}", 400, "not valid JSON"),
    "ado-json-array": azure(b"[]", 400, "an array"),
    "ado-json-string": azure(b'"git.push"', 400, "a string"),
    "ado-nested-10000": azure(deep(10_000), 400, "nests deeper"),
    "ado-form-not-accepted": azure(
        urlencode({"payload": json.dumps(ado_push())}).encode(),
        415,
        "Content-Type",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "ado-text-plain": azure(ado_push(), 415, "Content-Type", **{"Content-Type": "text/plain"}),
    "ado-unknown-event-type": azure(mutated(ado_push(), "eventType", "build.complete"), 202, "build.complete"),
    "ado-missing-notification-id": azure(mutated(ado_push(), "notificationId", "<del>"), 400, "notificationId"),
    "ado-notification-id-string": azure(mutated(ado_push(), "notificationId", "1"), 400, "notificationId"),
    "ado-notification-id-bool": azure(mutated(ado_push(), "notificationId", True), 400, "notificationId"),
    "ado-missing-subscription-id": azure(mutated(ado_push(), "subscriptionId", "<del>"), 400, "subscriptionId"),
    "ado-subscription-id-odd": azure(mutated(ado_push(), "subscriptionId", "a:b"), 400, "subscriptionId"),
    "ado-missing-event-type": azure(mutated(ado_push(), "eventType", "<del>"), 400, "eventType"),
    "ado-missing-resource": azure(mutated(ado_push(), "resource", "<del>"), 400, "resource is missing"),
    "ado-missing-repository": azure(mutated(ado_push(), "resource.repository", "<del>"), 400, "repository"),
    "ado-remote-url-not-a-url": azure(mutated(ado_push(), "resource.repository.remoteUrl", "fleet"), 400, "remoteUrl"),
    "ado-ref-updates-not-a-list": azure(mutated(ado_push(), "resource.refUpdates", {"name": "x"}), 400, "refUpdates"),
    "ado-push-branch-deleted": azure(ado_push(after=ZERO), 202, "no branch was updated"),
    "ado-push-tag": azure(
        mutated(
            ado_push(), "resource.refUpdates", [{"name": "refs/tags/v1", "oldObjectId": ZERO, "newObjectId": SHA_B}]
        ),
        202,
        "no branch was updated",
    ),
    "ado-pr-id-string": azure(mutated(ado_pr(), "resource.pullRequestId", "7"), 400, "pullRequestId"),
    "ado-pr-other-repo-abandoned": azure(
        mutated(ado_pr(ADO_OTHER), "resource.status", "abandoned"), 202, "needs no preflight"
    ),
    "ado-comment-not-flux": azure(ado_comment("Looks good"), 202, "does not start with /flux"),
    "ado-comment-without-author": azure(
        mutated(ado_comment(), "resource.comment.author", "<del>"), 400, "comment.author"
    ),
    "ado-comment-without-pull-request": azure(
        mutated(ado_comment(), "resource.pullRequest", "<del>"), 400, "pullRequest"
    ),
}
oversized_ado = azure(b"{" + b" " * ADO_MAX + b"}", 413, "at most")
ADO_CASES["ado-oversized-content-length"] = oversized_ado
ADO_CASES["ado-oversized-chunked"] = Case(
    ADO,
    b"",
    {"Authorization": basic(), "Content-Type": "application/json"},
    413,
    chunked_bytes=ADO_MAX + 1,
    reason="over",
)
stale_ado = azure(ado_push(notification=99), 202)
stale_ado.seed_dedupe = f"ado:{SUBSCRIPTION}:99"
ADO_CASES["ado-stale-duplicate-notification"] = stale_ado

CASES = {**GITHUB_CASES, **ADO_CASES}


# -- the test --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


def chunks(total: int, size: int = 256 * 1024) -> Callable[[], AsyncIterator[bytes]]:
    async def generate() -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            piece = min(size, total - sent)
            sent += piece
            yield b" " * piece

    return generate


def test_the_suite_is_broad():
    assert len(CASES) >= 40
    assert len(GITHUB_CASES) >= 20 and len(ADO_CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
async def test_refused_or_ignored_and_nothing_enqueued(hooks: Hooks, name: str):
    case = CASES[name]
    if case.seed_dedupe:
        hooks.redis.set(f"fluxops:dedupe:{case.seed_dedupe}", "j-earlier00000", ex=3600)
    data: Any = chunks(case.chunked_bytes)() if case.chunked_bytes else case.body
    response = await hooks.client.post(case.path, data=data, headers=case.headers)
    text = await response.text()
    assert response.status == case.expect, text
    assert response.status < 500
    answer = json.loads(text)
    if case.seed_dedupe:
        assert answer == {"job": "j-earlier00000", "duplicate": True}
        assert hooks.dedupe_keys() == {f"fluxops:dedupe:{case.seed_dedupe}": "j-earlier00000"}
        assert hooks.queue_length() == 0 and hooks.job_ids() == set()
        return
    if response.status == 202:
        assert set(answer) == {"ignored"} and case.reason in answer["ignored"]
    else:
        assert set(answer) == {"error"} and case.reason in answer["error"]
    if response.status == 401 and case.path == ADO:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
    hooks.assert_nothing_enqueued()
