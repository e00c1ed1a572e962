"""config create|update|delete|show|list, status, suspend, resume: what each command parses to."""

from __future__ import annotations

import pytest

from bot.commands import (
    ClusterTarget,
    ConfigCreate,
    ConfigDelete,
    ConfigList,
    ConfigShow,
    ConfigUpdate,
    CredentialRefs,
    Resume,
    Status,
    Suspend,
)
from bot.grammar.help_topics import TUTORIAL_EXAMPLE
from bot.models import (
    AzureBlobSource,
    BucketSource,
    ClusterType,
    FluxConfigPatch,
    GitSource,
    Kustomization,
    KustomizationChange,
    OciSource,
    RepositoryRef,
)
from tests.bot.grammar_helpers import run

C = ClusterTarget("c")
GIT = "-u https://github.com/org/repo"
SHA = "4f1bdad4d0a54b939a5e3d52c51464f67e474fcf"


def create(text: str) -> ConfigCreate:
    command = run(text)
    assert isinstance(command, ConfigCreate)
    return command


def update(text: str) -> ConfigUpdate:
    command = run(text)
    assert isinstance(command, ConfigUpdate)
    return command


def test_the_seed_tutorial_command() -> None:
    command = create(TUTORIAL_EXAMPLE)
    assert command.target == ClusterTarget("flux-demo-arc", "flux-demo-rg", ClusterType.CONNECTED)
    spec = command.spec
    assert spec.name == "cluster-config"
    assert spec.namespace == "cluster-config"
    assert spec.scope == "cluster"
    assert spec.source == GitSource(
        url="https://github.com/Azure/gitops-flux2-kustomize-helm-mt", ref=RepositoryRef(branch="main")
    )
    assert spec.kustomizations == (
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", prune=True, depends_on=("infra",)),
    )
    assert command.install_extension and not command.generate_deploy_key
    assert command.credentials.is_empty()


def test_the_tutorial_as_az_writes_it() -> None:
    """Pasted from the seed: `az k8s-configuration flux create`, `-n`, `dependsOn=\\["infra"\\]`."""
    pasted = (
        "az k8s-configuration flux create -g flux-demo-rg -c flux-demo-arc -n cluster-config "
        "--namespace cluster-config -t connectedClusters --scope cluster "
        "-u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        '--kustomization name=apps path=./apps/staging prune=true dependsOn=\\["infra"\\]'
    )
    assert create(pasted) == create(TUTORIAL_EXAMPLE)


def test_the_tutorial_from_slash_prefix_and_comment() -> None:
    assert create("/flux " + TUTORIAL_EXAMPLE.removeprefix("/flux ")) == create(TUTORIAL_EXAMPLE)
    comment = TUTORIAL_EXAMPLE + "\n\nThis applies the tutorial. /flux config delete x -c y is not read."
    assert run(comment, comment=True) == create(TUTORIAL_EXAMPLE)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("--branch main", RepositoryRef(branch="main")),
        ("--tag v1.2.3", RepositoryRef(tag="v1.2.3")),
        ("--semver '>=1.0.0 <2.0.0'", RepositoryRef(semver=">=1.0.0 <2.0.0")),
        (f"--commit {SHA.upper()}", RepositoryRef(commit=SHA)),
        ("--branch=release/1.2", RepositoryRef(branch="release/1.2")),
    ],
)
def test_git_refs(flags: str, expected: RepositoryRef) -> None:
    source = create(f"config create x -c c {GIT} {flags}").spec.source
    assert isinstance(source, GitSource) and source.ref == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo",
        "http://git.internal:8080/org/repo.git",
        "https://contoso@dev.azure.com/contoso/proj/_git/repo",
        "ssh://git@github.com/org/repo",
        "git@github.com:org/repo.git",
        "git@ssh.dev.azure.com:v3/contoso/proj/repo",
    ],
)
def test_git_urls(url: str) -> None:
    assert create(f"config create x -c c -u {url} --branch main").spec.source.url == url


def test_defaults_and_every_git_option() -> None:
    command = create(
        "config create apps -c prod -g rg -t managedClusters -u https://github.com/org/repo --branch main "
        "--ns apps --scope Namespace --interval 1h2m5s --timeout 3m --suspend --https-user bot "
        "--https-key-ref github/fleet-bot --provider generic --no-extension"
    )
    assert command.target == ClusterTarget("prod", "rg", ClusterType.MANAGED)
    spec = command.spec
    assert (spec.namespace, spec.scope, spec.suspend) == ("apps", "namespace", True)
    assert spec.source == GitSource(
        url="https://github.com/org/repo",
        ref=RepositoryRef(branch="main"),
        https_user="bot",
        provider="Generic",
        timeout_seconds=180,
        sync_interval_seconds=3725,
    )
    assert command.credentials == CredentialRefs(https_key="github/fleet-bot")
    assert command.install_extension is False

    plain = create(f"config create x -c c {GIT} --branch main")
    assert (plain.spec.namespace, plain.spec.scope, plain.spec.suspend) == ("default", "cluster", False)
    assert plain.spec.source == GitSource(url="https://github.com/org/repo", ref=RepositoryRef(branch="main"))
    assert plain.install_extension is True


@pytest.mark.parametrize(
    ("flags", "credentials", "generate"),
    [
        ("--deploy-key generate", CredentialRefs(), True),
        ("--ssh-private-key-ref keys/fleet", CredentialRefs(ssh_private_key="keys/fleet"), False),
        (
            "--ssh-private-key-ref keys/fleet --known-hosts-ref hosts/github",
            CredentialRefs(ssh_private_key="keys/fleet", known_hosts="hosts/github"),
            False,
        ),
        ("--deploy-key GENERATE --known-hosts-ref hosts/github", CredentialRefs(known_hosts="hosts/github"), True),
    ],
)
def test_ssh_credentials(flags: str, credentials: CredentialRefs, generate: bool) -> None:
    command = create(f"config create x -c c -u git@github.com:org/repo.git --branch main {flags}")
    assert command.credentials == credentials
    assert command.generate_deploy_key is generate


def test_provider_azure_and_local_auth_ref() -> None:
    azure = create("config create x -c c -u https://dev.azure.com/o/p/_git/r --branch main --provider AZURE")
    assert isinstance(azure.spec.source, GitSource) and azure.spec.source.provider == "Azure"
    local = create(f"config create x -c c {GIT} --branch main --local-auth-ref git-credentials")
    assert isinstance(local.spec.source, GitSource) and local.spec.source.local_auth_ref == "git-credentials"


def test_bucket_source() -> None:
    command = create(
        "config create x -c c --kind bucket -u https://s3.amazonaws.com --bucket-name my-bucket "
        "--access-key AKIAIOSFODNN7EXAMPLE --secret-key-ref aws/fleet --bucket-insecure --interval 5m"
    )
    assert command.spec.source == BucketSource(
        url="https://s3.amazonaws.com",
        bucket_name="my-bucket",
        access_key="AKIAIOSFODNN7EXAMPLE",
        insecure=True,
        sync_interval_seconds=300,
    )
    assert command.credentials == CredentialRefs(secret_key="aws/fleet")


@pytest.mark.parametrize(
    ("flags", "identity", "credentials"),
    [
        (
            "--mi-client-id 7D3A4E4B-1F0C-4B8E-9D3E-2A6F5C1B0E9A",
            "7d3a4e4b-1f0c-4b8e-9d3e-2a6f5c1b0e9a",
            CredentialRefs(),
        ),
        ("--account-key-ref storage/key", None, CredentialRefs(account_key="storage/key")),
        ("--sas-token-ref storage/sas", None, CredentialRefs(sas_token="storage/sas")),
    ],
)
def test_azure_blob_source(flags: str, identity: str | None, credentials: CredentialRefs) -> None:
    command = create(
        f"config create x -c c --kind azblob -u https://acct.blob.core.windows.net --container-name manifests {flags}"
    )
    assert command.spec.source == AzureBlobSource(
        url="https://acct.blob.core.windows.net", container_name="manifests", managed_identity_client_id=identity
    )
    assert command.credentials == credentials


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("--tag v1.2.0", OciSource(url="oci://ghcr.io/org/manifests", tag="v1.2.0")),
        ("--semver 1.x", OciSource(url="oci://ghcr.io/org/manifests", semver="1.x")),
        ("--digest sha256:" + "ab" * 32, OciSource(url="oci://ghcr.io/org/manifests", digest="sha256:" + "ab" * 32)),
    ],
)
def test_oci_source_with_or_without_kind(flags: str, expected: OciSource) -> None:
    explicit = create(f"config create x -c c --kind oci -u oci://ghcr.io/org/manifests {flags}")
    implied = create(f"config create x -c c -u oci://ghcr.io/org/manifests {flags}")
    assert explicit.spec.source == implied.spec.source == expected


def test_name_as_flag_and_positional_agree() -> None:
    assert create(f"config create -n x -c c {GIT} --branch main").spec.name == "x"
    assert create(f"config create x --name x -c c {GIT} --branch main").spec.name == "x"
    assert create(f"config create --cluster-name c {GIT} --branch main --name x").target == C


def test_flags_ignore_case_and_underscores() -> None:
    command = create(f"config create x --Cluster c {GIT} --BRANCH main --sync_interval 2m")
    assert isinstance(command.spec.source, GitSource) and command.spec.source.sync_interval_seconds == 120


@pytest.mark.parametrize(
    ("flags", "patch", "credentials"),
    [
        ("--branch dev", FluxConfigPatch(ref=RepositoryRef(branch="dev")), CredentialRefs()),
        (f"--commit {SHA}", FluxConfigPatch(ref=RepositoryRef(commit=SHA)), CredentialRefs()),
        ("-u https://github.com/org/other", FluxConfigPatch(url="https://github.com/org/other"), CredentialRefs()),
        (
            "--interval 5m --timeout 30s",
            FluxConfigPatch(sync_interval_seconds=300, timeout_seconds=30),
            CredentialRefs(),
        ),
        (
            "--https-user bot --https-key-ref github/bot",
            FluxConfigPatch(https_user="bot"),
            CredentialRefs(https_key="github/bot"),
        ),
        ("--ssh-private-key-ref keys/new", FluxConfigPatch(), CredentialRefs(ssh_private_key="keys/new")),
        (
            "--kustomization name=apps path=./apps/prod prune=false",
            FluxConfigPatch(kustomizations=(KustomizationChange(name="apps", path="./apps/prod", prune=False),)),
            CredentialRefs(),
        ),
        (
            "--kustomization name=apps dependsOn=infra,db retryInterval=1m "
            "--kustomization name=infra wait=no sync_interval=2m timeout=1m force=yes",
            FluxConfigPatch(
                kustomizations=(
                    KustomizationChange(name="apps", depends_on=("infra", "db"), retry_interval_seconds=60),
                    KustomizationChange(
                        name="infra", wait=False, sync_interval_seconds=120, timeout_seconds=60, force=True
                    ),
                )
            ),
            CredentialRefs(),
        ),
    ],
)
def test_config_update(flags: str, patch: FluxConfigPatch, credentials: CredentialRefs) -> None:
    command = update(f"config update cluster-config -c c {flags}")
    assert command.name == "cluster-config" and command.target == C
    assert command.patch == patch
    assert command.credentials == credentials


def test_config_update_with_a_new_ssh_url_may_key_it() -> None:
    command = update("config update apps -c c -u git@github.com:acme/other.git --deploy-key generate")
    assert command.generate_deploy_key
    assert command.patch == FluxConfigPatch(url="git@github.com:acme/other.git")
    assert not update("config update apps -c c -u git@github.com:acme/other.git").generate_deploy_key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config delete x -c c", ConfigDelete(target=C, name="x")),
        ("config delete x -c c --force", ConfigDelete(target=C, name="x", force=True)),
        ("config delete -n x -c c --force false --yes", ConfigDelete(target=C, name="x", force=False)),
        ("config rm x -c c -y", ConfigDelete(target=C, name="x")),
        ("config show x -c c", ConfigShow(target=C, name="x")),
        ("config get x -c c", ConfigShow(target=C, name="x")),
        ("configs list -c c", ConfigList(target=C)),
        ("config ls -c c", ConfigList(target=C)),
        ("status -c c", Status(target=C)),
        ("status x -c c", Status(target=C, name="x")),
        ("config status x -c c", Status(target=C, name="x")),
        ("status --name x -c c", Status(target=C, name="x")),
        ("suspend x -c c", Suspend(target=C, name="x")),
        ("config suspend x -c c", Suspend(target=C, name="x")),
        ("resume x -c c", Resume(target=C, name="x")),
        ("RESUME x -c c", Resume(target=C, name="x")),
        ("status -c prod-weu -t arc", Status(target=ClusterTarget("prod-weu", None, ClusterType.CONNECTED))),
        ("status -c aks1 -t MANAGEDCLUSTERS", Status(target=ClusterTarget("aks1", None, ClusterType.MANAGED))),
        (
            "status -c /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.Kubernetes/connectedClusters/arc1 -g rg",
            Status(
                target=ClusterTarget(
                    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                    "Microsoft.Kubernetes/connectedClusters/arc1",
                    "rg",
                )
            ),
        ),
    ],
)
def test_simple_config_commands(text: str, expected: object) -> None:
    assert run(text) == expected
