"""`config create`: the tutorial's command end to end, against in-memory fakes of Azure and Redis."""

from __future__ import annotations

import pytest

from bot import errors
from bot.models import Kustomization, Secret
from bot.usecases.configs import lock_key
from bot.views import JobView, Phase, StepState
from tests.bot.usecases.fakes import FLUX_VERSION, TUTORIAL_SPEC, WorkerDied, World
from tests.bot.usecases.scoping import with_credentials

CREATE = (
    "config create cluster-config -c flux-demo-arc --namespace cluster-config "
    "-u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
    "--kustomization name=infra path=./infrastructure prune=true"
)
INSTALL = "install the microsoft.flux extension"
INSTALLED = f"installed microsoft.flux {FLUX_VERSION}"
CREATED = "created flux configuration cluster-config in Azure"


def phases(world: World) -> list[Phase]:
    """The phases the job's message went through, without repeats."""
    seen: list[Phase] = []
    for view in world.reporter.job_views:
        if not seen or seen[-1] is not view.phase:
            seen.append(view.phase)
    return seen


def final_steps(world: World) -> list[tuple[str, StepState]]:
    return [(s.text, s.state) for s in world.reporter.last.steps]


@pytest.mark.parametrize(
    ("extension_present", "flags", "installs"),
    [
        pytest.param(False, "", True, id="no-extension-yet"),
        pytest.param(True, "", False, id="extension-present"),
        pytest.param(False, " --no-extension", False, id="no-extension-flag"),
    ],
)
def test_tutorial_create(world: World, extension_present: bool, flags: str, installs: bool) -> None:
    if extension_present:
        world.extensions.seed_flux(world.ref)

    assert world.run(CREATE + flags) is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.title == "config create cluster-config on flux-demo-arc"
    assert view.error is None
    assert view.config is not None
    assert (view.config.name, view.config.compliance_state) == ("cluster-config", "Compliant")
    expected = [(INSTALLED, StepState.DONE)] if installs else []
    assert final_steps(world) == [*expected, (CREATED, StepState.DONE)]
    assert (INSTALL in world.reporter.step_texts()) is installs
    assert phases(world) == [Phase.RUNNING, Phase.WATCHING, Phase.SUCCEEDED]

    assert world.extensions.count("begin_create") == int(installs)
    assert world.extensions.count("find_flux") == (0 if "--no-extension" in flags else 1 + int(installs))
    assert world.flux.writes() == [("begin_create_or_update", "cluster-config")]
    spec = world.flux.state(world.ref, "cluster-config").spec
    assert spec is not None
    assert spec.namespace == "cluster-config"
    assert spec.kustomizations == (Kustomization(name="infra", path="./infrastructure", prune=True),)
    assert world.flux.protected(world.ref, "cluster-config") is None

    assert [(e.result, e.job_id, e.cluster, e.actor, e.origin) for e in world.audit.entries] == [
        ("succeeded", "j-1", "flux-demo-arc", "slack:U123", "slack:C123")
    ]
    assert world.audit.entries[0].command == f"/flux {CREATE}{flags}"
    assert world.jobs.get("j-1", "phase") == "succeeded"
    assert world.reporter.private_views == []
    assert world.locks.holders == {}


def test_the_extension_step_comes_before_the_configuration(world: World) -> None:
    world.run(CREATE)
    texts = world.reporter.step_texts()
    assert texts.index(INSTALL) < texts.index(INSTALLED) < texts.index("create flux configuration cluster-config")


def test_rerunning_a_finished_job_does_nothing(world: World) -> None:
    assert world.run(CREATE) is Phase.SUCCEEDED
    calls = (list(world.flux.calls), list(world.extensions.calls))
    shown, audited = len(world.reporter.shown), len(world.audit.entries)

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert (world.flux.calls, world.extensions.calls) == calls
    assert (len(world.reporter.shown), len(world.audit.entries)) == (shown, audited)


def test_a_job_whose_worker_died_resumes_its_saved_operation(world: World) -> None:
    world.flux.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(CREATE)
    token = world.jobs.get("j-1", "token:write")
    assert token is not None
    assert world.jobs.get("j-1", "phase") == "running"
    # The dead worker's lock is still there, held in the job's name: the recovered job re-enters it.
    key = lock_key(world.ref, "cluster-config")
    world.locks.take(key, "j-1")

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert world.flux.writes() == [("begin_create_or_update", "cluster-config"), ("resume", token)]
    assert world.extensions.count("begin_create") == 1
    assert final_steps(world) == [(INSTALLED, StepState.DONE), (CREATED, StepState.DONE)]
    assert [e.result for e in world.audit.entries] == ["succeeded"]
    # taken by the first run, by the dead worker's leftover, and re-entered by the recovered run
    assert world.locks.taken == [(key, "j-1")] * 3
    assert world.locks.holders == {key: ("j-1", 1)}  # only the leftover (its TTL ends it in Redis)


def test_an_extension_install_is_resumed_too(world: World) -> None:
    world.extensions.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(CREATE)
    token = world.jobs.get("j-1", "token:extension")
    assert token is not None

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert world.extensions.writes() == [("begin_create", "flux"), ("resume", token)]
    assert world.flux.count("begin_create_or_update") == 1


def test_an_operation_still_running_is_polled_until_it_ends(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.script(still_running=3)

    assert world.run(CREATE) is Phase.SUCCEEDED

    operation = world.flux.operations[world.jobs.get("j-1", "token:write") or ""]
    assert operation.polls == 4
    assert world.heartbeats.count("j-1") >= 4
    assert world.flux.count("begin_create_or_update") == 1


def test_create_with_a_credential_reference_sends_the_secret_as_protected_settings(world: World) -> None:
    world.credentials.values["gh-token"] = "s3cr3t-value"
    world.policy = with_credentials({"gh-token": ["github.com/org/*"]})
    text = "config create apps -c flux-demo-arc -u https://github.com/org/repo --branch main --https-user git"

    assert world.run(f"{text} --https-key-ref gh-token --no-extension") is Phase.SUCCEEDED

    protected = world.flux.protected(world.ref, "apps")
    assert protected is not None
    assert protected.https_key == Secret("s3cr3t-value")
    assert "s3cr3t-value" not in repr(world.reporter.shown) + repr(world.audit.entries)


def test_create_with_an_unknown_credential_fails_before_writing(world: World) -> None:
    text = "config create apps -c flux-demo-arc -u https://github.com/org/repo --branch main --https-user git"

    assert world.run(f"{text} --https-key-ref nope") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert "no credential named 'nope'" in error.message
    assert world.flux.writes() == []


def test_create_of_an_existing_name_is_refused(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert view.error.message == "flux configuration 'cluster-config' already exists on cluster 'flux-demo-arc'"
    assert "`/flux config update cluster-config -c flux-demo-arc ...`" in view.error.recommendation
    assert view.error.doing == "running `/flux config create cluster-config on flux-demo-arc`"
    assert world.reporter.private_views == [view]
    assert world.flux.writes() == []
    assert world.flux.state(world.ref, "cluster-config").spec == TUTORIAL_SPEC
    assert [e.result for e in world.audit.entries] == [f"failed: {view.error.message}"]
    assert world.jobs.get("j-1", "phase") == "failed"


def test_non_compliant_fails_with_the_failing_objects_message(world: World) -> None:
    world.flux.bad_paths = {"./infrastructure"}

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert view.error.doing == "reconciling flux configuration 'cluster-config' on cluster 'flux-demo-arc'"
    assert view.error.message.startswith("Flux reports Non-Compliant: Kustomization cluster-config-infra: ")
    assert "kustomization path not found" in view.error.message
    assert "infrastructure: no such file or directory" in view.error.message
    assert "`/flux status cluster-config -c flux-demo-arc`" in view.error.recommendation
    assert view.config is not None and view.config.compliance_state == "Non-Compliant"
    assert world.reporter.private_views == [view]
    assert world.audit.entries[0].result.startswith("failed: Flux reports Non-Compliant")


def test_a_source_that_fails_to_fetch_points_at_its_address_and_credentials(world: World) -> None:
    world.flux.fetches = lambda url, protected: "failed to checkout and determine revision: authentication required"

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert view.error.message.startswith("Flux reports Non-Compliant: GitRepository cluster-config: failed to checkout")
    assert view.error.recommendation.startswith("check the source's address and credentials")
    assert "fix the repository" not in view.error.recommendation
    assert "`/flux config update cluster-config -c flux-demo-arc`" in view.error.recommendation


def test_reconciliation_that_never_settles_times_out(world: World) -> None:
    world.flux.settle_after = None

    assert world.run(CREATE) is Phase.TIMED_OUT

    view = world.reporter.last
    assert view.error is not None
    assert view.error.message == "still Pending after 600 s"
    assert "`/flux status cluster-config -c flux-demo-arc`" in view.error.recommendation
    assert world.clock.now >= world.watch.timeout
    sleeps = world.clock.sleeps
    assert sleeps[0] == world.watch.first
    assert sleeps == sorted(sleeps)
    assert max(sleeps) == world.watch.longest
    assert world.reporter.private_views == [view]
    assert [e.result for e in world.audit.entries] == ["timed_out: still Pending after 600 s"]
    assert world.jobs.get("j-1", "phase") == "timed_out"


def test_provisioning_failed_ends_the_job_failed(world: World) -> None:
    world.flux.provisioning_errors["cluster-config"] = "the extension's agent is not reachable"

    assert world.run(CREATE) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "Azure reports provisioning Failed: the extension's agent is not reachable"
    assert "`/flux extension show -c flux-demo-arc`" in error.recommendation


def test_an_operation_that_ends_failed_fails_the_job_and_its_step(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed: GitRepositoryInvalid"))

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert view.error.message == "the ARM operation ended Failed: GitRepositoryInvalid"
    assert final_steps(world) == [("create flux configuration cluster-config", StepState.FAILED)]
    assert world.reporter.private_views == [view]
    assert [e.result for e in world.audit.entries] == [f"failed: {view.error.message}"]


def test_a_lock_held_by_another_job_makes_this_one_wait(world: World) -> None:
    key = lock_key(world.ref, "cluster-config")
    world.locks.take(key, "j-0")

    with pytest.raises(errors.Busy) as caught:
        world.run(CREATE)

    assert caught.value.holder == "j-0"
    view = world.reporter.last
    assert view.phase is Phase.WAITING
    assert "j-0" in view.note
    assert world.jobs.get("j-1", "phase") == "waiting"
    assert world.flux.writes() == world.extensions.writes() == []
    assert world.audit.entries == []
    assert world.reporter.private_views == []

    world.locks.release(key, "j-0")
    assert world.run(CREATE) is Phase.SUCCEEDED
    assert world.reporter.last.note == ""
    assert [e.result for e in world.audit.entries] == ["succeeded"]


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (errors.Throttled("Azure asked fluxops to slow down (429)", retry_after=30), True),
        (errors.ServiceUnavailable("Azure Resource Manager answered 503"), True),
        (errors.Conflict("another operation is in progress on cluster-config"), True),
        (errors.Unauthorized("the credential of fluxops was refused (403)"), False),
        (errors.InvalidRequest("the repository URL is not valid"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_retryable_errors_are_raised_again_and_others_fail_the_job(
    world: World, error: errors.FluxopsError, retried: bool
) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.fail_next_begin(error)

    if retried:
        with pytest.raises(type(error)) as caught:
            world.run(CREATE)
        assert caught.value is error
        view = world.reporter.last
        assert view.note == f"{error.message}; trying again shortly"
        assert not view.phase.terminal
        assert world.audit.entries == []
        assert world.reporter.private_views == []
        # The task layer retries: the same job runs again and gets through.
        assert world.run(CREATE) is Phase.SUCCEEDED
        assert world.flux.count("begin_create_or_update") == 2
    else:
        assert world.run(CREATE) is Phase.FAILED
        view = world.reporter.last
        assert view.error is not None and view.error.message == error.message
        assert isinstance(world.reporter.private_views[-1], JobView)
        assert [e.result for e in world.audit.entries] == [f"failed: {error.message}"]


@pytest.mark.parametrize(
    ("provisioning", "expected"),
    [("Creating", errors.StillRunning), ("Updating", errors.StillRunning), ("Failed", None)],
)
def test_an_extension_that_is_not_ready(world: World, provisioning: str, expected: type[Exception] | None) -> None:
    world.extensions.seed_flux(world.ref, provisioning_state=provisioning)

    if expected is not None:
        with pytest.raises(expected):
            world.run(CREATE)
        assert world.jobs.get("j-1", "phase") == "running"
    else:
        assert world.run(CREATE) is Phase.FAILED
        error = world.reporter.last.error
        assert error is not None
        assert error.message == "the microsoft.flux extension on cluster 'flux-demo-arc' is Failed"
        assert "`/flux extension show -c flux-demo-arc`" in error.recommendation
    assert world.flux.writes() == world.extensions.writes() == []
