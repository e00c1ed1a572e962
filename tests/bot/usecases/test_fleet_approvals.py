"""Fleet pull requests over the in-memory fakes: which approvals count for `/flux apply` and for apply on merge,
what a merge applies, and that the repository is the host's, not the event's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.config_access import ApprovalRule, RoleRule
from bot.config_file import FleetRepository, FluxopsConfig
from bot.decision import digest
from bot.git_host import CommentRef, Permission, PullRequestInfo, Review, Verdict
from bot.gitevents import GITHUB, CommentEvent, PullRequestEvent, RepoRef
from bot.jobs import JobRecord
from bot.policy import Policy
from bot.usecases import fleet_jobs
from bot.usecases.approvals import tally
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, World

REPO = RepoRef(GITHUB, "acme/fleet", "https://github.com/acme/fleet.git", id="42")
OLD, HEAD, MERGE = "a" * 40, "b" * 40, "c" * 40
NUMBER = 7


def fleet_file(path: str) -> str:
    return f"""\
apiVersion: fluxops.io/v1
kind: Fleet
clusters:
  flux-demo-arc:
    configurations:
      apps:
        namespace: apps
        source:
          kind: git
          url: https://github.com/Azure/gitops-flux2-kustomize-helm-mt
          branch: main
        kustomizations:
          apps:
            path: {path}
"""


def policy() -> Policy:
    rules = [
        RoleRule.model_validate({"role": "admin", "github_users": ["admin"]}),
        RoleRule.model_validate({"role": "operator", "github_users": ["bob", "alice", "rita"]}),
        RoleRule.model_validate({"role": "viewer", "github_users": ["*"]}),
    ]
    return Policy(FluxopsConfig(roles=rules))


def pull(**changes: object) -> PullRequestInfo:
    base = PullRequestInfo(
        number=NUMBER,
        state="open",
        head_sha=HEAD,
        head_branch="apps",
        base_branch="main",
        author="alice",
        from_fork=False,
        reviews=(Review("bob", Verdict.APPROVED, HEAD),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def world() -> World:
    w = World(policy=policy(), fleets=[FleetRepository(repository=REPO.url, path="clusters", apply_on_merge=True)])
    w.extensions.seed_flux(CLUSTER.ref)
    w.git.files = {
        "main": {},
        HEAD: {"clusters/arc.yaml": fleet_file("./apps/staging")},
        MERGE: {"clusters/arc.yaml": fleet_file("./apps/production")},
    }
    w.git.pulls[NUMBER] = pull()
    w.git.authors[NUMBER] = frozenset({"alice"})
    levels = {"admin": Permission.ADMIN, "bob": Permission.WRITE, "alice": Permission.WRITE}
    w.git.permissions = {**levels, "carol": Permission.WRITE, "rita": Permission.READ}
    return w


def pr_event(action: str = "opened", merged: bool = False) -> PullRequestEvent:
    return PullRequestEvent(
        repo=REPO,
        number=NUMBER,
        action=action,
        head_sha=HEAD,
        head_branch="apps",
        base_branch="main",
        author="alice",
        merged=merged,
    )


def plan(world: World) -> Phase:
    record = JobRecord(
        job_id="j-plan", text="", platform="github", actor="alice", kind="plan", event=pr_event().to_json()
    )
    return fleet_jobs.run(record, world.ports(), world.reporter)


def comment_apply(world: World, author: str = "admin", job_id: str = "j-apply") -> Phase:
    body = "/flux apply"
    comment_id = world.git.add_comment(NUMBER, author, body)
    event = CommentEvent(
        repo=REPO, number=NUMBER, comment_id=comment_id, author=author, body=body, body_digest=digest(body)
    )
    record = JobRecord(
        job_id=job_id, text="apply", platform="github", actor=author, kind="apply", event=event.to_json()
    )
    return fleet_jobs.run(record, world.ports(), world.reporter)


def merge_apply(world: World, actor: str = "admin") -> Phase:
    record = JobRecord(
        job_id="j-merge",
        text="",
        platform="github",
        actor=actor,
        kind="apply",
        event=pr_event("closed", merged=True).to_json(),
    )
    return fleet_jobs.run(record, world.ports(), world.reporter)


def told(world: World) -> str:
    return "\n".join(v.text for v in world.reporter.private_views if hasattr(v, "text"))


def applied(world: World) -> bool:
    try:
        world.flux.get(CLUSTER.ref, "apps")
    except errors.NotFound:
        return False
    return True


def refused(world: World) -> list[str]:
    return [e.result for e in world.audit.entries if e.result.startswith("refused")]


def test_an_approval_of_the_head_by_a_writer_with_a_role_applies(world: World) -> None:
    assert plan(world) is Phase.SUCCEEDED
    assert comment_apply(world) is Phase.SUCCEEDED
    assert applied(world)
    assert not refused(world)


def test_an_approval_of_an_older_commit_does_not_count(world: World) -> None:
    world.git.pulls[NUMBER] = pull(reviews=(Review("bob", Verdict.APPROVED, OLD),))
    plan(world)
    assert comment_apply(world) is Phase.FAILED
    said = told(world)
    assert "it is not approved yet" in said and "approved aaaaaaa, not the head commit bbbbbbb" in said
    assert "bob" in said and "comment `/flux apply` again" in said
    assert not applied(world)
    assert refused(world) and "not approved" in refused(world)[0]


@pytest.mark.parametrize(
    ("reviewer", "authors", "reason"),
    [
        ("bob", {"alice", "bob"}, "wrote or pushed a commit of this pull request"),
        ("carol", {"alice"}, "has no fluxops role of their own on flux-demo-arc"),
        ("rita", {"alice"}, "has read access to the repository"),
        ("alice", {"alice"}, "opened this pull request"),
    ],
)
def test_approvals_that_do_not_count_are_named_with_why(
    world: World, reviewer: str, authors: set[str], reason: str
) -> None:
    world.git.pulls[NUMBER] = pull(reviews=(Review(reviewer, Verdict.APPROVED, HEAD),))
    world.git.authors[NUMBER] = frozenset(authors)
    plan(world)
    assert comment_apply(world) is Phase.FAILED
    assert f"{reviewer} ({reason}" in told(world)
    assert not applied(world)
    assert refused(world)


def test_a_standing_request_for_changes_blocks(world: World) -> None:
    world.git.pulls[NUMBER] = pull(
        reviews=(Review("bob", Verdict.APPROVED, HEAD), Review("admin", Verdict.CHANGES_REQUESTED, HEAD))
    )
    plan(world)
    assert comment_apply(world) is Phase.FAILED
    assert "changes were requested by admin" in told(world)


def test_an_approval_given_at_no_known_commit_never_counts() -> None:
    pr = pull(reviews=(Review("bob", Verdict.APPROVED, ""),))
    result = tally(pr, authors=(), role_gap=lambda user: "", can_write=lambda user: "")
    assert not result.approved and "when it was given is unknown" in result.not_counted[0].reason


def test_merge_applies_the_merge_commit_with_approvals_and_the_mergers_roles(world: World) -> None:
    world.git.pulls[NUMBER] = pull(state="merged", merged_by="admin", merge_commit=MERGE)
    world.git.files["main"] = {"clusters/arc.yaml": fleet_file("./apps/somewhere-else")}  # moved on since
    assert merge_apply(world, actor="someone-the-event-named") is Phase.SUCCEEDED
    state = world.flux.get(CLUSTER.ref, "apps")
    assert [k.path for k in state.spec.kustomizations] == ["./apps/production"]
    done = [e for e in world.audit.entries if e.result == "succeeded"]
    assert done and done[0].actor == "github:admin" and MERGE[:12] in done[0].command


def test_merge_without_a_counted_approval_applies_nothing(world: World) -> None:
    world.git.pulls[NUMBER] = pull(
        state="merged", merged_by="admin", merge_commit=MERGE, reviews=(Review("bob", Verdict.APPROVED, OLD),)
    )
    assert merge_apply(world) is Phase.FAILED
    said = told(world)
    assert said.startswith("Merged, but nothing was applied: it is not approved yet")
    assert not applied(world)
    assert refused(world) and world.audit.entries[-1].actor == "github:admin"


def test_merge_by_someone_without_the_role_applies_nothing(world: World) -> None:
    world.git.pulls[NUMBER] = pull(state="merged", merged_by="carol", merge_commit=MERGE)
    assert merge_apply(world, actor="admin") is Phase.FAILED
    assert "carol needs operator on flux-demo-arc" in told(world)
    assert not applied(world)


@pytest.mark.parametrize(
    ("merged_by", "merge_commit", "missing"), [("", MERGE, "who merged"), ("admin", "", "no merge")]
)
def test_merge_the_host_cannot_account_for_applies_nothing(
    world: World, merged_by: str, merge_commit: str, missing: str
) -> None:
    world.git.pulls[NUMBER] = pull(state="merged", merged_by=merged_by, merge_commit=merge_commit)
    assert merge_apply(world) is Phase.FAILED
    assert missing in told(world)
    assert not applied(world) and refused(world)


def test_an_event_naming_another_repository_than_the_host_has_is_refused_silently(world: World) -> None:
    world.git.repositories[REPO.full_name] = replace(REPO, url="https://github.com/evil/fleet.git")
    world.git.pulls[NUMBER] = pull(state="merged", merged_by="admin", merge_commit=MERGE)
    assert merge_apply(world) is Phase.FAILED
    assert not applied(world)
    assert world.reporter.private_views == [] and world.git.said(NUMBER) == []
    assert refused(world) and "evil/fleet" in refused(world)[0]


def test_a_fork_is_not_planned_unless_the_fleet_repository_allows_it(world: World) -> None:
    world.git.pulls[NUMBER] = pull(from_fork=True)
    assert plan(world) is Phase.SUCCEEDED
    assert world.git.said(NUMBER) == []  # no plan: it would show the clusters' state to anyone

    world.fleets = [FleetRepository(repository=REPO.url, path="clusters", plan_forks=True)]
    assert plan(world) is Phase.SUCCEEDED
    assert any("flux-demo-arc" in body for body in world.git.said(NUMBER))


def test_an_apply_comment_edited_since_it_was_sent_is_refused(world: World) -> None:
    body = "/flux apply"
    comment_id = world.git.add_comment(NUMBER, "admin", body)
    world.git.edit_comment(REPO, NUMBER, CommentRef(comment_id), "/flux apply\nand something else")
    event = CommentEvent(
        repo=REPO, number=NUMBER, comment_id=comment_id, author="admin", body=body, body_digest=digest(body)
    )
    record = JobRecord(
        job_id="j-x", text="apply", platform="github", actor="admin", kind="apply", event=event.to_json()
    )
    assert fleet_jobs.run(record, world.ports(), world.reporter) is Phase.FAILED
    assert "the comment changed after it was sent" in told(world)
    assert refused(world) and not applied(world)


def test_the_policy_may_ask_for_more_approvals_of_an_apply(world: World) -> None:
    rules = [
        RoleRule.model_validate({"role": "admin", "github_users": ["admin"]}),
        RoleRule.model_validate({"role": "operator", "github_users": ["bob", "alice", "rita"]}),
    ]
    two = ApprovalRule.model_validate({"clusters": {"names": ["flux-demo-arc"]}, "required": 2, "for": ["apply"]})
    world.policy = Policy(FluxopsConfig(roles=rules, approvals=[two]))
    assert plan(world) is Phase.SUCCEEDED

    assert comment_apply(world) is Phase.FAILED
    assert "1 of the 2 approvals the policy asks for" in told(world)
    assert not applied(world)

    world.git.pulls[NUMBER] = pull(
        reviews=(Review("bob", Verdict.APPROVED, HEAD), Review("admin", Verdict.APPROVED, HEAD))
    )
    assert comment_apply(world, author="bob", job_id="j-apply-2") is Phase.SUCCEEDED
    assert applied(world)
