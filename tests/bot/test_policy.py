"""Authorization: roles per selector, the highest role wins, groups and "*", every command's role, refusals."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest

from bot.commands import Audit, ClusterTarget, Command, ConfigDelete, ConfigShow, Help, ListClusters, Role, Status
from bot.config_file import FluxopsConfig, load_config
from bot.errors import Forbidden
from bot.inventory import Resolved
from bot.models import Cluster, ClusterRef, ClusterType
from bot.policy import Identity, Policy

DEV = Cluster(ClusterRef("s", "rg-dev-weu", ClusterType.CONNECTED, "flux-demo-arc"), "westeurope", {"env": "dev"})
PROD = Cluster(ClusterRef("s", "rg-prod", ClusterType.MANAGED, "aks-prod-weu"), "westeurope", {"Env": "prod"})
OTHER = Cluster(ClusterRef("s", "rg-misc", ClusterType.MANAGED, "misc"), "westeurope", {})

POLICY = Policy(
    load_config(
        """
roles:
  - role: admin
    slack_users: [UADMIN]
    slack_groups: [S0PLATFORM]
  - role: operator
    slack_users: [UOPS]
    clusters: {names: ["flux-demo-*"]}
  - role: admin
    slack_users: [UOPS]
    clusters: {names: ["sandbox-*"]}
  - role: operator
    slack_users: [URG]
    clusters: {resource_groups: ["RG-DEV*"]}
  - role: admin
    slack_users: [UPROD]
    clusters: {tags: {env: prod}}
  - role: operator
    slack_users: [UBOTH]
    clusters: {names: ["aks-*"], resource_groups: [rg-prod], tags: {env: dev}}
  - role: viewer
    slack_users: ["*"]
    clusters: {tags: {env: dev}}
  - role: operator
    github_users: [octocat]
  - role: viewer
    ado_users: [alice@contoso.com]
approvals:
  - clusters: {tags: {env: prod}}
    required: 2
    for: [config delete]
  - clusters: {tags: {env: prod}}
    expires: 10m
"""
    )
)


def slack(user: str, *groups: str) -> Identity:
    return Identity("slack", user, frozenset(groups))


@pytest.mark.parametrize(
    ("identity", "cluster", "alias", "role"),
    [
        (slack("UADMIN"), DEV, None, Role.ADMIN),
        (slack("UADMIN"), PROD, "prod-weu", Role.ADMIN),
        # names: globs over the cluster name ...
        (slack("UOPS"), DEV, None, Role.OPERATOR),
        # ... and its alias; the highest role of every matching rule wins
        (slack("UOPS"), DEV, "sandbox-arc", Role.ADMIN),
        (slack("UOPS"), PROD, None, None),
        # resource groups (case-insensitive globs)
        (slack("URG"), DEV, None, Role.OPERATOR),
        (slack("URG"), PROD, None, None),
        # tags: names case-insensitive ("Env" on the cluster)
        (slack("UPROD"), PROD, None, Role.ADMIN),
        (slack("UPROD"), DEV, None, Role.VIEWER),  # only through "*"
        # every given criterion must match
        (slack("UBOTH"), PROD, None, None),
        # "*" is anyone on slack, on the clusters of its rule
        (slack("USTRANGER"), DEV, None, Role.VIEWER),
        (slack("USTRANGER"), PROD, None, None),
        (slack("USTRANGER"), OTHER, None, None),
        # groups
        (slack("USTRANGER", "S0PLATFORM"), PROD, None, Role.ADMIN),
        (slack("USTRANGER", "S0OTHER"), PROD, None, None),
        # ids compare case-insensitively
        (slack("uadmin"), PROD, None, Role.ADMIN),
        # other platforms
        (Identity("github", "octocat"), PROD, None, Role.OPERATOR),
        (Identity("github", "OctoCat"), PROD, None, Role.OPERATOR),
        (Identity("github", "UADMIN"), PROD, None, None),  # a Slack id means nothing on GitHub
        (Identity("github", "someone"), DEV, None, None),  # "*" was for Slack only
        (Identity("ado", "alice@contoso.com"), OTHER, None, Role.VIEWER),
        (Identity("teams", "UADMIN"), PROD, None, None),
    ],
)
def test_role_for(identity, cluster, alias, role):
    assert POLICY.role_for(identity, cluster, alias) is role


# One person per role on every cluster, plus one with no role.
BY_ROLE = Policy(
    load_config(
        "roles:\n"
        + "".join(f"  - role: {r.value}\n    slack_users: [U{r.value.upper()}]\n" for r in Role)
        + "  - role: viewer\n    slack_users: [UNARROW]\n    clusters: {names: [misc]}\n"
    )
)
TARGET = ClusterTarget("flux-demo-arc")


def _dummy(annotation: Any) -> Any:
    """A value for a required field (authorization reads only the target, so anything well-typed does)."""
    if annotation is ClusterTarget:
        return TARGET
    if annotation in (str, int, float, bool):
        return annotation()
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return _dummy(typing.get_args(annotation)[0])
    if origin in (tuple, list, dict):
        return origin()
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _build(annotation)
    raise TypeError(f"no dummy for {annotation!r}")


def _build(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    required = {
        f.name: _dummy(hints[f.name])
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return cls(**required)


COMMANDS: list[Command] = [_build(cls) for cls in typing.get_args(Command)]


def test_every_command_class_is_covered():
    assert {type(c) for c in COMMANDS} == set(typing.get_args(Command))
    assert {type(c).role for c in COMMANDS} == set(Role)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).verb)
@pytest.mark.parametrize("have", [*Role, None], ids=lambda r: r.value if r else "none")
def test_every_command_needs_its_role(command, have):
    who = slack(f"U{have.value.upper()}" if have else "UNOBODY")
    cluster = DEV if command.cluster_target is not None else None
    allowed = isinstance(command, Help) or (have is not None and have.rank >= type(command).role.rank)
    if allowed:
        BY_ROLE.authorize(who, command, cluster)
    else:
        with pytest.raises(Forbidden):
            BY_ROLE.authorize(who, command, cluster)


DELETE = ConfigDelete(TARGET, "apps")
NEEDS_ADMIN = "`config delete` needs admin"


@pytest.mark.parametrize(
    ("user", "command", "alias", "message"),
    [
        ("UVIEWER", DELETE, None, f"<@UVIEWER> is a viewer on flux-demo-arc; {NEEDS_ADMIN}"),
        ("UOPERATOR", DELETE, None, f"<@UOPERATOR> is an operator on flux-demo-arc; {NEEDS_ADMIN}"),
        ("UVIEWER", DELETE, "demo", f"<@UVIEWER> is a viewer on demo (flux-demo-arc); {NEEDS_ADMIN}"),
        ("UNARROW", Status(TARGET), None, "<@UNARROW> has no role on flux-demo-arc; `status` needs viewer"),
        (
            "UNOBODY",
            ConfigShow(TARGET, "x"),
            None,
            "<@UNOBODY> has no role on flux-demo-arc; `config show` needs viewer",
        ),
    ],
)
def test_refusals_say_who_what_where_and_what_is_needed(user, command, alias, message):
    with pytest.raises(Forbidden) as caught:
        BY_ROLE.authorize(slack(user), command, DEV, alias)
    assert caught.value.message == message
    assert caught.value.recommendation == (
        "ask a fluxops admin to run it, or to add you to the policy (FLUXOPS_CONFIG roles)"
    )


@pytest.mark.parametrize("command", [ListClusters(), Audit()], ids=["clusters", "audit"])
def test_commands_without_a_cluster_need_some_role_somewhere(command):
    BY_ROLE.authorize(slack("UNARROW"), command, None)  # viewer on one cluster is enough
    with pytest.raises(Forbidden) as caught:
        BY_ROLE.authorize(slack("UNOBODY"), command, None)
    assert (
        caught.value.message == f"<@UNOBODY> has no role on any cluster; `{command.verb}` needs viewer on at least one"
    )


def test_audit_of_one_cluster_is_checked_on_that_cluster():
    BY_ROLE.authorize(slack("UNARROW"), Audit(cluster="misc"), OTHER)
    with pytest.raises(Forbidden, match="no role on flux-demo-arc"):
        BY_ROLE.authorize(slack("UNARROW"), Audit(cluster="flux-demo-arc"), DEV)


def test_a_command_with_a_target_must_be_resolved_first():
    with pytest.raises(ValueError, match="resolve it first"):
        BY_ROLE.authorize(slack("UADMIN"), Status(TARGET), None)


@pytest.mark.parametrize(
    ("policy", "phrase"),
    [(Policy(), "set FLUXOPS_CONFIG"), (Policy.empty(), "set FLUXOPS_CONFIG"), (Policy(FluxopsConfig()), "`roles:`")],
    ids=["none", "empty", "no-roles"],
)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).verb)
def test_an_empty_policy_refuses_everything_but_help(policy, phrase, command):
    cluster = DEV if command.cluster_target is not None else None
    if isinstance(command, Help):
        policy.authorize(slack("UADMIN"), command, cluster)
        return
    with pytest.raises(Forbidden) as caught:
        policy.authorize(slack("UADMIN"), command, cluster)
    assert phrase in caught.value.recommendation
    assert policy.role_for(slack("UADMIN"), DEV) is None


def test_visible_filters_clusters_and_counts_aliases_of_resolved_entries():
    uops = slack("UOPS")
    assert POLICY.visible(slack("USTRANGER"), [DEV, PROD, OTHER]) == [DEV]
    assert POLICY.visible(slack("UADMIN"), [DEV, PROD, OTHER]) == [DEV, PROD, OTHER]
    assert POLICY.visible(uops, [PROD]) == []
    renamed = Cluster(ClusterRef("s", "rg", ClusterType.MANAGED, "x1"), "l", {})
    entries = [Resolved(renamed, "sandbox-x1"), Resolved(OTHER, None)]
    assert POLICY.visible(uops, entries) == [entries[0]]
    assert Policy().visible(slack("UADMIN"), [DEV, PROD]) == []


def test_groups_referenced():
    assert POLICY.groups_referenced() == {"S0PLATFORM"}
    assert POLICY.groups_referenced("github") == set()
    assert POLICY.groups_referenced("ado") == set()
    assert Policy().groups_referenced() == set()


def test_approvals_required():
    # the strictest rule that covers the command: the most people, the shortest life
    assert POLICY.approvals_required("config delete", PROD) == (2, 600)
    assert POLICY.approvals_required("extension delete", PROD) == (1, 600)
    assert POLICY.approvals_required("config delete", DEV) == (0, 0)
    assert Policy().approvals_required("config delete", PROD) == (0, 0)


@pytest.mark.parametrize(
    ("identity", "mention"),
    [(slack("U1"), "<@U1>"), (Identity("github", "octocat"), "@octocat"), (Identity("ado", "a@b.c"), "a@b.c")],
)
def test_mention(identity, mention):
    assert identity.mention == mention


@pytest.mark.parametrize("user", ["", "  "])
def test_an_identity_needs_a_user(user):
    with pytest.raises(ValueError, match="needs a user"):
        Identity("slack", user)


def test_names_explicitly():
    assert POLICY.names_explicitly(Identity("github", "OctoCat"))
    assert not POLICY.names_explicitly(Identity("slack", "USOMEONE"))  # a viewer only through "*"
    assert not Policy().names_explicitly(Identity("github", "octocat"))
