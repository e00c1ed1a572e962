"""Key and credential rotations meet change freezes on every cluster their key is used on, however the rotation is
named; break-glass needs an admin on all of them; a scheduled rotation is postponed; and a change that has started
(a rotation, a create) runs to its end when a freeze begins while it is under way."""

from __future__ import annotations

import pytest

from bot.commands import Run
from bot.config_file import load_config
from bot.decision import ALLOWED, decide
from bot.freezes import gated
from bot.grammar import parse
from bot.jobs import SCHEDULE, JobRecord
from bot.policy import Identity, Policy
from bot.views import JobView, Phase
from tests.bot.usecases.fakes import WALL_START, WorkerDied, World, typed
from tests.bot.usecases.test_credential_rotation import REF, ROTATE, change_token, handed_out, tokens
from tests.bot.usecases.test_freezes import CHANNEL, CREATE, iso
from tests.bot.usecases.test_key_rotation import KEYS, PROD, REPO, assert_rotated, keyed, rotate

#: the key of these rotations is shared by flux-demo-arc and prod-aks: each form of `key rotate` switches both
FORMS = ["key rotate apps -c flux-demo-arc", f"key rotate --repo {REPO}", "key rotate --key {key}"]


#: credential REF serves the Azure DevOps repository of tests/bot/usecases/test_credential_rotation.py everywhere
CREDENTIALS = (
    f"credentials:\n  {REF}: {{file: /run/secrets/{REF}, repositories: ['dev.azure.com/org/proj/_git/*'], "
    "clusters: {names: ['*']}}\n"
)


def frozen(
    names: str = "prod-aks", role: str = "operator", *, start: float = WALL_START - 60, more: str = ""
) -> Policy:
    """U123 has ``role`` everywhere; ``names`` frozen for an hour from ``start``; overrides announced in CHANNEL;
    ``more`` YAML added."""
    return Policy(
        load_config(
            f"roles:\n  - {{role: {role}, slack_users: [U123]}}\n"
            f"freezes:\n  - clusters: {{names: ['{names}']}}\n    from: {iso(start)}\n    to: {iso(start + 3600)}\n"
            f"    reason: quarter-end freeze\npolicy_channel: {CHANNEL}\n{more}"
        )
    )


@pytest.fixture
def world() -> World:
    """flux-demo-arc and prod-aks, deploy keys of org/repo shared between them (as test_key_rotation's world)."""
    return World(fetches=True, more_clusters=[PROD], policy=frozen(start=WALL_START + 3600), key_policy=KEYS)


def untouched(world: World, writes_before: int) -> None:
    """Nothing changed: no switch asked of Azure, no new key made or registered."""
    assert world.flux.count("begin_update") == writes_before
    assert len(world.key_maker.made) == 1
    assert [public for _, _, public in world.git.adds] == ["ssh-ed25519 AAAAfake-1"]


@pytest.mark.parametrize("form", FORMS)
def test_a_rotation_is_refused_while_a_cluster_using_its_key_is_frozen(world: World, form: str) -> None:
    old = keyed(world)
    world.policy = frozen()  # prod-aks, which shares the key, froze after intake decided
    text = form.format(key=old.key_id)
    parsed = parse(text)
    assert isinstance(parsed, Run) and gated(parsed.command)
    writes = world.flux.count("begin_update")

    assert rotate(world, text) is Phase.FAILED

    untouched(world, writes)
    error = world.reporter.last.error
    assert error is not None and error.message.startswith("`key rotate` was not run: prod-aks is frozen until")
    assert "quarter-end freeze" in error.message and "--break-glass" in error.recommendation
    assert world.audit.entries[-1].result.startswith("refused: `key rotate` was not run: prod-aks is frozen")


def test_a_rotation_by_repository_takes_break_glass_from_an_admin_of_every_cluster_using_the_key(
    world: World,
) -> None:
    old = keyed(world)
    text = f'key rotate --repo {REPO} --break-glass "INC-9 key leaked"'
    parsed = parse(text)
    assert isinstance(parsed, Run), "the grammar takes --break-glass on every form of key rotate"
    world.policy = frozen()
    assert rotate(world, text, job_id="rot-op") is Phase.FAILED, "an operator may not break the glass"
    assert (
        world.reporter.last.error is not None and "`--break-glass` is for admins" in world.reporter.last.error.message
    )

    world.policy = frozen(role="admin")
    decision = decide(world.policy, Identity("slack", "U123"), parsed.command, text, resolve=world.resolve)
    assert decision.outcome == ALLOWED

    assert rotate(world, text) is Phase.SUCCEEDED

    assert_rotated(world, old)
    [announced] = world.channels[CHANNEL].shown
    assert isinstance(announced, JobView) and "INC-9 key leaked" in announced.note
    assert "prod-aks: frozen until" in announced.note, "it names the frozen cluster the key is shared with"
    assert world.audit.entries[-1].result == "succeeded (break-glass: INC-9 key leaked)"


def test_a_credential_rotation_is_refused_while_a_cluster_given_it_is_frozen() -> None:
    world = World(fetches=True, more_clusters=[PROD], policy=frozen(start=WALL_START + 3600, more=CREDENTIALS))
    world.valid_tokens.add("token-1")
    world.credentials.values[REF] = "token-1"
    handed_out(world)
    change_token(world, "token-2")
    world.policy = frozen(more=CREDENTIALS)

    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    assert tokens(world) == ["token-1", "token-1"]
    error = world.reporter.last.error
    assert error is not None and error.message.startswith("`key rotate` was not run: prod-aks is frozen until")


def scheduled(key_id: str, job_id: str) -> JobRecord:
    text = f"key rotate --key {key_id}"
    return JobRecord(
        job_id=job_id, text=text, command=typed(text), platform=SCHEDULE, actor="fluxops-scheduler", channel="C0KEYS"
    )


def test_a_scheduled_rotation_is_postponed_until_after_the_freeze(world: World) -> None:
    old = keyed(world)
    writes = world.flux.count("begin_update")
    world.policy = frozen()

    assert world.run_record(scheduled(old.key_id, "rotate-day-1")) is Phase.HALTED

    untouched(world, writes)
    note = world.reporter.last.note
    assert note.startswith("Scheduled rotation postponed: `key rotate` was not run: prod-aks is frozen until")
    assert "next daily check" in note
    # the next day's check, once the freeze is over
    world.policy = frozen(start=WALL_START - 7200)
    assert world.run_record(scheduled(old.key_id, "rotate-day-2")) is Phase.SUCCEEDED
    assert world.flux.count("begin_update") == writes + 3


# -- a started change runs to its end ----------------------------------------------------------------


@pytest.mark.parametrize("step", ["rotate.register", "rotate.switch", "rotate.revoke"])
def test_a_rotation_that_started_before_a_freeze_resumes_to_its_end_in_it(world: World, step: str) -> None:
    old = keyed(world)
    world.crash_at(step)
    with pytest.raises(WorkerDied):
        rotate(world)
    world.policy = frozen("flux-demo-arc")  # the cluster the command names, and one the key is used on

    assert rotate(world) is Phase.SUCCEEDED, "a rotation stopped halfway would leave old keys revoked or split"

    assert_rotated(world, old)


def test_a_create_whose_worker_died_resumes_its_write_when_a_freeze_has_begun_since() -> None:
    world = World(policy=frozen("flux-demo-arc", "admin", start=WALL_START + 3600))
    world.flux.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(CREATE)
    world.policy = frozen("flux-demo-arc", "admin")

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert world.flux.count("begin_create_or_update") == 1 and world.flux.count("resume") == 1


def test_a_create_not_started_when_a_freeze_began_is_still_refused() -> None:
    world = World(policy=frozen("flux-demo-arc", "admin"))
    assert world.run(CREATE) is Phase.FAILED
    assert world.flux.count("begin_create_or_update") == 0
