"""Credentials and deploy keys go only where the policy scopes them: repositories and clusters per credential,
never over http://, restated when a configuration's URL changes, deploy keys only for listed repositories and
one per (repository, cluster) unless shared; every refusal audited, nothing written to Azure or GitHub."""

from __future__ import annotations

import pytest

from bot.config_file import DeployKeyPolicy
from bot.models import (
    Cluster,
    ClusterRef,
    ClusterType,
    FluxConfigPatch,
    FluxConfigSpec,
    GitSource,
    ProtectedSettings,
    RepositoryRef,
)
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, World
from tests.bot.usecases.scoping import with_credentials

ARC = CLUSTER.ref
PROD = Cluster(ClusterRef("00000000-0000-0000-0000-000000000002", "prod-rg", ClusterType.MANAGED, "prod-aks"), "weu")
TOKEN = "ado-pat"
ADO = "https://dev.azure.com/org/proj/_git/apps"
KEYS = DeployKeyPolicy(repositories=["github.com/org/*"])
SSH = "ssh://git@github.com/org/repo"


CA = "ado-ca"


@pytest.fixture
def world() -> World:
    policy = with_credentials(
        {TOKEN: ["dev.azure.com/org/proj/_git/*"], CA: ["dev.azure.com/org/*"]}, clusters=["flux-demo-arc"], public=[CA]
    )
    world = World(fetches=True, more_clusters=[PROD], policy=policy, key_policy=KEYS, valid_tokens={"t-1"})
    world.credentials.values.update({TOKEN: "t-1", CA: "-----BEGIN CERTIFICATE-----"})
    return world


def create_with_token(world: World, url: str = ADO, cluster: str = "flux-demo-arc", name: str = "apps") -> Phase:
    text = (
        f"config create {name} -c {cluster} -u {url} --branch main --https-user git --https-key-ref {TOKEN} "
        "--no-extension --interval 20s"
    )
    return world.run(text, job_id=f"create-{name}-{cluster}")


def seed(world: World, url: str) -> None:
    """Configuration apps on flux-demo-arc, reading ``url`` with no credential (made outside this test's jobs)."""
    source = GitSource(url=url, ref=RepositoryRef(branch="main"))
    world.flux.seed(ARC, FluxConfigSpec(name="apps", source=source))


def refused(world: World, *phrases: str) -> str:
    """The job failed with a message holding ``phrases``, and the refusal is in the audit log."""
    view = world.reporter.last
    assert view.phase is Phase.FAILED
    assert view.error is not None
    for phrase in phrases:
        assert phrase in view.error.message, view.error.message
    refusals = [e for e in world.audit.entries if e.result.startswith("refused")]
    assert refusals and all(p in refusals[-1].result for p in phrases), refusals
    assert "t-1" not in repr(world.audit.entries) + repr(world.reporter.shown)
    return view.error.recommendation


def test_a_credential_serves_a_repository_and_cluster_in_its_scope(world: World) -> None:
    assert create_with_token(world) is Phase.SUCCEEDED
    assert world.flux.protected(ARC, "apps") == ProtectedSettings(https_key=world.credentials.get(TOKEN))
    assert not [e for e in world.audit.entries if e.result.startswith("refused")]


def test_a_credential_is_refused_for_a_repository_outside_its_scope(world: World) -> None:
    assert create_with_token(world, url="https://github.com/evil/repo") is Phase.FAILED
    hint = refused(world, f"credential '{TOKEN}' may not be used for github.com/evil/repo")
    assert f"credentials.{TOKEN}.repositories" in hint
    assert world.flux.writes() == []


def test_a_credential_is_refused_on_a_cluster_outside_its_scope(world: World) -> None:
    assert create_with_token(world, cluster="prod-aks") is Phase.FAILED
    refused(world, f"credential '{TOKEN}' may not be used on cluster 'prod-aks'")
    assert world.flux.writes() == []


def test_a_credential_never_goes_over_http(world: World) -> None:
    assert create_with_token(world, url="http://dev.azure.com/org/proj/_git/apps") is Phase.FAILED
    hint = refused(world, "without TLS")
    assert "https://dev.azure.com/org/proj/_git/apps" in hint
    assert world.flux.writes() == []


def test_a_credential_the_policy_does_not_declare_is_refused(world: World) -> None:
    world.credentials.values["stray"] = "s-1"
    text = f"config create apps -c flux-demo-arc -u {ADO} --branch main --https-user git --https-key-ref stray"
    assert world.run(f"{text} --no-extension") is Phase.FAILED
    refused(world, "no credential named 'stray'")
    assert world.flux.writes() == []


def test_a_secret_named_as_a_ca_certificate_is_refused(world: World) -> None:
    """ARM returns httpsCACert on a GET: a token named there would be readable by anyone who may read the
    configuration, so only a credential the policy declares public goes there (and only within its scope)."""
    ca = f"--https-ca-cert {TOKEN}"
    assert world.run(f"config create g -c flux-demo-arc --no-extension -u {ADO} --branch main {ca}") is Phase.FAILED
    hint = refused(world, f"credential '{TOKEN}' is not declared public, and --https-ca-cert puts it where")
    assert "`public: true`" in hint
    text = f"config create g -c flux-demo-arc --no-extension -u https://github.com/evil/repo --branch main {ca}"
    assert world.run(text, job_id="j-evil") is Phase.FAILED
    refused(world, f"credential '{TOKEN}'")
    assert world.flux.writes() == []


def test_a_public_ca_certificate_goes_only_where_its_scope_says(world: World) -> None:
    text = f"config create g -c flux-demo-arc --no-extension -u {ADO} --branch main --https-ca-cert {CA}"
    assert world.run(text) is Phase.SUCCEEDED
    assert world.flux.protected(ARC, "g") == ProtectedSettings(https_ca_cert=world.credentials.get(CA))
    elsewhere = "config create h -c flux-demo-arc --no-extension -u https://github.com/evil/repo --branch main "
    assert world.run(elsewhere + f"--https-ca-cert {CA}", job_id="j-evil") is Phase.FAILED
    refused(world, f"credential '{CA}' may not be used for github.com/evil/repo")
    # a CA certificate is no secret the configuration holds: its URL moves freely
    assert (
        world.run("config update g -c flux-demo-arc -u https://github.com/org/other", job_id="j-move")
        is Phase.SUCCEEDED
    )


def test_a_new_url_for_a_configuration_holding_a_credential_needs_it_restated(world: World) -> None:
    assert create_with_token(world) is Phase.SUCCEEDED
    before = world.flux.count("begin_update")

    assert world.run("config update apps -c flux-demo-arc -u https://github.com/evil/repo", job_id="u1") is Phase.FAILED
    hint = refused(world, f"holds credential '{TOKEN}'", "github.com/evil/repo")
    assert "--https-key-ref" in hint and "--deploy-key generate" in hint
    assert world.flux.count("begin_update") == before

    # restated, the same scope check applies to the new URL
    text = (
        f"config update apps -c flux-demo-arc -u https://github.com/evil/repo --https-user git --https-key-ref {TOKEN}"
    )
    assert world.run(text, job_id="u2") is Phase.FAILED
    refused(world, "may not be used for github.com/evil/repo")
    assert world.flux.count("begin_update") == before

    # a URL the credential serves, stated again, goes through
    other = "https://dev.azure.com/org/proj/_git/other"
    text = f"config update apps -c flux-demo-arc -u {other} --https-user git --https-key-ref {TOKEN}"
    assert world.run(text, job_id="u3") is Phase.SUCCEEDED
    assert world.flux.count("begin_update") == before + 1


def test_a_configuration_with_an_https_user_holds_a_token_even_when_fluxops_did_not_give_it(world: World) -> None:
    """Created by az (fluxops recorded nothing): ARM's httpsUser says a token is there."""
    assert create_with_token(world) is Phase.SUCCEEDED
    assert world.keys is not None
    world.keys.uses.clear()
    assert world.run("config update apps -c flux-demo-arc -u https://github.com/evil/repo") is Phase.FAILED
    refused(world, "holds an HTTPS token (user 'git')")


def test_a_credential_given_without_a_new_url_is_checked_against_the_current_one(world: World) -> None:
    seed(world, "https://github.com/org/elsewhere")
    text = f"config update apps -c flux-demo-arc --https-user git --https-key-ref {TOKEN}"
    assert world.run(text) is Phase.FAILED
    refused(world, "may not be used for github.com/org/elsewhere")
    assert world.flux.writes() == []


def test_a_new_url_for_a_configuration_holding_nothing_is_a_plain_update(world: World) -> None:
    seed(world, "https://github.com/org/public")
    assert world.run("config update apps -c flux-demo-arc -u https://github.com/org/other") is Phase.SUCCEEDED
    assert world.flux.count("begin_update") == 1


# -- deploy keys --------------------------------------------------------------------------------------


def create_keyed(world: World, name: str = "apps", cluster: str = "flux-demo-arc", url: str = SSH) -> Phase:
    text = f"config create {name} -c {cluster} -u {url} --branch main --deploy-key generate --no-extension"
    return world.run(text, job_id=f"create-{name}-{cluster}")


def test_a_deploy_key_only_for_a_repository_the_policy_lists(world: World) -> None:
    assert create_keyed(world, url="ssh://git@github.com/evil/repo") is Phase.FAILED
    hint = refused(world, "may not register deploy keys on github.com/evil/repo")
    assert "deploy_keys.repositories" in hint
    assert world.git.adds == [] and world.key_maker.made == []
    assert world.flux.writes() == [] and world.extensions.count("begin_create") == 0


def test_without_listed_repositories_no_deploy_key_is_made(world: World) -> None:
    world.key_policy = DeployKeyPolicy()
    assert create_keyed(world) is Phase.FAILED
    refused(world, "may not register deploy keys on github.com/org/repo")
    assert world.git.adds == []


def test_each_cluster_gets_its_own_key_of_a_repository(world: World) -> None:
    assert create_keyed(world) is Phase.SUCCEEDED
    assert create_keyed(world, "infra") is Phase.SUCCEEDED  # same cluster: the same key
    assert create_keyed(world, cluster="prod-aks") is Phase.SUCCEEDED
    assert world.keys is not None
    arc, prod = world.keys.for_config(ARC.arm_id, "apps"), world.keys.for_config(PROD.ref.arm_id, "apps")
    assert arc is not None and prod is not None and arc.key_id != prod.key_id
    assert world.keys.for_config(ARC.arm_id, "infra") == arc
    assert world.flux.protected(ARC, "apps") != world.flux.protected(PROD.ref, "apps")
    assert len(world.git.public_keys("org/repo")) == 2


def test_a_shared_key_serves_every_cluster_when_the_policy_says_so(world: World) -> None:
    world.key_policy = KEYS.model_copy(update={"shared": ["github.com/org/repo"]})
    assert create_keyed(world) is Phase.SUCCEEDED
    assert create_keyed(world, cluster="prod-aks") is Phase.SUCCEEDED
    assert world.keys is not None
    assert world.keys.for_config(ARC.arm_id, "apps") == world.keys.for_config(PROD.ref.arm_id, "apps")
    assert len(world.git.public_keys("org/repo")) == 1


def test_a_new_url_for_a_keyed_configuration_needs_a_new_key(world: World) -> None:
    assert create_keyed(world) is Phase.SUCCEEDED
    assert world.keys is not None
    old = world.keys.for_config(ARC.arm_id, "apps")
    assert old is not None

    other = "ssh://git@github.com/org/other"
    assert world.run(f"config update apps -c flux-demo-arc -u {other}", job_id="u1") is Phase.FAILED
    refused(world, f"holds deploy key {old.key_id}", "github.com/org/other")
    assert world.flux.count("begin_update") == 0

    assert world.run(f"config update apps -c flux-demo-arc -u {other} --deploy-key generate", job_id="u2") is (
        Phase.SUCCEEDED
    )
    new = world.keys.for_config(ARC.arm_id, "apps")
    assert new is not None and new.key_id != old.key_id and new.full_name == "org/other"
    assert world.git.public_keys("org/other") == [new.public_key]
    assert world.flux.protected(ARC, "apps") == ProtectedSettings(ssh_private_key=world.key_maker.made[-1].private_key)
    refreshed = world.keys.get(old.key_id)
    assert refreshed is not None and refreshed.users == ()


def test_a_new_key_on_update_only_for_a_listed_repository(world: World) -> None:
    assert create_keyed(world) is Phase.SUCCEEDED
    text = "config update apps -c flux-demo-arc -u ssh://git@github.com/evil/repo --deploy-key generate"
    assert world.run(text, job_id="u1") is Phase.FAILED
    refused(world, "may not register deploy keys on github.com/evil/repo")
    assert world.flux.count("begin_update") == 0 and len(world.git.adds) == 1


def test_a_repository_rotation_does_not_merge_per_cluster_keys(world: World) -> None:
    world.policy = with_credentials({}, clusters=["*"])
    assert create_keyed(world) is Phase.SUCCEEDED
    assert create_keyed(world, cluster="prod-aks") is Phase.SUCCEEDED
    assert world.run(f"key rotate --repo {SSH}", job_id="rot") is Phase.FAILED
    error = world.reporter.last.error
    assert error is not None and "one deploy key per cluster" in error.message
    assert "/flux key rotate --key dk-" in error.recommendation
    assert world.flux.count("begin_update") == 0


# -- credential rotation ------------------------------------------------------------------------------


def test_a_rotation_re_hands_a_credential_only_where_it_is_still_in_scope(world: World) -> None:
    world.policy = with_credentials({TOKEN: ["dev.azure.com/org/proj/_git/*"]}, clusters=["*"])
    assert create_with_token(world) is Phase.SUCCEEDED
    assert create_with_token(world, cluster="prod-aks") is Phase.SUCCEEDED
    assert create_with_token(world, name="moved") is Phase.SUCCEEDED
    # moved elsewhere outside fluxops (az), and prod taken out of the credential's scope
    world.flux.begin_update(ARC, "moved", FluxConfigPatch(url="https://dev.azure.com/org/proj/_git/other")).result()
    world.policy = with_credentials({TOKEN: ["dev.azure.com/org/proj/_git/*"]}, clusters=["flux-demo-arc"])
    world.credentials.values[TOKEN] = "t-2"
    world.valid_tokens.add("t-2")

    assert world.run(f"key rotate --https-key-ref {TOKEN}", job_id="rot") is Phase.SUCCEEDED

    def token(cluster: ClusterRef, name: str) -> str | None:
        held = world.flux.protected(cluster, name)
        return held.https_key.reveal() if held is not None and held.https_key is not None else None

    assert token(ARC, "apps") == "t-2"
    assert token(PROD.ref, "apps") == "t-1"  # not re-handed
    assert token(ARC, "moved") == "t-1"
    note = world.reporter.last.note
    assert "1 configuration given `ado-pat` fetched with its new value" in note
    assert "apps on prod-aks (credential 'ado-pat' may not be used on cluster 'prod-aks'" in note
    assert "moved on flux-demo-arc (it reads dev.azure.com/org/proj/_git/other now" in note
    refusals = [e for e in world.audit.entries if e.result.startswith("refused")]
    assert refusals and "apps on prod-aks" in refusals[-1].result


def test_a_deleted_configuration_no_longer_holds_its_credential(world: World) -> None:
    assert create_with_token(world) is Phase.SUCCEEDED
    operator = world.policy
    world.policy = with_credentials(
        {TOKEN: ["dev.azure.com/org/proj/_git/*"]}, clusters=["flux-demo-arc"], role="admin"
    )
    assert world.run("config delete apps -c flux-demo-arc", job_id="d", confirmed_by="U123") is Phase.SUCCEEDED
    world.policy = operator
    assert world.keys is not None and world.keys.credential_use(TOKEN).users == ()
    seed(world, "https://github.com/org/public")
    assert world.run("config update apps -c flux-demo-arc -u https://github.com/org/other") is Phase.SUCCEEDED
