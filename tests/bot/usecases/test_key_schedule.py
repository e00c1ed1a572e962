"""Scheduled rotation: which keys are due, the job that rotates each, and what that job does."""

from __future__ import annotations

import pytest

from bot.config_file import DeployKeyPolicy
from bot.jobs import SCHEDULE, SCHEDULER
from bot.key_records import ACTIVE, PENDING, DeployKeyRecord, KeyUser
from bot.policy import Policy
from bot.usecases.key_schedule import due, due_rotations
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, WALL_START, FakeKeyRegistry, World, operators

DAY = 86_400
NOW = WALL_START + 200 * DAY  # 2026-01-01T15:06:40Z
POLICY = DeployKeyPolicy(max_age="90d", channel="C0PLATFORM", repositories=["github.com/org/*"])
USER = KeyUser(CLUSTER.ref.arm_id, "apps", "flux-demo-arc")


def key(key_id: str, age_days: float, *, users: tuple[KeyUser, ...] = (USER,), state: str = ACTIVE) -> DeployKeyRecord:
    return DeployKeyRecord(
        key_id=key_id,
        repository="ssh://git@github.com/org/repo",
        host="github.com",
        full_name="org/repo",
        fingerprint=f"SHA256:{key_id}",
        public_key=f"ssh-ed25519 AAAA{key_id}",
        created_at=NOW - age_days * DAY,
        github_key_id=1,
        users=users,
        state=state,
    )


def test_due_picks_only_keys_in_use_older_than_the_max_age() -> None:
    records = [
        key("dk-old", 91),
        key("dk-exactly", 90),
        key("dk-young", 89.9),
        key("dk-unused", 120, users=()),
        key("dk-pending", 120, state=PENDING),
    ]

    assert [r.key_id for r in due(records, POLICY, NOW)] == ["dk-old", "dk-exactly"]


def test_nothing_is_due_without_a_max_age() -> None:
    assert due([key("dk-old", 1000)], DeployKeyPolicy(channel="C0PLATFORM"), NOW) == []


def test_one_job_per_due_key_and_day() -> None:
    records = [key("dk-a", 100), key("dk-b", 95), key("dk-young", 3)]

    jobs = due_rotations(records, POLICY, NOW)

    assert [(j.job_id, j.text) for j in jobs] == [
        ("rotate-dk-a-20260101", "key rotate --key dk-a"),
        ("rotate-dk-b-20260101", "key rotate --key dk-b"),
    ]
    assert {(j.platform, j.actor, j.channel, j.created_at) for j in jobs} == {(SCHEDULE, SCHEDULER, "C0PLATFORM", NOW)}
    # the same day gives the same ids (beat runs more often than daily); the next day new ones
    later = NOW + 8 * 3600 - 1  # 23:06:39 the same day
    assert [j.job_id for j in due_rotations(records, POLICY, later)] == [j.job_id for j in jobs]
    assert [j.job_id for j in due_rotations(records, POLICY, NOW + DAY)] == [
        "rotate-dk-a-20260102",
        "rotate-dk-b-20260102",
    ]


def test_a_policy_without_a_channel_gives_jobs_without_one() -> None:
    [job] = due_rotations([key("dk-a", 100)], DeployKeyPolicy(max_age="90d"), NOW)
    assert job.channel == ""


@pytest.fixture
def world() -> World:
    return World(fetches=True, key_policy=POLICY)


def registry(world: World) -> FakeKeyRegistry:
    assert world.keys is not None
    return world.keys


def test_a_due_key_is_rotated_by_the_scheduler_in_the_policy_channel(world: World) -> None:
    text = (
        "config create apps -c flux-demo-arc -u ssh://git@github.com/org/repo --branch main --deploy-key generate "
        "--no-extension --interval 20s"
    )
    assert world.run(text, job_id="create") is Phase.SUCCEEDED
    [old] = registry(world).all()
    assert due_rotations(registry(world).all(), POLICY, world.wall_clock()) == []
    world.clock.now += 91 * DAY

    [job] = due_rotations(registry(world).all(), POLICY, world.wall_clock())
    assert world.run_record(job) is Phase.SUCCEEDED

    [new] = registry(world).all()
    assert new.replaces == (old.key_id,)
    assert new.users == (USER,)
    assert world.audit.entries[-1].actor == f"{SCHEDULE}:{SCHEDULER}"
    assert world.audit.entries[-1].origin == f"{SCHEDULE}:C0PLATFORM"
    assert world.channels == {}  # its own message is in the policy channel already
    # the new key is young: nothing is due any more
    assert due_rotations(registry(world).all(), POLICY, world.wall_clock()) == []


def test_a_scheduled_job_whose_key_is_gone_has_nothing_to_rotate(world: World) -> None:
    world.policy = Policy.empty()
    registry(world).save(key("dk-0123456789", 100))
    [job] = due_rotations(registry(world).all(), POLICY, NOW)
    registry(world).delete("dk-0123456789")  # rotated by hand meanwhile

    assert world.run_record(job) is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.error is None
    assert (
        view.note == "Nothing to rotate: fluxops has no deploy key dk-0123456789 in use any more (rotated meanwhile)."
    )
    assert world.key_maker.made == []
    assert world.git.adds == []


def test_the_same_request_from_a_person_is_not_found(world: World) -> None:
    world.policy = operators()

    assert world.run("key rotate --key dk-0123456789") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message == "fluxops has no deploy key dk-0123456789 in use"
