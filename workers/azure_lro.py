"""ARM long-running operations behind bot.ports.LongRunning, with resumable tokens.

A token is our own envelope around the SDK's continuation token: which operation it was, on which
cluster and resource, so ``resume`` can rebuild the right poller in another process.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from azure.core.exceptions import AzureError
from azure.core.polling import LROPoller

from bot import errors
from bot.models import ClusterRef, ClusterType
from workers.azure_errors import arm_call, translate

T = TypeVar("T")


@dataclass(frozen=True)
class TokenEnvelope:
    kind: str  # e.g. "flux.create", "flux.update", "flux.delete", "extension.create"
    cluster: ClusterRef
    name: str
    sdk_token: str

    def encode(self) -> str:
        raw = {
            "kind": self.kind,
            "cluster": [
                self.cluster.subscription_id,
                self.cluster.resource_group,
                self.cluster.cluster_type.value,
                self.cluster.name,
            ],
            "name": self.name,
            "sdk": self.sdk_token,
        }
        return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()

    @classmethod
    def decode(cls, token: str) -> TokenEnvelope:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token.encode()))
            sub, rg, ctype, name = raw["cluster"]
            return cls(
                kind=str(raw["kind"]),
                cluster=ClusterRef(sub, rg, ClusterType.parse(ctype), name),
                name=str(raw["name"]),
                sdk_token=str(raw["sdk"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.InvalidRequest(
                "resuming an Azure operation: the saved continuation token is not one fluxops wrote",
                recommendation="start the command again",
            ) from exc


@contextmanager
def resume_guard(doing: str) -> Iterator[None]:
    """azure-core says ValueError when a continuation token is not one; say it our way."""
    try:
        yield
    except ValueError as exc:
        raise errors.InvalidRequest(
            f"{doing}: the saved continuation token is not valid ({exc})",
            recommendation="start the command again",
        ) from exc


def not_resumable(kind: str, what: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(
        f"resuming an Azure operation: the saved token is for '{kind}', not for this {what}",
        recommendation="start the command again",
    )


def resume_poller(
    env: TokenEnvelope, *, what: str, starters: Mapping[str, Callable[[str], LROPoller[Any]]]
) -> tuple[LROPoller[Any], str]:
    """Rebuild the SDK poller a token was taken from: ``starters`` maps each kind to the SDK's
    begin_* call, made with the continuation token. Returns the poller and what it is doing."""
    doing = f"resuming {env.kind.split('.')[-1]} of {what} '{env.name}' on cluster '{env.cluster.name}'"
    starter = starters.get(env.kind)
    if starter is None:
        raise not_resumable(env.kind, what)
    with resume_guard(doing), arm_call(doing, env.cluster.name):
        return starter(env.sdk_token), doing


class PollerOperation(Generic[T]):
    """An LROPoller that speaks bot errors and converts its result to a domain type."""

    def __init__(
        self,
        poller: LROPoller[Any],
        *,
        envelope: TokenEnvelope,
        doing: str,
        convert: Callable[[Any], T],
    ) -> None:
        self._poller = poller
        self._envelope = envelope
        self._doing = doing
        self._convert = convert

    @property
    def token(self) -> str:
        return TokenEnvelope(
            self._envelope.kind,
            self._envelope.cluster,
            self._envelope.name,
            self._poller.continuation_token(),
        ).encode()

    def done(self) -> bool:
        return self._poller.done()

    def result(self, timeout: float | None = None) -> T:
        try:
            value = self._poller.result(timeout=timeout)
        except AzureError as exc:
            raise translate(exc, self._doing, self._envelope.cluster.name) from exc
        if not self._poller.done():
            raise errors.StillRunning(
                f"{self._doing}: Azure has not finished after {timeout:g} s",
                recommendation="fluxops keeps watching it; `/flux status` shows where it is",
            )
        return self._convert(value)
