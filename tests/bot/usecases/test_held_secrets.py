"""Every secret fluxops hands a configuration is recorded (ARM never returns them), whatever its kind: a blob's
SAS token or account key, an OCI client key, a bucket's secret key. A configuration known to hold one keeps it
where it reads: a new URL, bucket or container needs it stated again (scope-checked for the new place), from
Slack and from a fleet file alike. A rotation of an HTTPS token never hands it to a configuration that holds
the credential as something else."""

from __future__ import annotations

import pytest

from bot import errors
from bot.commands import CredentialRefs
from bot.fleet import CreateConfig, UpdateConfig
from bot.models import AzureBlobSource, FluxConfigPatch, FluxConfigSpec, ProtectedSettings, Secret
from bot.usecases import fleet_io, scope_checks
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, World
from tests.bot.usecases.scoping import with_credentials

ARC = CLUSTER.ref
ON = "-c flux-demo-arc --no-extension"
BLOB = "https://acct.blob.core.windows.net"
OCI = "oci://ghcr.io/org/manifests"


@pytest.fixture
def world() -> World:
    policy = with_credentials(
        {
            "blob-sas": ["acct.blob.core.windows.net/*"],
            "blob-key": ["acct.blob.core.windows.net/*"],
            "oci-cert": ["ghcr.io/org/*"],
            "oci-key": ["ghcr.io/org/*"],
        },
        clusters=["flux-demo-arc"],
    )
    world = World(policy=policy)
    world.credentials.values.update(
        {"blob-sas": "sv=1&sig=x", "blob-key": "key-value", "oci-cert": "cert-pem", "oci-key": "key-pem"}
    )
    return world


def refusal(world: World) -> tuple[str, str]:
    view = world.reporter.last
    assert view.phase is Phase.FAILED and view.error is not None
    assert any(e.result.startswith("refused") for e in world.audit.entries)
    return view.error.message, view.error.recommendation


@pytest.mark.parametrize(
    ("create", "move", "held"),
    [
        (
            f"--kind azblob -u {BLOB} --container-name manifests --sas-token-ref blob-sas",
            "-u https://evil.example.com",
            "credential 'blob-sas'",
        ),
        (
            f"--kind azblob -u {BLOB} --container-name manifests --account-key-ref blob-key",
            "--container-name other",
            "credential 'blob-key'",
        ),
        (
            f"-u {OCI} --tag v1 --tls-client-cert-ref oci-cert --tls-private-key-ref oci-key",
            "-u oci://evil.example.com/loot",
            "credential 'oci-cert'",
        ),
    ],
)
def test_a_held_secret_of_any_kind_does_not_follow_a_moved_source(world: World, create, move, held) -> None:
    assert world.run(f"config create s {ON} {create}") is Phase.SUCCEEDED
    writes = len(world.flux.writes())

    assert world.run(f"config update s -c flux-demo-arc {move}", job_id="j-move") is Phase.FAILED

    message, _ = refusal(world)
    assert f"flux configuration 's' holds {held}, which would follow the new source" in message
    assert len(world.flux.writes()) == writes


def test_a_moved_blob_gets_its_secret_again_only_within_its_scope(world: World) -> None:
    text = f"config create b {ON} --kind azblob -u {BLOB} --container-name manifests --sas-token-ref blob-sas"
    assert world.run(text) is Phase.SUCCEEDED

    moved = "config update b -c flux-demo-arc --container-name other --sas-token-ref blob-sas"
    assert world.run(moved, job_id="j-move") is Phase.SUCCEEDED
    state = world.flux.state(ARC, "b")
    assert state.spec is not None and isinstance(state.spec.source, AzureBlobSource)
    assert state.spec.source.container_name == "other"

    away = "config update b -c flux-demo-arc -u https://evil.example.com --sas-token-ref blob-sas"
    assert world.run(away, job_id="j-away") is Phase.FAILED
    message, _ = refusal(world)
    assert "credential 'blob-sas' may not be used for evil.example.com/other" in message


def test_a_secret_a_fleet_file_handed_over_is_known_to_be_held(world: World) -> None:
    source = AzureBlobSource(url=BLOB, container_name="manifests")
    create = CreateConfig(
        "flux-demo-arc",
        "flux-demo-arc",
        ARC,
        spec=FluxConfigSpec(name="from-fleet", source=source),
        credentials=CredentialRefs(sas_token="blob-sas"),
    )
    fleet_io.write(world.ports(), create)
    assert world.flux.protected(ARC, "from-fleet") == ProtectedSettings(sas_token=Secret("sv=1&sig=x"))

    moved = UpdateConfig(
        "flux-demo-arc", "flux-demo-arc", ARC, name="from-fleet", patch=FluxConfigPatch(url="https://evil.example.com")
    )
    job = Job(world.record("config list -c flux-demo-arc", job_id="j-fleet"), world.ports(), world.reporter, "fleet")
    with pytest.raises(errors.Forbidden) as refused:
        scope_checks.check_fleet_operation(job, moved, ResolvedCluster(CLUSTER, "flux-demo-arc"))
    assert "holds credential 'blob-sas'" in refused.value.message


def test_a_token_rotation_never_hands_the_token_to_a_configuration_holding_it_as_something_else(
    world: World,
) -> None:
    text = f"config create b {ON} --kind azblob -u {BLOB} --container-name manifests --sas-token-ref blob-sas"
    assert world.run(text) is Phase.SUCCEEDED
    world.credentials.values["blob-sas"] = "sv=2&sig=y"

    assert world.run("key rotate --https-key-ref blob-sas", job_id="rot") is Phase.FAILED

    message, _ = refusal(world)
    assert "b on flux-demo-arc (it was given `blob-sas` as its sas token, not as an HTTPS token)" in message
    assert world.flux.protected(ARC, "b") == ProtectedSettings(sas_token=Secret("sv=1&sig=x"))
