"""Config-as-code on a fleet repository's pull requests: the plan comment, `/flux apply`, apply on merge.

- **the repository**: the fleet entry is matched by the event's repository URL, then the host is asked
  for the repository itself (Azure DevOps: by the id the event named) and its URL must be the same: a
  forged Azure DevOps event (hooks are not signed) cannot point a fleet entry at another repository's
  pull request. A mismatch is refused and audited, and nothing is posted where the event pointed.
- **plan** (PR opened / new commits / reviewed / `/flux plan`): read the fleet files at the PR's head and
  base, read the declared clusters from ARM, and write one plan comment, edited on every push. The plan's
  digest and head commit are remembered, so an apply applies exactly the plan people saw.
- **apply** (`/flux apply`): refused unless the PR is open, approved (bot.usecases.approvals: on the head
  commit, by someone with write access and a fluxops role on every cluster it changes who wrote none of its
  commits), not from a fork, the commenter has write access and the policy's role on every cluster it
  changes (operator; admin when it deletes or touches the extension), and the plan is the one shown. Then
  each cluster is claimed for this PR (other PRs are refused it until this one merges or closes), the
  operations run once each (their ARM operation tokens saved, so a restarted worker resumes), and
  reconciliation is followed to Compliant.
- **apply on merge** (``apply_on_merge: true``): who merged and the merge commit are read from the host,
  never from the event; the merge needs the same approvals as `/flux apply` (on the PR's final head
  commit) and the merger the same roles; then the fleet files *of the merge commit* are planned and
  applied, and the PR's claims are released.
- A PR that closes without merging releases its claims. Every refusal is audited.
"""

from __future__ import annotations

from bot.jobs import JobRecord
from bot.ports import Reporter
from bot.usecases.context import JobPorts
from bot.usecases.fleet_pull_request import FleetJob
from bot.usecases.fleet_rollout import FleetApply
from bot.views import Phase


def run(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    """Run a fleet job: ``plan`` writes the plan comment, any other kind applies."""
    if record.kind == "plan":
        return FleetJob(record, ports, reporter).plan()
    return FleetApply(record, ports, reporter).apply()
