"""run_job and give_up: what every job shares (parsing again, auditing once, ending Failed when told to)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.command_codec import encode
from bot.commands import KeyRotate
from bot.jobs import SCHEDULE, SCHEDULER, JobRecord
from bot.usecases.executor import give_up
from bot.views import JobView, Phase, StepState, TextView
from tests.bot.usecases.fakes import TUTORIAL_SPEC, World, typed

CREATE = "config create apps -c flux-demo-arc -u https://github.com/org/repo --branch main --no-extension"
#: 40 hex characters where a path goes: looks like a token, so the audit masks it (the grammar lets it through)
TOKEN_LIKE = "0123456789abcdef0123456789abcdef01234567"


def test_give_up_ends_the_job_failed_and_audits_it_once(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    world.flux.fail_next_begin(errors.Throttled("Azure asked fluxops to slow down (429)", retry_after=30))
    text = "suspend cluster-config -c flux-demo-arc"
    with pytest.raises(errors.Throttled) as caught:
        world.run(text)
    record = world.jobs.load("j-1")

    give_up(record, world.ports(), world.reporter, caught.value)
    give_up(record, world.ports(), world.reporter, caught.value)  # the task layer gave up twice (a redelivery)

    view = world.reporter.last
    assert view.phase is Phase.FAILED
    assert view.error is not None
    assert view.error.message == "Azure asked fluxops to slow down (429)"
    assert view.error.doing == "running `/flux suspend cluster-config on flux-demo-arc`"
    assert [(s.text, s.state) for s in view.steps] == [("suspend flux configuration cluster-config", StepState.FAILED)]
    assert isinstance(world.reporter.private_views[-1], JobView)
    assert world.jobs.get("j-1", "phase") == "failed"
    assert [e.result for e in world.audit.entries] == ["failed: Azure asked fluxops to slow down (429)"]
    assert world.audit.entries[0].cluster_id == world.ref.arm_id  # from the decision: nothing resolved it

    # A copy of the job that runs later does nothing.
    shown = len(world.reporter.shown)
    assert world.run(text) is Phase.FAILED
    assert len(world.reporter.shown) == shown
    assert world.flux.count("begin_update") == 1


def test_give_up_on_a_read_does_not_audit(world: World) -> None:
    record = world.record("config list -c flux-demo-arc")

    give_up(record, world.ports(), world.reporter, errors.ServiceUnavailable("Azure Resource Manager answered 503"))

    assert world.jobs.get("j-1", "phase") == "failed"
    assert world.audit.entries == []


def test_give_up_on_text_that_no_longer_parses_marks_it_failed(world: World) -> None:
    record = world.record("frobnicate everything")

    give_up(record, world.ports(), world.reporter, errors.ServiceUnavailable("503"))

    assert world.jobs.get("j-1", "phase") == "failed"
    assert world.audit.entries == []
    assert world.reporter.shown == []


@pytest.mark.parametrize("text", ["frobnicate everything", "help", "help config create"])
def test_a_job_that_carries_no_runnable_command_fails_privately(world: World, text: str) -> None:
    assert world.run(text) is Phase.FAILED

    assert world.reporter.shown == []
    [reply] = world.reporter.private_views
    assert isinstance(reply, TextView) and reply.error
    assert f"`/flux {text}`" in reply.text
    assert world.jobs.get("j-1", "phase") == "failed"


def test_the_audit_entry_keeps_the_command_with_secrets_masked(world: World) -> None:
    text = f"{CREATE} --kustomization name=apps path=./{TOKEN_LIKE}"

    assert world.run(text) is Phase.SUCCEEDED

    [entry] = world.audit.entries
    assert TOKEN_LIKE not in entry.command
    assert entry.command.startswith("/flux config create apps -c flux-demo-arc ")
    assert "***" in entry.command
    assert entry.cluster_id == world.ref.arm_id  # the page matches on the id: names repeat across groups


def test_audit_of_a_cluster_one_cannot_see_is_refused_like_an_unknown_one(world: World) -> None:
    world.run(CREATE, job_id="j-1")
    assert world.run("audit --cluster elsewhere", job_id="j-2") is Phase.FAILED
    error = world.reporter.last.error
    assert error is not None and error.message == "<@U123> has no role on a cluster named 'elsewhere'"


@pytest.mark.parametrize(
    ("text", "results"),
    [
        ("audit", ["succeeded", "succeeded"]),
        ("audit --limit 1", ["succeeded"]),
        ("audit --cluster flux-demo-arc", ["succeeded", "succeeded"]),
    ],
)
def test_audit_reads_the_log(world: World, text: str, results: list[str]) -> None:
    world.run(CREATE, job_id="j-1")
    world.run("suspend apps -c flux-demo-arc", job_id="j-2")

    assert world.run(text, job_id="j-3") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.audit is not None
    assert [e.result for e in view.audit] == results
    if results:
        assert view.audit[0].job_id == "j-2"  # newest first
    else:
        assert view.note == "no audit entries in that window"
    assert len(world.audit.entries) == 2  # reading is not audited


def test_each_job_audits_its_own_outcome(world: World) -> None:
    world.run(CREATE, job_id="j-1")
    world.run(CREATE, job_id="j-2")  # same command again: now the name exists

    assert [(e.job_id, e.result.split(":")[0]) for e in world.audit.entries] == [
        ("j-1", "succeeded"),
        ("j-2", "failed"),
    ]
    assert [e.id for e in world.audit.entries] == ["1-0", "2-0"]


def test_a_command_swapped_in_the_record_is_not_the_one_decided(world: World) -> None:
    """Same text and decision, another command in the record's JSON (rewritten in Redis): refused, audited."""
    record = replace(
        world.record("suspend cluster-config -c flux-demo-arc"), command=typed("suspend other -c flux-demo-arc")
    )

    assert world.run_record(record) is Phase.FAILED

    assert world.flux.writes() == []
    assert "not the one that was authorized" in world.audit.entries[-1].result


@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (SCHEDULER, typed("config delete cluster-config -c flux-demo-arc")),
        (SCHEDULER, typed("key rotate --repo https://github.com/org/repo")),
        (SCHEDULER, encode(KeyRotate(key_id="dk-../../x\x00"))),  # what the grammar would never let through
        ("U123", typed("key rotate --key dk-0123456789")),
    ],
)
def test_a_scheduled_job_may_only_rotate_one_key_by_its_id(world: World, actor: str, command: str) -> None:
    """A record that claims to come from beat carries no decision: only what beat starts is run."""
    record = JobRecord(job_id="j-sched", text="key rotate", platform=SCHEDULE, actor=actor, command=command)

    assert world.run_record(record) is Phase.FAILED

    assert world.flux.writes() == []
    assert "may only rotate one deploy key named by its id" in world.audit.entries[-1].result


@pytest.mark.parametrize(
    "text", [CREATE, "suspend cluster-config -c flux-demo-arc", "suspend missing -c flux-demo-arc"]
)
def test_the_audit_entry_is_on_record_before_the_job_is_seen_to_end(
    world: World, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Whoever sees the job end (the store's phase, which `follow` and the UI read) can read its audit entry."""
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    audited_when_final: list[int] = []
    put = world.jobs.put

    def watching(job_id: str, key: str, value: str) -> None:
        if key == "phase" and Phase(value).terminal:
            audited_when_final.append(len(world.audit.entries))
        put(job_id, key, value)

    monkeypatch.setattr(world.jobs, "put", watching)
    world.run(text)

    assert audited_when_final and audited_when_final[0] == 1
    assert len(world.audit.entries) == 1
