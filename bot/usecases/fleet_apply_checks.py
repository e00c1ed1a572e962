"""What must hold before a fleet pull request is applied, by `/flux apply` or on merge: the PR open (or merged
as the host says), approved on its head, the asker's repository access and fluxops roles, the plan the one
shown, and every cluster claimed for this PR."""

from __future__ import annotations

import logging

from bot import errors
from bot.commands import Role
from bot.config_file import FleetRepository
from bot.fleet import (
    DeleteConfig,
    InstallExtension,
    UpdateExtension,
)
from bot.git_host import Permission, PullRequestInfo
from bot.gitevents import AZURE_DEVOPS, CommentEvent, PullRequestEvent
from bot.policy import Identity
from bot.usecases.approvals import Tally, requirement, shortfall, tally
from bot.usecases.comments import POLICY_PLATFORM
from bot.usecases.fleet_pull_request import FleetJob, Planned
from bot.views import Phase, TextView

log = logging.getLogger(__name__)

#: a user no policy rule names: what ``*`` rules give everyone (such a role makes no approval count)
_ANYONE = "fluxops:anyone"


class FleetApplyChecks(FleetJob):
    """A fleet job that applies: the checks before anything is written."""

    def check(self, fleet: FleetRepository) -> Planned | Phase:
        """Everything that must hold before an apply; a Phase when it is refused (and the PR was told)."""
        pr = self.opened()
        if isinstance(pr, Phase):
            return pr
        if pr.from_fork:
            return self.refuse("This pull request comes from a fork: fluxops never applies from a fork.")
        if isinstance(self.event, PullRequestEvent):
            if pr.state != "merged" or not fleet.apply_on_merge or pr.base_branch != self.repo.default_branch:
                return self.end(Phase.SUCCEEDED)
            return self.check_merged(fleet, pr)
        if pr.state != "open":
            return self.refuse(f"This pull request is {pr.state}: there is nothing to apply.")
        assert isinstance(self.event, CommentEvent)
        author = self.event.author
        have = self.host.permission(self.repo, author)
        if not have.at_least(Permission.WRITE):
            return self.refuse(
                f"Not applied: {author} has {have.value} access to {self.repo.full_name}; applying needs write."
            )
        try:
            planned = self.compute(fleet, pr.head_sha, pr.base_branch)
        except errors.ConfigurationError as error:
            return self.refuse(f"Not applied: the fleet files cannot be read. {error.user_text()}")
        shown = self.ports.jobs.get(self.store, "shown")
        if shown != f"{planned.plan.digest}@{pr.head_sha}":
            self.publish_plan(pr, fleet)
            return self.refuse(
                "Not applied: the plan changed since it was last shown (new commits, or the clusters changed). "
                "The plan comment is up to date now: review it and comment `/flux apply` again."
            )
        counted = self.approvals(pr, planned)
        if not counted.approved:
            return self.refuse(
                f"Not applied: {shortfall(counted)}. `/flux apply` needs {requirement(pr.head_sha)}: "
                "ask for a review of the head commit, then comment `/flux apply` again.",
                clusters=self.labels(planned),
            )
        refusal = self.authorize(planned, Identity(POLICY_PLATFORM[self.repo.provider], author))
        if refusal:
            return self.refuse(refusal, clusters=self.labels(planned))
        if not planned.plan.operations():
            problems = planned.plan.problems()
            if problems:
                return self.refuse("Not applied: " + "; ".join(problems))
            self.reporter.private(TextView("Nothing to apply: the clusters already match the fleet files."))
            return self.end(Phase.SUCCEEDED)
        problems = planned.plan.problems()
        if problems:
            return self.refuse("Not applied: the plan has problems: " + "; ".join(problems))
        conflict = self.claim(planned)
        if conflict:
            return self.refuse(conflict, clusters=self.labels(planned))
        return planned

    def check_merged(self, fleet: FleetRepository, pr: PullRequestInfo) -> Planned | Phase:
        """A merge that applies on merge: the host names the merger and the merge commit, the merge had the
        approvals `/flux apply` needs (on its final head), and the merger the roles; the merge commit's
        fleet files are what is applied."""
        host = "Azure DevOps" if self.repo.provider == AZURE_DEVOPS else "GitHub"
        if not pr.merged_by:
            return self.refuse(
                f"Merged, but nothing was applied: {host} does not say who merged this pull request, so the "
                "merge cannot be authorized. Apply the fleet files with a new pull request and `/flux apply`."
            )
        if not pr.merge_commit:
            return self.refuse(
                f"Merged, but nothing was applied: {host} names no merge commit for this pull request, so "
                "fluxops cannot tell what was merged. Apply the fleet files with a new pull request and `/flux apply`."
            )
        self.merger = Identity(POLICY_PLATFORM[self.repo.provider], pr.merged_by)
        try:
            planned = self.compute(fleet, pr.merge_commit, None)
        except errors.ConfigurationError as error:
            return self.refuse(
                f"Merged, but nothing was applied: the merged fleet files cannot be read. {error.user_text()}"
            )
        if not planned.plan.operations():
            problems = planned.plan.problems()
            if problems:
                return self.refuse("Merged, but nothing was applied: " + "; ".join(problems))
            self.reporter.private(TextView("Nothing to apply: the clusters already match the fleet files."))
            return self.end(Phase.SUCCEEDED)
        refusal = self.authorize(planned, self.merger)
        if refusal:
            return self.refuse(
                f"Merged, but nothing was applied: {refusal.removeprefix('Not applied: ')}",
                clusters=self.labels(planned),
            )
        counted = self.approvals(pr, planned)
        if not counted.approved:
            return self.refuse(
                f"Merged, but nothing was applied: {shortfall(counted)}. Applying on merge needs "
                f"{requirement(pr.head_sha)}. The clusters keep their configuration: apply it with an approved "
                "pull request and `/flux apply`.",
                clusters=self.labels(planned),
            )
        conflict = self.claim(planned)
        if conflict:
            return self.refuse(f"Merged, but {conflict[0].lower()}{conflict[1:]}", clusters=self.labels(planned))
        return planned

    def approvals(self, pr: PullRequestInfo, planned: Planned) -> Tally:
        """The pull request's approvals counted against the plan's clusters (bot.usecases.approvals)."""
        platform = POLICY_PLATFORM[self.repo.provider]
        policy = self.ports.policy
        clusters = [
            planned.resolved[key]
            for key in sorted({op.cluster_key for op in planned.plan.operations()})
            if key in planned.resolved
        ]

        def role_gap(user: str) -> str:
            who, anyone = Identity(platform, user), Identity(platform, _ANYONE)
            lacking = []
            for where in clusters:
                have = policy.role_for(who, where.cluster, where.alias)
                everyone = policy.role_for(anyone, where.cluster, where.alias)
                if have is None or (everyone is not None and have.rank <= everyone.rank):
                    lacking.append(where.label)
            if not lacking:
                return ""
            return "has no fluxops role of their own on " + ", ".join(lacking)

        def can_write(user: str) -> str:
            have = self.host.permission(self.repo, user)
            return "" if have.at_least(Permission.WRITE) else f"has {have.value} access to the repository"

        authors = self.host.pull_request_authors(self.repo, self.number)
        # the policy's approvals: for apply on these clusters may ask for more than one
        required = max([1, *(policy.approvals_required("apply", w.cluster, w.alias)[0] for w in clusters)])
        return tally(pr, authors=authors, role_gap=role_gap, can_write=can_write, required=required)

    @staticmethod
    def labels(planned: Planned) -> str:
        return ", ".join(sorted({op.label for op in planned.plan.operations()}))

    def authorize(self, planned: Planned, identity: Identity) -> str:
        """ "" when ``identity`` may apply every change; otherwise what they lack, where."""
        needed: dict[str, Role] = {}
        for op in planned.plan.operations():
            role = Role.ADMIN if isinstance(op, (DeleteConfig, InstallExtension, UpdateExtension)) else Role.OPERATOR
            if op.cluster_key not in needed or role.rank > needed[op.cluster_key].rank:
                needed[op.cluster_key] = role
        lacking = []
        for key, role in needed.items():
            where = planned.resolved.get(key)
            if where is None:
                continue
            have = self.ports.policy.role_for(identity, where.cluster, where.alias)
            if have is None or have.rank < role.rank:
                lacking.append(f"{role.value} on {where.label} (you have {have.value if have else 'no role'})")
        if not lacking:
            return ""
        return f"Not applied: {identity.user} needs " + ", ".join(lacking) + " (FLUXOPS_CONFIG roles)."

    def claim(self, planned: Planned) -> str:
        claims = self.ports.claims
        if claims is None:
            return ""
        held = []
        taken = []
        for op in planned.plan.operations():
            before = claims.holder(op.cluster.arm_id)
            holder = claims.claim(op.cluster.arm_id, self.holder)
            if holder != self.holder:
                held.append(f"{op.label} is being applied from {holder}")
            elif before is None:
                taken.append(op.cluster.arm_id)
        if held:
            if taken and self.ports.jobs.get(self.store, "applied") is None:
                claims.release_all(self.holder)  # nothing applied from this PR yet: it holds nothing
            return "Not applied: " + "; ".join(sorted(set(held))) + ". It is free again once that PR merges or closes."
        return ""
