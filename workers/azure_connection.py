"""How every Azure adapter reaches ARM: endpoint, credential, CA bundle, polling cadence.

One place builds the keyword arguments all the management clients share, so the sandbox (a local
endpoint with its own CA) and Azure differ only in settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import HTTPPolicy

from bot.settings import AZURE_ARM_DEFAULT, Settings
from workers.arm_metering import ArmMetering
from workers.arm_pacing import ArmBudget, ArmPacing


@dataclass(frozen=True)
class ArmConnection:
    endpoint: str
    credential: TokenCredential
    ca_bundle: str | None = None
    poll_interval: float = 5.0
    #: the budget writes are paced with, shared by every worker (workers/arm_pacing.py); None: no pacing
    budget: ArmBudget | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, credential: TokenCredential, *, budget: ArmBudget | None = None
    ) -> ArmConnection:
        return cls(
            endpoint=settings.azure_arm_endpoint.rstrip("/"),
            credential=credential,
            ca_bundle=str(settings.azure_ca_bundle) if settings.azure_ca_bundle else None,
            poll_interval=settings.azure_poll_interval,
            budget=budget,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt client."""
        # The token audience is the public ARM endpoint unless a sovereign cloud is configured.
        audience = AZURE_ARM_DEFAULT if "127.0.0.1" in self.endpoint or "localhost" in self.endpoint else self.endpoint
        kwargs: dict[str, Any] = {
            "base_url": self.endpoint,
            "credential_scopes": [f"{audience}/.default"],
            "polling_interval": self.poll_interval,
        }
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        # after the retry policy: every attempt is paced, counted and its answer read. A policy object per client:
        # azure-core chains a policy into the pipeline it is given, so one object cannot serve two clients.
        # Metering comes after pacing: a write the shared budget holds back never reached ARM.
        policies: list[HTTPPolicy[Any, Any]] = [] if self.budget is None else [ArmPacing(self.budget)]
        kwargs["per_retry_policies"] = [*policies, ArmMetering()]
        return kwargs


def default_credential() -> TokenCredential:
    """azure-identity's DefaultAzureCredential (workload identity, managed identity, CLI, ...)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
