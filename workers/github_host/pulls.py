"""bot.ports.PullRequests for GitHub: pull requests with their reviews, comments and reactions, and who may
act on the repository (collaborator permission)."""

from __future__ import annotations

from bot import errors
from bot.git_host import CommentInfo, CommentRef, Permission, PullRequestInfo, Review, Verdict
from bot.gitevents import RepoRef
from workers.github_host.connection import TEXT_LIMIT, GitHubConnection, clip

_PERMISSION_NAMES = frozenset(p.value for p in Permission)
_VERDICTS = {"APPROVED": Verdict.APPROVED, "CHANGES_REQUESTED": Verdict.CHANGES_REQUESTED}


class GitHubPullRequests(GitHubConnection):
    """Pull requests and their conversation, on GitHub."""

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        doing = f"reading pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            pr = self.repo(repo).get_pull(number)
            author = pr.user.login
            latest: dict[str, Review] = {}  # login key -> that reviewer's standing verdict
            for review in pr.get_reviews():  # oldest first
                login = review.user.login if review.user is not None else ""
                if not login or login.casefold() == author.casefold():
                    continue
                if review.state in _VERDICTS:
                    latest[login.casefold()] = Review(login, _VERDICTS[review.state], review.commit_id or "")
                elif review.state == "DISMISSED":
                    latest.pop(login.casefold(), None)
                # COMMENTED and PENDING reviews leave an earlier verdict standing, as on GitHub.
            head_repo = pr.head.repo
            base_repo = pr.base.repo
            from_fork = head_repo is None or head_repo.full_name.casefold() != base_repo.full_name.casefold()
            head = pr.head.sha
            reviews = tuple(sorted(latest.values(), key=lambda r: r.user.casefold()))
            merged = bool(pr.merged)
            return PullRequestInfo(
                number=pr.number,
                state="merged" if merged else pr.state,
                head_sha=head,
                head_branch=pr.head.ref,
                base_branch=pr.base.ref,
                author=author,
                from_fork=from_fork,
                approved_by=tuple(
                    r.user for r in reviews if r.verdict is Verdict.APPROVED and r.commit.lower() == head.lower()
                ),
                changes_requested_by=tuple(r.user for r in reviews if r.verdict is Verdict.CHANGES_REQUESTED),
                title=pr.title or "",
                url=pr.html_url or "",
                reviews=reviews,
                merged_by=pr.merged_by.login if merged and pr.merged_by is not None else "",
                merge_commit=(pr.merge_commit_sha or "") if merged else "",
            )

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        doing = f"reading the commits of pull request #{number} of {repo.full_name}"
        people: set[str] = set()
        with self.call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            pull = self.repo(repo).get_pull(number)
            people.add(pull.user.login.casefold())
            # GitHub lists up to 250 commits here; their GitHub users are matched from the commits' e-mails
            for commit in pull.get_commits():
                for person in (commit.author, commit.committer):
                    if person is not None and person.login:
                        people.add(person.login.casefold())
        return frozenset(people)

    def permission(self, repo: RepoRef, user: str) -> Permission:
        doing = f"reading {user}'s permission on {repo.full_name}"
        try:
            with self.call(doing, repo, missing=f"user {user} on {repo.full_name}"):
                github_repo = self.repo(repo)
                role = github_repo.get_collaborator_role_name(user)
                if role not in _PERMISSION_NAMES:
                    # A custom repository role: fall back to the base permission GitHub reports with it.
                    role = github_repo.get_collaborator_permission(user)
        except errors.NotFound:
            return Permission.NONE
        return Permission(role) if role in _PERMISSION_NAMES else Permission.NONE

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        doing = f"commenting on pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            created = self.repo(repo).get_issue(number).create_comment(clip(body, TEXT_LIMIT))
            return CommentRef(id=str(created.id))

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None:
        doing = f"editing comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            self.repo(repo).get_issue(number).get_comment(int(ref.id)).edit(clip(body, TEXT_LIMIT))

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        me = self.own_login(repo).casefold()
        doing = f"looking for fluxops' comment on pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            for comment in self.repo(repo).get_issue(number).get_comments():
                if comment.user is not None and comment.user.login.casefold() == me and marker in (comment.body or ""):
                    return CommentRef(id=str(comment.id))
        return None

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        doing = f"reading comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            comment = self.repo(repo).get_issue(number).get_comment(int(ref.id))
            written = comment.created_at.timestamp() if comment.created_at else 0.0
            return CommentInfo(
                ref=ref, author=comment.user.login if comment.user else "", body=comment.body or "", published=written
            )

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        doing = f"reacting to comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self.call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            self.repo(repo).get_issue(number).get_comment(int(ref.id)).create_reaction("eyes")
