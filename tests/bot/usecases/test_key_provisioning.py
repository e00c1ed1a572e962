"""`config create ... --deploy-key generate` and `/flux key status`, against in-memory fakes of Azure, GitHub
and the key registry: one key per repository, registered once, handed to Azure only as a protected setting."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.commands import ConfigCreate, Run
from bot.config_file import DeployKeyPolicy
from bot.grammar import parse
from bot.key_records import ACTIVE, KeyUser
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigState, GitSource, ProtectedSettings
from bot.usecases.configs import config_create
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.key_provisioning import key_repository
from bot.views import Phase, StepState, TextView
from tests.bot.usecases.fakes import CLUSTER, WorkerDied, World, everything_said, known_hosts_line

REPO = "ssh://git@github.com/org/repo"
CREATE = f"config create apps -c flux-demo-arc -u {REPO} --branch main --deploy-key generate --interval 20s"
ARC = CLUSTER.ref.arm_id
#: the repositories these tests key (one key per repository and cluster: sharing is off)
KEYS = DeployKeyPolicy(repositories=["github.com/org/*", "github.example.com:2222/*"])
PROD = Cluster(ClusterRef("00000000-0000-0000-0000-000000000002", "prod-rg", ClusterType.MANAGED, "prod-aks"), "weu")


@pytest.fixture
def world() -> World:
    return World(fetches=True, key_policy=KEYS)


def create(world: World, name: str = "apps", *, url: str = REPO, cluster: str = "flux-demo-arc") -> Phase:
    text = f"config create {name} -c {cluster} -u {url} --branch main --deploy-key generate --no-extension"
    return world.run(text, job_id=f"create-{name}-{cluster}")


def test_create_makes_one_key_registers_it_and_gives_it_to_azure_only_as_a_protected_setting(world: World) -> None:
    assert world.run(CREATE) is Phase.SUCCEEDED

    [key] = world.key_maker.made
    [(repository, title, public)] = world.git.adds
    assert (repository, public) == ("org/repo", key.public_key)
    assert title == "fluxops: apps on flux-demo-arc"
    assert world.git.public_keys("org/repo") == [key.public_key]
    # the ARM write: the private half in protected settings, GitHub's host key pinned in the spec
    assert world.flux.count("begin_create_or_update") == 1
    assert world.flux.protected(world.ref, "apps") == ProtectedSettings(ssh_private_key=key.private_key)
    spec = world.flux.state(world.ref, "apps").spec
    assert spec is not None and isinstance(spec.source, GitSource)
    assert spec.source.ssh_known_hosts == known_hosts_line("github.com")
    assert spec.source.url == REPO
    assert key.private_key.reveal() not in repr(spec.__dict__) + repr(spec.source.__dict__)
    # the record: the public half, the GitHub id, the configuration using it
    keys = world.keys
    assert keys is not None
    record = keys.for_config(ARC, "apps")
    assert record is not None
    assert (record.state, record.users) == (ACTIVE, (KeyUser(ARC, "apps"),))
    assert (record.public_key, record.fingerprint, record.github_key_id) == (key.public_key, key.fingerprint, 101)
    assert (record.host, record.full_name, record.repository) == ("github.com", "org/repo", REPO)
    assert keys.unseal(record.key_id) == key.private_key
    assert world.reporter.last.config is not None
    assert world.reporter.last.config.compliance_state == "Compliant"


def test_the_key_is_made_after_the_extension_and_before_the_write(world: World) -> None:
    assert world.run(CREATE) is Phase.SUCCEEDED

    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    steps = [(s.text, s.state) for s in world.reporter.last.steps]
    assert {state for _, state in steps} == {StepState.DONE}
    assert [text for text, _ in steps] == [
        "installed microsoft.flux 1.17.3",
        f"registered read-only deploy key {record.key_id} (SHA256:fake-1) on org/repo",
        "created flux configuration apps in Azure",
    ]


@pytest.mark.parametrize("url", [REPO, "git@github.com:Org/Repo.git", "ssh://git@github.com/org/repo.git"])
def test_a_second_configuration_reading_the_repository_gets_the_same_key(world: World, url: str) -> None:
    assert create(world, "apps") is Phase.SUCCEEDED
    assert create(world, "infra", url=url) is Phase.SUCCEEDED

    [key] = world.key_maker.made
    assert len(world.git.adds) == 1
    assert world.flux.protected(world.ref, "infra") == ProtectedSettings(ssh_private_key=key.private_key)
    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert record.users == (KeyUser(ARC, "apps"), KeyUser(ARC, "infra"))
    assert keys.for_config(ARC, "INFRA") == record
    assert world.reporter.last.steps[0].text == (f"use deploy key {record.key_id} (SHA256:fake-1), already on org/repo")


def test_another_repository_gets_another_key(world: World) -> None:
    assert create(world, "apps") is Phase.SUCCEEDED
    assert create(world, "infra", url="ssh://git@github.com/org/other") is Phase.SUCCEEDED

    assert len(world.key_maker.made) == 2
    assert [(repo, key) for repo, _, key in world.git.adds] == [
        ("org/repo", "ssh-ed25519 AAAAfake-1"),
        ("org/other", "ssh-ed25519 AAAAfake-2"),
    ]


@pytest.mark.parametrize("where", ["after-registration", "during-the-arm-write"])
def test_a_worker_that_died_resumes_with_the_key_it_made(world: World, where: str) -> None:
    if where == "after-registration":
        world.git.die_after_add = True
    else:
        world.flux.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(CREATE)

    assert world.run(CREATE) is Phase.SUCCEEDED

    [key] = world.key_maker.made
    assert world.git.public_keys("org/repo") == [key.public_key]
    assert {public for _, _, public in world.git.adds} == {key.public_key}
    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert (record.state, record.github_key_id, record.users) == (ACTIVE, 101, (KeyUser(ARC, "apps"),))
    assert world.flux.count("begin_create_or_update") == 1
    assert world.flux.protected(world.ref, "apps") == ProtectedSettings(ssh_private_key=key.private_key)
    assert [e.result for e in world.audit.entries] == ["succeeded"]


def test_a_permanent_arm_failure_revokes_and_forgets_the_fresh_key(world: World) -> None:
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed: GitRepositoryInvalid"))

    assert world.run(CREATE) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message == "the ARM operation ended Failed: GitRepositoryInvalid"
    assert world.git.removes == [("org/repo", 101)]
    assert world.git.public_keys("org/repo") == []
    keys = world.keys
    assert keys is not None
    assert (keys.records, keys.sealed, keys.index) == ({}, {}, {})


def test_a_permanent_arm_failure_keeps_a_key_other_configurations_use(world: World) -> None:
    assert create(world, "apps") is Phase.SUCCEEDED
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed"))

    assert create(world, "infra") is Phase.FAILED

    assert world.git.removes == []
    assert world.git.public_keys("org/repo") == ["ssh-ed25519 AAAAfake-1"]
    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert record.users == (KeyUser(ARC, "apps"),)
    assert keys.unseal(record.key_id) is not None


def test_a_retryable_arm_failure_keeps_the_key_for_the_retry(world: World) -> None:
    world.flux.fail_next_begin(errors.Throttled("Azure asked fluxops to slow down (429)", retry_after=30))
    with pytest.raises(errors.Throttled):
        world.run(CREATE)
    assert world.git.removes == []

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert len(world.key_maker.made) == 1
    assert len(world.git.public_keys("org/repo")) == 1


@pytest.mark.parametrize(
    "url", ["ssh://git@ssh.dev.azure.com/v3/org/proj/repo", "git@ssh.dev.azure.com:v3/org/proj/repo"]
)
def test_azure_devops_is_refused_by_the_grammar_and_by_the_use_case(world: World, url: str) -> None:
    text = f"config create apps -c flux-demo-arc -u {url} --branch main --deploy-key generate"
    assert not isinstance(parse(text), Run)
    # A job queued before the grammar refused it still gets nowhere.
    parsed = parse(CREATE)
    assert isinstance(parsed, Run) and isinstance(parsed.command, ConfigCreate)
    command = parsed.command
    assert isinstance(command.spec.source, GitSource)
    command = replace(command, spec=replace(command.spec, source=replace(command.spec.source, url=url)))
    job = Job(world.record(text), world.ports(), world.reporter, "config create apps")

    with pytest.raises(errors.InvalidRequest) as caught:
        config_create(job, command, ResolvedCluster(world.cluster))

    assert "Azure DevOps has no per-repository deploy keys" in caught.value.message
    assert "--https-key-ref" in caught.value.recommendation
    assert (world.key_maker.made, world.git.adds) == ([], [])
    assert world.flux.writes() == world.extensions.writes() == []


@pytest.mark.parametrize("url", ["https://github.com/org/repo", "not a url"])
def test_only_ssh_urls_take_a_deploy_key(url: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        key_repository(url)
    assert "is not an SSH repository URL" in caught.value.message


def test_key_repository_reads_host_port_and_path() -> None:
    repo = key_repository("ssh://git@GitHub.example.com:2222/Org/Repo.git")
    assert (repo.host, repo.full_name, repo.port) == ("github.example.com", "org/repo", 2222)
    assert repo.ref.url == "https://github.example.com/org/repo"


def test_without_a_key_encryption_key_nothing_is_written(world: World) -> None:
    world.keys = None

    assert world.run(CREATE) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert "FLUXOPS_KEY_ENCRYPTION_KEY is not set" in error.message
    assert "Fernet key" in error.recommendation
    assert (world.key_maker.made, world.git.adds) == ([], [])
    assert world.flux.writes() == []
    assert world.extensions.writes() == []  # refused before anything changed in Azure


def test_the_private_key_never_leaves_in_messages_job_store_or_audit(world: World) -> None:
    world.key_policy = KEYS.model_copy(update={"channel": "C0PLATFORM"})
    assert create(world, "apps") is Phase.SUCCEEDED
    assert create(world, "infra") is Phase.SUCCEEDED
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed"))
    assert create(world, "other", url="ssh://git@github.com/org/other") is Phase.FAILED
    assert world.run("key status", job_id="status") is Phase.SUCCEEDED

    said = everything_said(world)
    assert "SHA256:fake-1" in said  # what is said is there: the check can see a key
    secrets = world.key_maker.private_texts()
    assert len(secrets) == 4
    assert [s for s in secrets if s in said] == []


# -- /flux key status ---------------------------------------------------------------------------------


def note(world: World) -> str:
    view = world.reporter.last
    assert view.phase is Phase.SUCCEEDED, view.error
    return view.note


def test_key_status_lists_each_key_with_its_users_age_and_next_rotation(world: World) -> None:
    world.more_clusters = [PROD]
    world.key_policy = KEYS.model_copy(update={"max_age": "90d", "shared": True})
    assert create(world, "apps") is Phase.SUCCEEDED
    assert create(world, "apps", cluster="prod-aks") is Phase.SUCCEEDED
    world.clock.now += 3 * 86_400 + 5

    assert world.run("key status", job_id="status") is Phase.SUCCEEDED

    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert note(world) == (
        f"• `{record.key_id}` github.com/org/repo · SHA256:fake-1 · 3 d old · "
        "used by apps on flux-demo-arc, apps on prod-aks · next rotation in 86 d"
    )
    assert world.audit.entries[-1].job_id != "status"  # a read is not audited


@pytest.mark.parametrize(
    ("age", "policy", "expected"),
    [
        (600, None, "no scheduled rotation (set `deploy_keys.max_age` in the policy file)"),
        (600, "1h", "next rotation in 50 min"),
        (5 * 3600, "90d", "next rotation in 89 d"),
        (3600, "1h", "rotation due now"),
        (100 * 86_400, "90d", "rotation due now"),
    ],
)
def test_key_status_says_when_the_next_rotation_is(world: World, age: int, policy: str | None, expected: str) -> None:
    world.key_policy = KEYS.model_copy(update={"max_age": policy})
    assert create(world, "apps") is Phase.SUCCEEDED
    world.clock.now = age

    world.run("key status", job_id="status")

    assert note(world).endswith(f" · {expected}")


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (59, "0 min"),
        (600, "10 min"),
        (3600, "1 h"),
        (47 * 3600 + 3599, "47 h"),
        (2 * 86_400, "2 d"),
        (400 * 86_400, "400 d"),
    ],
)
def test_key_status_shows_the_age_in_a_unit_that_reads_well(world: World, age: int, shown: str) -> None:
    assert create(world, "apps") is Phase.SUCCEEDED
    world.clock.now = age

    world.run("key status", job_id="status")

    assert f" · {shown} old · " in note(world)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("key status -c prod-aks", ["apps on prod-aks"]),
        ("key status infra -c flux-demo-arc", ["infra on flux-demo-arc"]),
        ("key status apps -c flux-demo-arc", []),
        ("key status -c flux-demo-arc", ["infra on flux-demo-arc"]),
    ],
)
def test_key_status_of_a_cluster_or_configuration(world: World, text: str, shown: list[str]) -> None:
    world.more_clusters = [PROD]
    assert create(world, "apps", cluster="prod-aks") is Phase.SUCCEEDED
    assert create(world, "infra", url="ssh://git@github.com/org/other") is Phase.SUCCEEDED

    assert world.run(text, job_id="status") is Phase.SUCCEEDED

    lines = note(world).splitlines()
    if not shown:
        assert lines == ["fluxops made no deploy key used apps on flux-demo-arc."]
    else:
        assert [line.split(" · ")[3] for line in lines] == [f"used by {u}" for u in shown]


def test_key_status_without_keys_and_without_a_registry(world: World) -> None:
    assert world.run("key status", job_id="s-1") is Phase.SUCCEEDED
    assert note(world) == "fluxops made no deploy key used anywhere."

    world.keys = None
    assert world.run("key status", job_id="s-2") is Phase.FAILED
    error = world.reporter.last.error
    assert error is not None and "FLUXOPS_KEY_ENCRYPTION_KEY" in error.message


def test_key_status_marks_a_key_that_is_not_in_use_yet(world: World) -> None:
    world.git.die_after_add = True
    with pytest.raises(WorkerDied):
        world.run(CREATE)

    world.run("key status", job_id="status")

    assert "(pending) github.com/org/repo" in note(world)
    assert "used by no configuration" in note(world)
    assert not any(isinstance(v, TextView) for v in world.reporter.private_views)


def test_a_repository_on_another_ssh_host_gets_no_github_deploy_key(world: World) -> None:
    url = "ssh://git@gitlab.com/org/repo"

    assert create(world, "apps", url=url) is Phase.FAILED

    assert world.git.adds == []  # today: registered on github.com/org/repo, and gitlab.com pinned to GitHub's host key


def test_a_create_that_died_after_adopting_its_key_still_says_it_made_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    get = world.flux.get
    died: list[bool] = []

    def dies_once_watching(cluster: ClusterRef, name: str) -> FluxConfigState:
        if world.flux.count("begin_create_or_update") and not died:
            died.append(True)
            raise WorkerDied("while watching reconciliation")
        return get(cluster, name)

    monkeypatch.setattr(world.flux, "get", dies_once_watching)
    with pytest.raises(WorkerDied):
        world.run(CREATE)

    assert world.run(CREATE) is Phase.SUCCEEDED

    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert [s.text for s in world.reporter.last.steps] == [
        "installed microsoft.flux 1.17.3",
        f"registered read-only deploy key {record.key_id} (SHA256:fake-1) on org/repo",
        "created flux configuration apps in Azure",
    ]
    assert len(world.git.adds) == 1


def test_a_deleted_configuration_no_longer_uses_its_key(world: World) -> None:
    assert create(world, "apps") is Phase.SUCCEEDED
    assert create(world, "infra") is Phase.SUCCEEDED

    assert world.run("config delete apps -c flux-demo-arc", job_id="delete", confirmed_by="U999") is Phase.SUCCEEDED

    keys = world.keys
    assert keys is not None
    [record] = keys.all()
    assert record.users == (KeyUser(ARC, "infra"),)
    assert keys.for_config(ARC, "apps") is None


def test_without_github_host_keys_no_key_is_registered(world: World) -> None:
    world.git.host_keys = []

    assert world.run(CREATE) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "github.com published no SSH host keys, so fluxops cannot pin the host for Flux"
    assert world.git.adds == []
    assert world.flux.writes() == []
    keys = world.keys
    assert keys is not None
    assert keys.records == {}


def test_a_host_on_another_ssh_port_is_pinned_with_its_port(world: World) -> None:
    url = "ssh://git@github.example.com:2222/org/repo"

    assert create(world, "apps", url=url) is Phase.SUCCEEDED

    spec = world.flux.state(world.ref, "apps").spec
    assert spec is not None and isinstance(spec.source, GitSource)
    assert spec.source.ssh_known_hosts == known_hosts_line("[github.example.com]:2222")
