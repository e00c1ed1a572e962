"""Counting the workers' Slack Web API calls: a WebClient that counts each call, a retry handler that counts 429s.

Every WebClient method (``chat_postMessage``, ``chat_update``, ...) goes through ``api_call``, so counting
there sees each call once, however many attempts slack_sdk's retry handlers made for it. A 429 reaches the
rate-limit handler once per answer, before it is retried after its Retry-After.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.slack_response import SlackResponse

from workers.metrics import SLACK_CALLS, SLACK_RATE_LIMITED, slack_method


class MeteredWebClient(WebClient):
    """slack_sdk's WebClient, counting each API call by method and outcome (ok, error)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        outcome = "error"
        try:
            response = super().api_call(api_method, **kwargs)
            outcome = "ok"
            return response
        finally:
            SLACK_CALLS.labels(slack_method(api_method), outcome).inc()


class MeteredRateLimitHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (it waits Retry-After, then retries), counting each 429 it is shown."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            SLACK_RATE_LIMITED.labels(slack_method(urlsplit(request.url).path.rsplit("/", 1)[-1])).inc()
        return super().can_retry(state=state, request=request, response=response, error=error)
