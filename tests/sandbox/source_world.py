"""A sandbox with its source servers (S3, azurite, OCI registry) for the tests of non-Git sources."""

from __future__ import annotations

from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions
from sandbox.source_servers.azurite import azurite_binary

# azurite is installed by scripts/bootstrap; a test run on a checkout without it installs it here (npm), or fails
# saying why: never a skip
azurite_binary(install=True)

OPTIONS = SandboxOptions(
    source_servers=True,
    step_seconds=0.02,
    emulator=EmulatorConfig(operation_seconds=0.05, extension_operation_seconds=0.05, throttling=False),
)
