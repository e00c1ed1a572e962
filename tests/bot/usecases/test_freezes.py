"""Change freezes through the use-cases: refused at intake and again when the job runs, break-glass for admins only
(audited, announced), a fleet run paused at a wave boundary, `/flux freezes`, a fleet PR plan's freeze line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.change_calendar import now_utc
from bot.commands import Run
from bot.config_file import load_config
from bot.decision import REFUSED, decide
from bot.fleet.diff import ClusterPlan
from bot.fleet.plan import Plan
from bot.grammar import parse
from bot.grammar.freeze_commands import MAX_REASON
from bot.policy import Identity, Policy
from bot.render.markdown import render_markdown
from bot.render.plan_markdown import render_plan
from bot.rollout import snapshot
from bot.rollout.engine import Rollout
from bot.rollout.report import RunReport
from bot.usecases import break_glass, fleet_freeze
from bot.usecases.context import Job
from bot.views import FleetRunView, JobView, Phase
from tests.bot.rollout.sim import Arm, cluster, plan
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_SPEC, WALL_START, WatchPolicy, World

CREATE = "config create apps -c flux-demo-arc -u https://github.com/org/repo --branch main --no-extension"
CHANNEL = "C0POLICY"
ADMIN, OPERATOR = "U123", "U0OPS"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def policy(
    start: float, end: float, names: str = "flux-demo-arc", channel: str = CHANNEL, admin: str = ADMIN, more: str = ""
) -> Policy:
    """``admin`` admin, U0OPS operator everywhere; ``names`` frozen from ``start`` to ``end`` (epoch seconds);
    overrides announced in ``channel``; ``more`` freezes (YAML list items) after that one."""
    return Policy(
        load_config(
            f"roles:\n  - {{role: admin, slack_users: [{admin}]}}\n  - {{role: operator, slack_users: [{OPERATOR}]}}\n"
            f"freezes:\n  - clusters: {{names: ['{names}']}}\n    from: {iso(start)}\n    to: {iso(end)}\n"
            f"    reason: quarter-end freeze\n{more}" + (f"policy_channel: {channel}\n" if channel else "")
        )
    )


def demoted() -> Policy:
    """The policy once U123 is an operator, no longer an admin (the policy channel is still set)."""
    return Policy(load_config(f"roles:\n  - {{role: operator, slack_users: [{ADMIN}]}}\npolicy_channel: {CHANNEL}\n"))


def decided(pol: Policy, world: World, text: str, user: str, now: float) -> tuple[str, str]:
    parsed = parse(text)
    assert isinstance(parsed, Run), parsed
    decision = decide(pol, Identity("slack", user), parsed.command, text, resolve=world.resolve, now=now)
    return decision.outcome, decision.reason


def test_a_freeze_refuses_a_create_at_intake_with_the_reason_and_its_end() -> None:
    world = World()
    pol = policy(WALL_START - 3600, WALL_START + 7200)
    outcome, reason = decided(pol, world, CREATE, ADMIN, WALL_START)
    assert outcome == REFUSED
    end = now_utc(WALL_START + 7200).strftime("%a %d %b %H:%M UTC")
    assert reason == f"`config create` was not run: flux-demo-arc is frozen until {end}: quarter-end freeze"
    assert decided(pol, world, CREATE, ADMIN, WALL_START + 7200)[0] != REFUSED, "it ends when it says"
    assert decided(pol, world, "config list -c flux-demo-arc", ADMIN, WALL_START)[0] != REFUSED, "reads go on"


def test_break_glass_is_for_admins_only() -> None:
    world = World()
    pol = policy(WALL_START - 3600, WALL_START + 3600)
    glass = CREATE + ' --break-glass "INC-7 outage"'
    assert decided(pol, world, glass, ADMIN, WALL_START)[0] != REFUSED
    outcome, reason = decided(pol, world, glass, OPERATOR, WALL_START)
    assert outcome == REFUSED and reason.startswith("`--break-glass` is for admins")
    assert "operator" in reason


def test_a_freeze_that_began_after_intake_refuses_the_job_when_it_runs() -> None:
    # intake decided at the real clock (long after this freeze); the worker's clock is inside it
    world = World(policy=policy(WALL_START - 60, WALL_START + 3600))
    assert world.run(CREATE) is Phase.FAILED
    assert world.flux.count("begin_create_or_update") == 0
    view = world.reporter.last
    assert (
        view.error is not None and "frozen until" in view.error.message and "quarter-end freeze" in view.error.message
    )
    assert "--break-glass" in view.error.recommendation
    [entry] = world.audit.entries
    assert entry.result.startswith("refused: `config create` was not run: flux-demo-arc is frozen until")


def test_break_glass_runs_the_change_audits_it_and_announces_it_in_the_policy_channel() -> None:
    world = World(policy=policy(WALL_START - 60, WALL_START + 3600))
    assert world.run(CREATE + ' --break-glass "INC-7 outage"') is Phase.SUCCEEDED
    assert world.flux.count("begin_create_or_update") == 1
    [entry] = world.audit.entries
    assert entry.result == "succeeded (break-glass: INC-7 outage)"
    assert '--break-glass "INC-7 outage"' in entry.command or "--break-glass" in entry.command
    [announced] = world.channels[CHANNEL].shown
    assert isinstance(announced, JobView)
    assert "Break-glass" in announced.note and "INC-7 outage" in announced.note
    assert "flux-demo-arc: frozen until" in announced.note and "quarter-end freeze" in announced.note


def test_break_glass_is_refused_when_the_job_runs_if_the_person_is_no_longer_an_admin() -> None:
    world = World(policy=policy(WALL_START - 60, WALL_START + 3600))
    record = world.record(CREATE + ' --break-glass "INC-7"')
    # between intake and the run, the policy made U123 an operator
    world.policy = demoted()
    assert world.run_record(record) is Phase.FAILED
    assert world.flux.count("begin_create_or_update") == 0
    assert world.audit.entries[-1].result.startswith("refused: `--break-glass` is for admins")


def test_a_break_glass_reason_is_masked_and_capped_where_it_is_kept() -> None:
    # the grammar refuses a token typed into a command; a record written otherwise must still not keep one
    parsed = parse(CREATE)
    assert isinstance(parsed, Run)
    token = "ghp_" + "A1b2" * 9
    pasted = replace(parsed.command, break_glass=f"INC-7 used {token} " + "x" * 300)
    note = break_glass.audit_note(pasted)
    assert token not in note and note.startswith(" (break-glass: INC-7 used *** xxx")
    assert len(note) == len(" (break-glass: )") + MAX_REASON


def test_break_glass_is_refused_where_the_policy_names_no_channel_to_announce_it_in() -> None:
    world = World()
    no_channel = policy(WALL_START - 60, WALL_START + 3600, channel="")
    outcome, reason = decided(no_channel, world, CREATE + ' --break-glass "INC-7"', ADMIN, WALL_START)
    assert outcome == REFUSED and "policy_channel" in reason


def test_a_destructive_command_with_break_glass_still_asks_for_its_confirmation() -> None:
    world = World(policy=policy(WALL_START - 60, WALL_START + 3600))
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    text = 'config delete cluster-config -c flux-demo-arc --break-glass "INC-7"'
    assert world.run(text) is Phase.AWAITING_CONFIRMATION
    assert CHANNEL not in world.channels, "announced when it runs, not when it asks"


# -- fleet runs ------------------------------------------------------------------------------------


RUN = "j-0123456789ab"


def fleet_world(freeze_from: float, frozen: str = "fleet-0002", **more: str) -> World:
    """fleet-0000..0002 (env=prod); ``frozen`` frozen for an hour from ``freeze_from`` (``more``: policy's)."""
    clusters = [type(CLUSTER)(cluster(i), "eastus", {"env": "prod"}) for i in range(3)]
    pol = policy(freeze_from, freeze_from + 3600, names=frozen, **more)
    world = World(more_clusters=clusters, policy=pol, watch=WatchPolicy(first=1.0, longest=2.0, timeout=120.0))
    targets = [[cluster(i).arm_id, "create"] for i in range(3)]
    world.jobs.put(RUN, "run:plan", json.dumps({"targets": targets, "unchanged": 0}))
    return world


def later_freeze(world: World) -> None:
    """The policy gains another freeze, on fleet-0002 (a year-end one), on from now; fleet-0001's stays as
    ``fleet_world(WALL_START - 60, frozen="fleet-0001")`` has it."""
    year_end = (
        f"  - clusters: {{names: ['fleet-0002']}}\n    from: {iso(WALL_START - 60)}\n    to: {iso(WALL_START + 7200)}\n"
        "    reason: year-end freeze\n"
    )
    world.policy = policy(WALL_START - 60, WALL_START + 3540, names="fleet-0001", more=year_end)


def run_job(world: World) -> Job:
    """The fleet run's job, as U123 started it."""
    return Job(world.record("fleet list", job_id=RUN), world.ports(), world.reporter, "fleet")


def fleet_rollout(world: World, reason: str = "", waves: tuple[int, ...] = (1, 2)) -> Rollout:
    job = run_job(world)
    ports = job.ports
    report = RunReport(job, save=lambda v: ports.jobs.put(job.job_id, snapshot.VIEW_FIELD, snapshot.encode(v)))
    the_plan = plan(3, waves)
    arm = Arm(world.wall_clock)
    return Rollout(
        job,
        the_plan,
        write=arm.write,
        observe=arm.observe,
        report=report,
        gate=fleet_freeze.gate(job, reason, the_plan.title),
    )


def resume_glass(world: World, user: str, reason: str) -> bool:
    """``user`` runs `fleet resume RUN --break-glass REASON` (its role checked by fleet_control, not here)."""
    record = replace(world.record("fleet list", job_id="j-resume"), actor=user)
    clusters = world.ports().clusters.all()
    return fleet_freeze.save_resume_glass(Job(record, world.ports(), world.reporter, "resume"), RUN, reason, clusters)


def last_run_view(world: World) -> FleetRunView:
    return [v for v in world.reporter.shown if isinstance(v, FleetRunView)][-1]


def test_a_fleet_run_pauses_at_the_wave_boundary_once_a_freeze_starts() -> None:
    world = fleet_world(WALL_START + 1)  # on after the canary's wave started
    assert fleet_rollout(world).run() is Phase.HALTED
    final = last_run_view(world)
    assert final.done == 1, "the canary's wave ran to its end, the next never started"
    assert final.note.startswith("Paused before wave 2: fleet-0002 is frozen until")
    assert "quarter-end freeze" in final.note and f"/flux fleet resume {RUN}" in final.note


def test_a_resume_with_break_glass_carries_the_run_through_the_freeze() -> None:
    world = fleet_world(WALL_START - 60)
    assert fleet_rollout(world).run() is Phase.HALTED
    assert resume_glass(world, OPERATOR, "not mine to break")
    assert fleet_rollout(world).run() is Phase.HALTED, "an operator's break-glass does not count"
    assert world.run(f'fleet resume {RUN} --break-glass "INC-9 rollback"', job_id="j-2") is Phase.SUCCEEDED
    assert fleet_rollout(world).run() is Phase.SUCCEEDED
    assert "INC-9 rollback" in world.channels[CHANNEL].shown[-1].note  # type: ignore[union-attr]


def test_a_resume_break_glass_breaks_only_the_freeze_it_was_given_for() -> None:
    world = fleet_world(WALL_START - 60, frozen="fleet-0001")
    assert fleet_rollout(world, waves=(1, 1, 1)).run() is Phase.HALTED
    assert world.run(f'fleet resume {RUN} --break-glass "INC-9 rollback"', job_id="j-2") is Phase.SUCCEEDED
    later_freeze(world)  # after the resume: the admin broke the quarter-end freeze, not this one

    assert fleet_rollout(world, waves=(1, 1, 1)).run() is Phase.HALTED

    final = last_run_view(world)
    assert final.done == 2, "through the quarter-end freeze on fleet-0001, paused at the year-end one"
    assert final.note.startswith("Paused before wave 3: fleet-0002 is frozen until") and "year-end" in final.note


def test_a_resume_break_glass_is_not_kept_when_no_freeze_closes_the_run() -> None:
    world = fleet_world(WALL_START + 7200)
    assert world.run(f'fleet resume {RUN} --break-glass "INC-9"', job_id="j-2") is Phase.SUCCEEDED
    assert "`--break-glass` was not kept" in world.reporter.last.note
    assert world.jobs.get(RUN, fleet_freeze.RESUMED_WITH) is None


def test_the_runs_own_break_glass_stops_counting_once_its_author_is_no_longer_an_admin() -> None:
    world = fleet_world(WALL_START - 60, admin="U0SOMEONE")  # U123 broke the glass as an admin, since demoted
    assert fleet_rollout(world, reason="INC-1 hotfix").run() is Phase.HALTED
    assert last_run_view(world).note.startswith("Paused before wave 2: fleet-0002 is frozen until")
    assert CHANNEL not in world.channels


def test_the_runs_own_break_glass_breaks_only_the_freeze_it_first_met() -> None:
    world = fleet_world(WALL_START - 60, frozen="fleet-0001")
    the_plan = plan(3, (1, 1, 1))
    wave_two, wave_three = the_plan.targets[1:2], the_plan.targets[2:3]
    assert fleet_freeze.gate(run_job(world), "INC-1 hotfix", the_plan.title)(wave_two) == ""
    later_freeze(world)  # the run halted for another reason meanwhile, and is resumed in the next freeze

    paused = fleet_freeze.gate(run_job(world), "INC-1 hotfix", the_plan.title)(wave_three)

    assert paused.startswith("fleet-0002 is frozen until") and "year-end" in paused


def test_fleet_resume_with_break_glass_needs_an_admin() -> None:
    world = fleet_world(WALL_START - 60)
    world.policy = demoted()
    world.run(f'fleet resume {RUN} --break-glass "INC-9"', job_id="j-2")
    assert world.jobs.get(RUN, fleet_freeze.RESUMED_WITH) is None
    assert "admin" in world.audit.entries[-1].result


# -- what people see ---------------------------------------------------------------------------------


def test_freezes_lists_the_freeze_on_now_for_the_clusters_it_covers() -> None:
    world = World(policy=policy(WALL_START - 60, WALL_START + 3600))
    assert world.run("freezes") is Phase.SUCCEEDED
    view = world.reporter.last
    assert view.freezes is not None
    [row] = view.freezes
    assert row.kind == "freeze" and row.active and row.reason == "quarter-end freeze"
    assert row.clusters == ("flux-demo-arc",)
    text = render_markdown(view)
    assert "Freezes and windows" in text and "quarter-end freeze" in text and "flux-demo-arc" in text


def test_freezes_says_so_when_there_is_none() -> None:
    world = World(policy=policy(WALL_START + 86400 * 60, WALL_START + 86400 * 61))
    assert world.run("freezes -c flux-demo-arc") is Phase.SUCCEEDED
    assert world.reporter.last.freezes == ()
    assert "No freeze or window" in world.reporter.last.note


@pytest.mark.parametrize("frozen", [(), ("prod-weu is frozen until Mon 28 Dec 06:00 UTC: year-end",)])
def test_a_fleet_plan_shows_an_active_freeze(frozen: tuple[str, ...]) -> None:
    the_plan = Plan(clusters=(ClusterPlan(key="prod-weu", label="prod-weu", error=None),))
    text = render_plan(the_plan, repo="org/fleet", number=3, head_sha="a" * 40, frozen=frozen)
    assert ("Change freeze" in text) == bool(frozen)
    if frozen:
        assert "prod-weu is frozen until Mon 28 Dec 06:00 UTC: year-end" in text


def test_the_clock_helpers_agree() -> None:
    assert now_utc(WALL_START) - now_utc(WALL_START - 60) == timedelta(seconds=60)
