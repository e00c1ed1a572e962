"""Fleet runs at intake: a selector is decided over every cluster it matches among those the person may see.

Tried through intake's own authority (handlers.authority.EdgeAuthority, reading the inventory snapshot the
workers publish in Redis) with the policy file's real loader:

- a viewer on one matched cluster cannot ``fleet apply`` (nor ``fleet extension update``) to the selector, and
  is told which clusters and what role they hold;
- a selector that matches only clusters the person may not see is answered exactly as one that matches none,
  and names none of them; neither do counts or lists in a partial refusal;
- the approvals of the strictest matched cluster apply, and the decision says how many clusters matched;
- no inventory yet: refused, nothing decided.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.commands import Run
from bot.config_file import load_config
from bot.decision import Decision
from bot.grammar import parse
from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from bot.policy import Identity, Policy
from handlers.authority import EdgeAuthority
from workers.redis_names import INVENTORY_KEY

SUB = "00000000-0000-0000-0000-000000000001"


def cluster(name: str, **tags: str) -> Cluster:
    return Cluster(ClusterRef(SUB, "fleet-rg", ClusterType.MANAGED, name), "westeurope", dict(tags))


CLUSTERS = [
    *(cluster(f"prod-{n:02}", env="prod", team="web") for n in range(1, 6)),
    *(cluster(f"stage-{n:02}", env="staging", team="web") for n in range(1, 4)),
    cluster("secret-vault", env="vault", team="sec"),
    cluster("prod-99", env="prod", team="sec"),
]
POLICY = Policy(
    load_config(
        """
roles:
  - role: operator
    slack_users: [UOPS]
    clusters: {tags: {team: web}}
  - role: operator
    slack_users: [UMIXED]
    clusters: {tags: {env: staging}}
  - role: viewer
    slack_users: [UMIXED]
    clusters: {names: [prod-03]}
  - role: viewer
    slack_users: [UVIEW]
    clusters: {tags: {team: web}}
  - role: admin
    slack_users: [UROOT]
  - role: operator
    slack_users: [UVAULT]
    clusters: {tags: {env: vault}}
approvals:
  - clusters: {tags: {env: prod}}
    required: 2
    expires: 1h
  - clusters: {tags: {env: staging}}
    required: 1
    expires: 10m
"""
    )
)


class SnapshotRedis:
    """What intake reads of Redis to decide: the inventory snapshot (None: not published yet)."""

    def __init__(self, snapshot: str | None) -> None:
        self.snapshot = snapshot

    async def get(self, key: str) -> str | None:
        assert key == INVENTORY_KEY
        return self.snapshot


def decided(user: str, text: str, *, snapshot: str | None = Inventory(CLUSTERS).to_json()) -> Decision:
    parsed = parse(text)
    assert isinstance(parsed, Run), parsed
    redis: Any = SnapshotRedis(snapshot)
    authority = EdgeAuthority(redis=redis, policy=POLICY)
    return asyncio.run(authority.decide(Identity("slack", user), parsed.command, text))


APPLY = "fleet apply apps --clusters {} --branch release-42"
EXTENSION = "fleet extension update --clusters {} --config helm-controller.detectDrift=true"


@pytest.mark.parametrize("template", [APPLY, EXTENSION])
def test_a_viewer_on_one_matched_cluster_cannot_run_a_fleet(template: str) -> None:
    decision = decided("UMIXED", template.format("team=web"))
    assert not decision.allowed
    assert "is a viewer on 1 of the 4 clusters `team=web` matches (prod-03)" in decision.reason
    assert "needs operator on every one" in decision.reason
    for hidden in ("prod-01", "prod-02", "prod-04", "prod-05"):
        assert hidden not in decision.reason  # matched by the tags, but this person may not see them


def test_a_viewer_everywhere_is_told_which_clusters_without_a_flood() -> None:
    decision = decided("UVIEW", APPLY.format("team=web"))
    assert not decision.allowed
    assert "is a viewer on 8 of the 8 clusters `team=web` matches" in decision.reason
    assert decision.recommendation.startswith("narrow `--clusters` to clusters where you are an operator")


def test_a_selector_matching_only_hidden_clusters_reveals_nothing() -> None:
    hidden = decided("UOPS", APPLY.format("team=sec"))
    nothing = decided("UOPS", APPLY.format("team=nobody"))
    assert not hidden.allowed and not nothing.allowed
    assert hidden.reason.replace("team=sec", "X") == nothing.reason.replace("team=nobody", "X")
    assert hidden.recommendation.replace("team=sec", "X") == nothing.recommendation.replace("team=nobody", "X")
    assert "no cluster you can see has tags team=sec" in hidden.reason
    for name in ("secret-vault", "prod-99", "vault"):
        assert name not in hidden.reason + hidden.recommendation


def test_hidden_clusters_matched_beside_visible_ones_are_not_counted() -> None:
    decision = decided("UOPS", APPLY.format("env=prod"))
    assert decision.allowed, decision.reason
    assert decision.target_label == "5 clusters matching env=prod"  # prod-99 (team sec) is not theirs to see
    assert decision.target_id == ""


def test_the_strictest_matched_cluster_sets_the_approvals() -> None:
    everything = decided("UROOT", APPLY.format("all"))
    assert everything.allowed and everything.target_label == "10 clusters matching all"
    assert (everything.approvals_required, everything.approval_ttl) == (2, 600)
    staging = decided("UMIXED", EXTENSION.format("env=staging"))
    assert staging.allowed and (staging.approvals_required, staging.approval_ttl) == (1, 600)
    vault = decided("UROOT", APPLY.format("env=vault"))
    assert vault.allowed and (vault.approvals_required, vault.approval_ttl) == (0, 0)


def test_reads_and_run_controls_need_a_role_not_a_selector() -> None:
    assert decided("UVIEW", "fleet status j-0123456789ab").allowed
    assert decided("UVIEW", "fleet list").allowed
    refused = decided("UVIEW", "fleet cancel j-0123456789ab")
    assert not refused.allowed and "needs operator" in refused.reason
    assert decided("UOPS", "fleet resume j-0123456789ab").allowed
    assert not decided("USTRANGER", "fleet list").allowed


def test_no_inventory_yet_decides_nothing() -> None:
    decision = decided("UROOT", APPLY.format("env=prod"), snapshot=None)
    assert not decision.allowed and "has not listed the clusters yet" in decision.reason


def test_confirming_or_approving_a_fleet_run_needs_the_role_on_every_cluster_it_was_decided_over() -> None:
    from bot.command_codec import encode
    from bot.errors import Forbidden
    from handlers.slack import SlackIntake

    text = APPLY.format("env=staging")
    decision = decided("UMIXED", text)  # operator on the three staging clusters
    assert decision.allowed
    parsed = parse(text)
    assert isinstance(parsed, Run)
    stored = encode(parsed.command)
    redis: Any = SnapshotRedis(Inventory(CLUSTERS).to_json())
    intake = SlackIntake(queue=None, redis=redis, policy=POLICY)  # type: ignore[arg-type]

    def press(user: str) -> None:
        asyncio.run(intake.check_presser(Identity("slack", user), decision, stored))

    press("UROOT")  # admin everywhere
    press("UOPS")  # operator on team=web, which the staging clusters are
    with pytest.raises(Forbidden, match="needs operator"):
        press("UVIEW")  # a viewer of them
    with pytest.raises(Forbidden, match="has no role on stage-01"):
        press("UVAULT")  # an operator of another cluster: any operator role anywhere is not enough
