"""What `fluxops sandbox up` prints once everything answers: one screen, the README's walkthrough beside it.

Built from the running stack, never from a copy of its settings: the servers (``Stack.served()``), the
repositories the git store serves, the people of the fake Slack, GitHub and Azure DevOps with the role the
policy the stack runs with gives each (``--policy FILE`` changes them), and the clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config_file import FluxopsConfig, load_config
from bot.policy import Identity, Policy
from sandbox.world import World

if TYPE_CHECKING:
    from sandbox.stack import Stack

CLUSTERS_SHOWN = 10
_HOSTS = {"github.com": "GitHub", "dev.azure.com": "Azure DevOps"}


def table(rows: Iterable[Sequence[str]], indent: str = "  ", widest: int = 48) -> list[str]:
    """Rows as lines with aligned columns (the last column is not padded); a cell over ``widest`` characters
    (a one-time link) does not widen its column, it only pushes the rest of its own row."""
    rows = [list(row) for row in rows]
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [
        max((len(row[i]) for row in rows if i < len(row) and len(row[i]) <= widest), default=0) for i in range(columns)
    ]
    return [
        indent + "  ".join(cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def cluster_lines(world: World, config: FluxopsConfig | None = None, limit: int = CLUSTERS_SHOWN) -> list[str]:
    """The clusters (resource group/name, type, the policy's alias, tags), at most ``limit`` of them."""
    aliases: dict[tuple[str, str], str] = {}
    for alias, entry in (config.clusters if config is not None else {}).items():
        if entry.name and entry.resource_group:
            aliases[(entry.resource_group.casefold(), entry.name.casefold())] = alias
    clusters = sorted(world.clusters.values(), key=lambda c: c.id.lower())
    rows = []
    for cluster in clusters[:limit]:
        alias = aliases.get((cluster.resource_group.casefold(), cluster.name.casefold()), "")
        tags = ",".join(f"{k}={v}" for k, v in sorted(cluster.tags.items()))
        rows.append(
            [f"{cluster.resource_group}/{cluster.name}", cluster.cluster_type, f"-c {alias}" if alias else "", tags]
        )
    lines = table(rows)
    if len(clusters) > limit:
        lines.append(f"  ... and {len(clusters) - limit} more")
    return lines


def _role(policy: Policy, identity: Identity) -> str:
    role = policy.role_anywhere(identity)
    return role.value if role is not None else "no role"


def people_lines(stack: Stack, policy: Policy) -> list[str]:
    """Who one can act as, and the role the running policy gives each."""
    from sandbox.policy import ADO_PEOPLE, CHANNEL, GITHUB_PEOPLE, SLACK_GROUPS, SLACK_PEOPLE, YOU

    rows: list[list[str]] = []
    for user, name in SLACK_PEOPLE.items():
        groups = frozenset(group for group, members in SLACK_GROUPS.items() if user in members)
        role = _role(policy, Identity("slack", user, groups))
        how = f"the default; channel {CHANNEL}" if user == YOU else f"fluxops chat --as {user} ..."
        rows.append(["Slack" if not rows else "", user, name, role, how])
    for i, login in enumerate(GITHUB_PEOPLE):
        rows.append(
            ["GitHub" if i == 0 else "", login, "", _role(policy, Identity("github", login)), "author, reviewer"]
        )
    for i, (unique, name) in enumerate(ADO_PEOPLE.items()):
        rows.append(["Azure DevOps" if i == 0 else "", unique, name, _role(policy, Identity("ado", unique))])
    return table(rows)


def repository_lines(stack: Stack, config: FluxopsConfig | None) -> list[str]:
    """The repositories served, with what the policy makes of them (a fleet repository)."""
    from sandbox.policy import ADO_ORG

    rows = []
    order = list(_HOSTS)
    listing = stack.sandbox.repos.listing()
    for listed in sorted(listing, key=lambda r: order.index(r.host) if r.host in order else len(order)):
        host = _HOSTS.get(listed.host, listed.host)
        if listed.host == "dev.azure.com":
            org, project, name = listed.slug.split("/")
            url = f"https://dev.azure.com/{org}/{project}/_git/{name}"
            shown = f"{ADO_ORG}/{project}/{name}" if org == ADO_ORG else listed.slug
        else:
            url, shown = f"https://{listed.host}/{listed.slug}", listed.slug
        fleet = config.fleet_repository(url) if config is not None else None
        what = "private" if listed.private else "public"
        if fleet is not None:
            what += ", fleet repository" + (" (applies on merge)" if fleet.apply_on_merge else "")
        rows.append([host, shown, listed.default_branch, what])
    return table(rows, widest=64)


def banner(stack: Stack, discovery: Path | None = None) -> str:
    """The start-up banner of a started stack."""
    from sandbox.policy import ADO_FLEET, resolve_policy

    config = load_config(resolve_policy(stack.options.policy, stack.state_dir), source="the sandbox policy")
    policy = Policy(config)
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    github, ado = stack.github_url, stack.ado_url
    found_by = f" (`fluxops chat` finds it through {discovery})" if discovery is not None else ""
    lines = ["fluxops sandbox is up (Ctrl-C stops it)" + found_by, ""]
    servers = [[served.name, served.url, served.note] for served in stack.served()]
    lines += table([*servers, ["subscription", endpoints.subscription_id], ["logs", str(stack.state_dir / "logs")]])
    lines += ["", "Repositories (push to one, as a person would: its webhook goes to fluxops, Flux picks it up):"]
    lines += repository_lines(stack, config)
    json_header = "-H 'Content-Type: application/json'"
    files = '"files": {"README.md": "hi\\n"}'
    lines += table(
        [
            ["GitHub", f"curl {json_header} {github}_sandbox/push -d "
             f"""'{{"repo": "Azure/gitops-flux2-kustomize-helm-mt", "branch": "main", {files}}}'"""],
            ["Azure DevOps", f"curl {json_header} {ado}_sandbox/push -d "
             f"""'{{"repo": "{ADO_FLEET}", "branch": "main", {files}}}'"""],
        ],
        indent="    push ",
    )  # fmt: skip
    lines += ["", "People (their roles from the policy; fluxops chat speaks as you unless --as ID):"]
    lines += people_lines(stack, policy)
    lines += ["", "Clusters:"]
    lines += cluster_lines(stack.sandbox.world, config)
    lines += [
        "",
        "Try the tutorial (the README walks through the rest):",
        '  fluxops chat "/flux extension create -c flux-demo-arc -g flux-demo-rg -t connectedClusters"',
        '  fluxops chat "/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters '
        "--namespace cluster-config --scope cluster "
        "-u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        '--kustomization name=apps path=./apps/staging prune=true depends_on=infra"',
        '  fluxops chat "/flux help"',
    ]
    return "\n".join(lines)
