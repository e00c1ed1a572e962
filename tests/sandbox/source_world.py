"""A sandbox with its source servers (S3, azurite, OCI registry) for the tests of non-Git sources."""

from __future__ import annotations

from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions

OPTIONS = SandboxOptions(
    source_servers=True,
    step_seconds=0.02,
    emulator=EmulatorConfig(operation_seconds=0.05, extension_operation_seconds=0.05, throttling=False),
)
