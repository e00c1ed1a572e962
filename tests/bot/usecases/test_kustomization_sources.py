"""Kustomization commands and config show / list on configurations of every source kind (Git, Bucket, Azure Blob,
OCI), and on one whose spec fluxops could not read (ARM's reply had a source kind or block it does not model)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.models import (
    AzureBlobSource,
    BucketSource,
    ClusterRef,
    FluxConfigState,
    FluxSource,
    Kustomization,
    OciSource,
)
from bot.render.slack import render
from bot.views import ConfirmView, JobView, Phase
from cli.slack_text import blocks_to_text
from tests.bot.usecases.fakes import TUTORIAL_APPLIED, TUTORIAL_SPEC, FakeFluxConfigs, World

ON = "-c flux-demo-arc"
SOURCES = [
    pytest.param(TUTORIAL_SPEC.source, "Reference: branch `main`", id="git"),
    pytest.param(
        BucketSource(url="http://minio.flux-system:9000", bucket_name="fleet", access_key="fluxreader", insecure=True),
        "Auth: access key ID `fluxreader` · insecure (plain HTTP)",
        id="bucket",
    ),
    pytest.param(
        AzureBlobSource(url="https://contosoflux.blob.core.windows.net", container_name="gitops"),
        "Reference: container `gitops`",
        id="azblob",
    ),
    pytest.param(
        OciSource(url="oci://contoso.azurecr.io/manifests/cluster-config", semver=">=1.0.0"),
        "Reference: semver `>=1.0.0`",
        id="oci",
    ),
]


def _seed(world: World, source: FluxSource) -> None:
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, source=source), applied=TUTORIAL_APPLIED)


def _shown(world: World) -> str:
    view = world.reporter.last
    return "\n".join(blocks_to_text(m.blocks, m.text) for m in render(view))


def _kustomizations(world: World) -> tuple[Kustomization, ...]:
    spec = world.flux.state(world.ref, "cluster-config").spec
    assert spec is not None
    return spec.kustomizations


@pytest.mark.parametrize(("source", "line"), SOURCES)
def test_show_list_and_kustomization_list_describe_the_source(world: World, source: FluxSource, line: str) -> None:
    _seed(world, source)
    for number, command in enumerate(
        (f"config show cluster-config {ON}", f"kustomization list --config cluster-config {ON}")
    ):
        assert world.run(command, job_id=f"j-{number}") is Phase.SUCCEEDED
        assert line in _shown(world).splitlines()
    assert world.run(f"config list {ON}", job_id="j-list") is Phase.SUCCEEDED
    configs = world.reporter.last.configs
    assert configs is not None and [c.source_kind for c in configs] == [source.kind]


@pytest.mark.parametrize(("source", "line"), SOURCES)
def test_kustomization_create_update_delete_on_each_source_kind(world: World, source: FluxSource, line: str) -> None:
    _seed(world, source)

    create = f"kustomization create --config cluster-config -k monitoring --path ./monitoring {ON}"
    assert world.run(create, job_id="j-create") is Phase.SUCCEEDED
    update = f"kustomization update --config cluster-config -k monitoring --path ./observability {ON}"
    assert world.run(update, job_id="j-update") is Phase.SUCCEEDED
    assert _kustomizations(world)[-1] == Kustomization(name="monitoring", path="./observability")

    delete = f"kustomization delete --config cluster-config -k apps {ON}"
    assert world.run(delete, job_id="j-delete") is Phase.AWAITING_CONFIRMATION
    view = world.reporter.shown[-1]
    assert isinstance(view, ConfirmView)
    assert view.consequences == ("kustomization apps (prune: true) removes HelmRelease podinfo",)
    assert world.run(delete, job_id="j-delete", confirmed_by="U999") is Phase.SUCCEEDED
    assert [k.name for k in _kustomizations(world)] == ["infra", "monitoring"]

    state = world.flux.state(world.ref, "cluster-config")
    assert state.spec is not None and state.spec.source == source  # the source was left alone
    patches = [w for w in world.flux.writes() if w[0] == "begin_update"]
    assert len(patches) == 3


class UnreadFluxConfigs(FakeFluxConfigs):
    """ARM as read by an adapter that could not model the configuration's source: no spec, statuses as usual."""

    def read(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        state = super().read(cluster, name)
        return replace(state, spec=None)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        return [replace(state, spec=None) for state in super().list(cluster)]


@pytest.fixture
def unread() -> World:
    world = World(flux=UnreadFluxConfigs())
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, source=BucketSource(url="https://s3", bucket_name="fleet")))
    return world


def test_kustomization_delete_of_an_unread_configuration_goes_by_what_the_agent_reports(unread: World) -> None:
    delete = f"kustomization delete --config cluster-config -k apps {ON}"

    assert unread.run(delete) is Phase.AWAITING_CONFIRMATION

    view = unread.reporter.shown[-1]
    assert isinstance(view, ConfirmView)
    assert view.consequences == (
        "kustomization apps: fluxops cannot read the settings of this Bucket configuration; "
        "if it prunes, it removes what it applied",
    )
    assert unread.run(delete, confirmed_by="U999") is Phase.SUCCEEDED
    assert [k.name for k in unread.flux.configs[(unread.ref, "cluster-config")].spec.kustomizations] == ["infra"]


def test_kustomization_delete_of_an_unread_configuration_still_refuses_a_name_it_does_not_have(unread: World) -> None:
    assert unread.run(f"kustomization delete --config cluster-config -k nope {ON}") is Phase.FAILED

    last = unread.reporter.last
    assert isinstance(last, JobView) and last.error is not None
    assert last.error.message == "flux configuration 'cluster-config' has no kustomization 'nope'"
