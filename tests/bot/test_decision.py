"""bot.decision: one check for intake and worker; what a stored decision must be before anything runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.commands import ClusterTarget, Run
from bot.config_access import RoleRule
from bot.config_file import FluxopsConfig
from bot.decision import REFUSED, Decision, decide, digest, recheck
from bot.grammar import parse
from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from bot.policy import Identity, Policy

SUB = "00000000-0000-0000-0000-000000000001"
ARC = Cluster(ClusterRef(SUB, "rg", ClusterType.CONNECTED, "arc-dev"), "weu", {"env": "dev"})
PROD = Cluster(ClusterRef(SUB, "rg", ClusterType.MANAGED, "aks-prod"), "weu", {"env": "prod"})
INVENTORY = Inventory([ARC, PROD])
ALICE = Identity("slack", "UALICE")
OPS = Identity("slack", "UBOB", frozenset({"S0OPS"}))


def policy(*rules: dict[str, object]) -> Policy:
    return Policy(FluxopsConfig(roles=[RoleRule.model_validate(r) for r in rules]))


POLICY = policy(
    {"role": "operator", "slack_users": ["UALICE"], "clusters": {"tags": {"env": "dev"}}},
    {"role": "operator", "slack_groups": ["S0OPS"]},
)


def command(text: str):  # type: ignore[no-untyped-def]
    parsed = parse(text)
    assert isinstance(parsed, Run)
    return parsed.command


def decided(text: str, who: Identity = ALICE, rules: Policy = POLICY) -> Decision:
    return decide(rules, who, command(text), text, resolve=INVENTORY.resolve)


def test_an_allowed_command_is_decided_with_its_cluster_id_and_digest() -> None:
    decision = decided("suspend apps -c arc-dev")
    assert decision.allowed and decision.target_id == ARC.ref.arm_id and decision.target_label == "arc-dev"
    assert decision.command_digest == digest("suspend apps -c arc-dev") and decision.role == "operator"
    assert Decision.from_json(decision.to_json()) == decision


def test_an_unknown_cluster_and_a_hidden_one_get_the_same_answer() -> None:
    hidden = decided("suspend apps -c aks-prod")
    unknown = decided("suspend apps -c no-such-cluster")
    assert hidden.outcome == unknown.outcome == REFUSED
    assert hidden.reason.replace("aks-prod", "X") == unknown.reason.replace("no-such-cluster", "X")
    assert "in the inventory" not in unknown.reason  # no did-you-mean over clusters one may not see


def test_groups_expanded_at_intake_count_in_the_worker() -> None:
    decision = decided("suspend apps -c aks-prod", OPS)
    assert decision.allowed and decision.groups == ("S0OPS",)
    where = recheck(POLICY, decision, command(decision.text), decision.text, resolve=INVENTORY.resolve)
    assert where is not None and where.cluster == PROD


def test_the_worker_acts_on_the_decided_cluster_whatever_the_name_means_now() -> None:
    decision = decided("suspend apps -c arc-dev")
    renamed = Inventory([ARC, PROD], aliases={})  # any inventory: the id is what counts
    where = recheck(POLICY, decision, command(decision.text), decision.text, resolve=renamed.resolve)
    assert where is not None and where.cluster == ARC


def test_a_revoked_role_stops_the_job() -> None:
    decision = decided("suspend apps -c arc-dev")
    revoked = policy({"role": "viewer", "slack_users": ["*"]})
    with pytest.raises(errors.Forbidden, match="needs operator"):
        recheck(revoked, decision, command(decision.text), decision.text, resolve=INVENTORY.resolve)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: replace(d, text="delete apps -c arc-dev"),  # digest no longer matches: unreadable
        lambda d: replace(d, outcome="maybe"),
    ],
)
def test_a_tampered_decision_is_not_read(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.Forbidden, match="cannot be read"):
        Decision.from_json(tamper(decided("suspend apps -c arc-dev")).to_json())


@pytest.mark.parametrize("raw", ["", "[]", "{", '{"text": 1}'])
def test_garbage_is_not_a_decision(raw: str) -> None:
    with pytest.raises(errors.Forbidden):
        Decision.from_json(raw)


def test_the_job_text_must_be_the_decided_text() -> None:
    decision = decided("suspend apps -c arc-dev")
    other = "suspend other -c arc-dev"
    with pytest.raises(errors.Forbidden, match="not the one that was authorized"):
        recheck(POLICY, decision, command(other), other, resolve=INVENTORY.resolve)


def test_the_job_command_must_be_the_decided_command() -> None:
    """Same text, another typed command (rewritten in Redis on its way to the worker): not run."""
    decision = decided("suspend apps -c arc-dev")
    other = command("suspend other -c arc-dev")
    with pytest.raises(errors.Forbidden, match="not the one that was authorized"):
        recheck(POLICY, decision, other, decision.text, resolve=INVENTORY.resolve)


def test_a_refused_decision_never_runs() -> None:
    decision = decided("suspend apps -c aks-prod")
    with pytest.raises(errors.Forbidden):
        recheck(POLICY, decision, command(decision.text), decision.text, resolve=INVENTORY.resolve)


def test_a_cluster_gone_from_the_inventory_is_said_plainly() -> None:
    decision = decided("suspend apps -c arc-dev")
    with pytest.raises(errors.NotFound, match="no longer in the inventory"):
        recheck(POLICY, decision, command(decision.text), decision.text, resolve=Inventory([PROD]).resolve)
    assert ClusterTarget(decision.target_id).cluster.startswith("/subscriptions/")


def test_resolving_among_the_clusters_one_may_see_names_no_other() -> None:
    twin = Cluster(ClusterRef(SUB, "rg-secret", ClusterType.MANAGED, "aks-prod"), "weu", {"env": "secret"})
    everything = Inventory([ARC, PROD, twin])
    rules = policy({"role": "viewer", "slack_users": ["UALICE"], "clusters": {"resource_groups": ["rg"]}})
    seen = everything.seen_by(lambda e: rules.role_for(ALICE, e.cluster, e.alias) is not None)
    # in the whole inventory the name is ambiguous, and the answer would name the secret resource group
    with pytest.raises(errors.InvalidRequest, match="rg-secret"):
        everything.resolve(ClusterTarget("aks-prod"))
    assert seen.resolve(ClusterTarget("aks-prod")).cluster == PROD
    assert sorted(e.cluster.ref.name for e in seen.all()) == ["aks-prod", "arc-dev"]
    with pytest.raises(errors.NotFound) as hidden:
        seen.resolve(ClusterTarget(twin.ref.arm_id))
    assert "rg-secret" not in str(hidden.value.user_text()).replace(twin.ref.arm_id, "")
