"""The sandbox's people and what they work on, and the fluxops policy the sandbox runs with.

The people of the fake Slack, GitHub and Azure DevOps, the repositories of the sandbox's Git hosts, and
``SANDBOX_POLICY``: the roles it gives each of them, and the credentials it names (the files the sandbox writes
into its state directory). ``Stack`` (sandbox/stack.py) seeds the fakes with these; the banner (cli/banner.py)
lists them with the role the running policy gives each.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.source_servers import credentials as source_credentials

#: the people of the sandbox Slack workspace and what the sandbox policy lets them do
YOU = "U0SANDBOX"
OPERATOR = "U0OPERATOR"
VIEWER = "U0VIEWER"
CHANNEL = "C0SANDBOX"
PLATFORM_GROUP = "S0PLATFORM"
#: Slack user id -> name (``fluxops chat --as ID`` speaks as one of them; the default is YOU)
SLACK_PEOPLE = {YOU: "you", OPERATOR: "operator", VIEWER: "viewer"}
#: Slack user group id -> its members
SLACK_GROUPS = {PLATFORM_GROUP: [YOU]}
#: the people of the sandbox's GitHub and Azure DevOps, and the repositories they work on
GITHUB_ADMIN = "sandbox-admin"
GITHUB_OPERATOR = "sandbox-operator"
GITHUB_OUTSIDER = "sandbox-outsider"
ADO_ADMIN = "admin@fluxops-sandbox.example"
ADO_VIEWER = "viewer@fluxops-sandbox.example"
GITHUB_PEOPLE = (GITHUB_ADMIN, GITHUB_OPERATOR, GITHUB_OUTSIDER)
#: Azure DevOps unique name -> display name
ADO_PEOPLE = {ADO_ADMIN: "Sandbox Admin", ADO_VIEWER: "Sandbox Viewer"}
GITHUB_ORG = "fluxops-sandbox"
GITHUB_FLEET = f"{GITHUB_ORG}/fleet"
ADO_ORG = "fluxops-sandbox"
ADO_PROJECT = "gitops"
ADO_TUTORIAL = f"{ADO_PROJECT}/gitops-flux2-kustomize-helm-mt"
ADO_FLEET = f"{ADO_PROJECT}/fleet"
FLEET_README = "# Fleet\n\nfluxops config-as-code: one YAML file per cluster under clusters/.\n"
#: in a sandbox policy, this stands for the sandbox's state directory (where it writes its credential files)
STATE_DIR_TOKEN = "/sandbox-state"
#: the HTTPS token the sandbox holds as credential SANDBOX_CREDENTIAL (user "git"): it reads the Azure DevOps
#: repositories of the sandbox, and the policy scopes it to them
SANDBOX_CREDENTIAL = "sandbox-ado"

SANDBOX_POLICY = f"""\
# fluxops policy of the sandbox (FLUXOPS_CONFIG): see deploy/fluxops.example.yaml for every key
clusters:
  demo-arc:
    name: flux-demo-arc
    resource_group: flux-demo-rg
    type: connectedClusters
    tags: {{env: dev}}
roles:
  - role: admin
    slack_users: [{YOU}]
    slack_groups: [{PLATFORM_GROUP}]
    github_users: [{GITHUB_ADMIN}]
    ado_users: [{ADO_ADMIN}]
  - role: operator
    slack_users: [{OPERATOR}]
    github_users: [{GITHUB_OPERATOR}]
  - role: viewer
    slack_users: ["*"]
    github_users: ["*"]
    ado_users: ["*"]
credentials:
  {SANDBOX_CREDENTIAL}:
    file: {STATE_DIR_TOKEN}/credentials/{SANDBOX_CREDENTIAL}
    repositories: [dev.azure.com/{ADO_ORG}/{ADO_PROJECT}/_git/*]
    clusters: {{names: ["*"]}}
{source_credentials.policy_credentials(STATE_DIR_TOKEN)}deploy_keys:
  max_age: 90d
  channel: {CHANNEL}
  repositories: [github.com/{GITHUB_ORG}/*]
fleet_repositories:
  - repository: https://github.com/{GITHUB_FLEET}
    path: clusters
    apply_on_merge: true
  - repository: https://dev.azure.com/{ADO_ORG}/{ADO_PROJECT}/_git/fleet
    path: clusters
"""


def resolve_policy(text: str, state_dir: Path, hosts: dict[str, str] | None = None) -> str:
    """The policy with ``/sandbox-state`` (``STATE_DIR_TOKEN``) at the start of a path made the real state
    directory: a sandbox policy names the credential files the sandbox writes there; and each stand-in host of
    a source server (``hosts``: token -> ``host:port``) made the running server's."""
    text = text.replace(f" {STATE_DIR_TOKEN}/", f" {state_dir}/")
    for token, host in (hosts or {}).items():
        text = text.replace(f"[{token}/", f"[{host}/")
    return text
