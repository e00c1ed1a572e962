"""bot.ports.PullRequests for Azure DevOps: pull requests with their votes, comment threads and likes, and who
may act on the repository (the Git security namespace)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot import errors
from bot.git_host import CommentInfo, CommentRef, Permission, PullRequestInfo, Review, Verdict
from bot.gitevents import RepoRef
from workers.ado_host.connection import AzureDevOpsConnection, ado_time, property_value, unique_name

_PR_STATES = {"active": "open", "completed": "merged", "abandoned": "closed"}
#: the Git Repositories security namespace and the bits fluxops reads from it
GIT_NAMESPACE = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
GIT_ADMINISTER, GIT_READ, GIT_CONTRIBUTE = 1, 2, 4


class AzureDevOpsPullRequests(AzureDevOpsConnection):
    """Pull requests and their conversation, on Azure DevOps."""

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        body = self.call("GET", self.pr_url(repo, number), f"reading pull request !{number} of {repo.label}")
        assert body is not None
        reviewers = [r for r in body.get("reviewers") or [] if isinstance(r, dict) and not r.get("isContainer")]
        repository = body.get("repository") or {}
        web = str(repository.get("webUrl") or repository.get("remoteUrl") or "")
        head = str((body.get("lastMergeSourceCommit") or {}).get("commitId") or "")
        reviews = self._reviews(repo, number, reviewers) if reviewers else ()
        state = _PR_STATES.get(str(body.get("status")), "closed")
        merged = state == "merged"
        return PullRequestInfo(
            number=int(body.get("pullRequestId", number)),
            state=state,
            head_sha=head,
            head_branch=_branch(str(body.get("sourceRefName") or "")),
            base_branch=_branch(str(body.get("targetRefName") or "")),
            author=unique_name(body.get("createdBy")),
            from_fork=bool(body.get("forkSource")),
            approved_by=tuple(
                r.user for r in reviews if r.verdict is Verdict.APPROVED and head and r.commit.lower() == head.lower()
            ),
            changes_requested_by=tuple(r.user for r in reviews if r.verdict is Verdict.CHANGES_REQUESTED),
            title=str(body.get("title") or ""),
            url=f"{web}/pullrequest/{number}" if web else "",
            reviews=reviews,
            merged_by=unique_name(body.get("closedBy")) if merged else "",
            merge_commit=str((body.get("lastMergeCommit") or {}).get("commitId") or "") if merged else "",
        )

    def _reviews(self, repo: RepoRef, number: int, reviewers: list[dict[str, Any]]) -> tuple[Review, ...]:
        """Each voter's verdict, with the commit it covers: the reviewer list has no times, so the vote's time
        comes from its ``VoteUpdate`` system thread and the commit from the iteration (push) newest then."""
        threads = self.call(
            "GET", self.pr_url(repo, number, "threads"), f"reading the votes on pull request !{number} of {repo.label}"
        )
        voted: dict[tuple[str, str], datetime] = {}  # (identity id, vote) -> when it was last cast
        for thread in (threads or {}).get("value") or []:
            if not isinstance(thread, dict) or property_value(thread, "CodeReviewThreadType") != "VoteUpdate":
                continue
            who = _voter(thread)
            when = ado_time(thread.get("publishedDate"))
            key = (who, property_value(thread, "CodeReviewVoteResult"))
            if who and when is not None and (key not in voted or when > voted[key]):
                voted[key] = when
        listed = self.call(
            "GET",
            self.pr_url(repo, number, "iterations"),
            f"reading the pushes to pull request !{number} of {repo.label}",
        )
        pushes = sorted(
            (when, str((i.get("sourceRefCommit") or {}).get("commitId") or ""))
            for i in (listed or {}).get("value") or []
            if isinstance(i, dict) and (when := ado_time(i.get("createdDate"))) is not None
        )
        found: list[Review] = []
        for reviewer in reviewers:
            vote = int(reviewer.get("vote") or 0)
            if vote == 0:
                continue
            verdict = Verdict.APPROVED if vote >= 5 else Verdict.CHANGES_REQUESTED
            cast = voted.get((str(reviewer.get("id") or "").lower(), str(vote)))
            # the newest push strictly before the vote: a vote in the same instant as a push is not on it
            commit = "" if cast is None else next((sha for when, sha in reversed(pushes) if when < cast), "")
            found.append(Review(unique_name(reviewer), verdict, commit))
        return tuple(sorted(found, key=lambda r: r.user.casefold()))

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        doing = f"reading the commits of pull request !{number} of {repo.label}"
        people: set[str] = set()
        commits = self.call("GET", self.pr_url(repo, number, "commits"), doing, params={"$top": "1000"})
        for commit in (commits or {}).get("value") or []:
            for role in ("author", "committer"):
                person = commit.get(role) if isinstance(commit, dict) else None
                if isinstance(person, dict) and person.get("email"):
                    people.add(str(person["email"]).casefold())
        pushes = self.call("GET", self.pr_url(repo, number, "iterations"), doing)
        for iteration in (pushes or {}).get("value") or []:
            if not isinstance(iteration, dict):
                continue
            for who in ((iteration.get("push") or {}).get("pushedBy"), iteration.get("author")):
                name = unique_name(who)
                if name:
                    people.add(name.casefold())
        return frozenset(people)

    def permission(self, repo: RepoRef, user: str) -> Permission:
        """The user's Git permissions on the repository, from the Git security namespace: Administer is
        ADMIN, Contribute WRITE, Read READ; an explicit deny (theirs or a group's) wins over an allow."""
        wanted = user.strip().casefold()
        if not wanted:
            return Permission.NONE
        body = self.call(
            "GET",
            f"{self.identities_url}/_apis/identities",
            f"looking up {user!r} in Azure DevOps organization {self.org}",
            params={"searchFilter": "General", "filterValue": user, "queryMembership": "Expanded"},
            idempotent=True,
        )
        descriptors: list[str] = []
        for identity in (body or {}).get("value") or []:
            if not isinstance(identity, dict) or identity.get("isContainer") or identity.get("isActive") is False:
                continue
            names = {
                property_value(identity, "Account"),
                property_value(identity, "Mail"),
                str(identity.get("uniqueName") or ""),
            }
            if wanted in {n.casefold() for n in names if n} and identity.get("descriptor"):
                descriptors = [str(identity["descriptor"]), *(str(g) for g in identity.get("memberOf") or [] if g)]
                break
        if not descriptors:
            return Permission.NONE
        project_id, repo_id = self._repository_ids(repo)
        allowed = 0
        # the repository's own ACL, else its project's (ADO keeps most grants there, for every repository)
        for token in (f"repoV2/{project_id}/{repo_id}", f"repoV2/{project_id}"):
            found = self._acl_bits(token, descriptors, user)
            if found is not None:
                allowed = found
                break
        if allowed & GIT_ADMINISTER:
            return Permission.ADMIN
        if allowed & GIT_CONTRIBUTE:
            return Permission.WRITE
        if allowed & GIT_READ:
            return Permission.READ
        return Permission.NONE

    def _repository_ids(self, repo: RepoRef) -> tuple[str, str]:
        """(project id, repository id) of ``repo``, as Azure DevOps has them (kept: ids never change)."""
        key = repo.id or repo.full_name
        known = self._ids_seen.get(key)
        if known is None:
            body = self.call("GET", self.repository_url(repo), f"reading repository {key} of {self.org_url}")
            project = str(((body or {}).get("project") or {}).get("id") or "")
            known = (project, str((body or {}).get("id") or ""))
            if not all(known):
                raise errors.NotFound(
                    f"reading repository {key} of {self.org_url}: Azure DevOps gave no project or repository id",
                    recommendation="check that the ADO_TOKEN's identity can read the repository",
                )
            self._ids_seen[key] = known
        return known

    def _acl_bits(self, token: str, descriptors: list[str], user: str) -> int | None:
        """Effective allowed bits of ``descriptors`` on ``token`` (deny wins); None when no ACE names them."""
        body = self.call(
            "GET",
            f"{self.org_url}/_apis/accesscontrollists/{GIT_NAMESPACE}",
            f"reading {user}'s Git permissions ({token})",
            params={"token": token, "descriptors": ",".join(descriptors), "includeExtendedInfo": "true"},
            idempotent=True,
        )
        allow = deny = 0
        seen = False
        for acl in (body or {}).get("value") or []:
            if not isinstance(acl, dict) or str(acl.get("token") or "").lower() != token.lower():
                continue
            for ace in (acl.get("acesDictionary") or {}).values():
                if not isinstance(ace, dict):
                    continue
                seen = True
                extended = ace.get("extendedInfo") or {}
                allow |= int(extended.get("effectiveAllow", ace.get("allow")) or 0)
                deny |= int(extended.get("effectiveDeny", ace.get("deny")) or 0)
        return allow & ~deny if seen else None

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        if reply_to is not None and reply_to.thread_id:
            created = self.call(
                "POST",
                self.pr_url(repo, number, f"threads/{quote(reply_to.thread_id)}/comments"),
                f"replying in thread {reply_to.thread_id} of pull request !{number} of {repo.label}",
                json={"content": body, "parentCommentId": 1, "commentType": 1},
                idempotent=False,
            )
            assert created is not None
            return CommentRef(id=str(created["id"]), thread_id=reply_to.thread_id)
        thread = self.call(
            "POST",
            self.pr_url(repo, number, "threads"),
            f"commenting on pull request !{number} of {repo.label}",
            json={"comments": [{"parentCommentId": 0, "content": body, "commentType": 1}], "status": 1},
            idempotent=False,
        )
        assert thread is not None
        first = (thread.get("comments") or [{"id": 1}])[0]
        return CommentRef(id=str(first["id"]), thread_id=str(thread["id"]))

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None:
        self.call(
            "PATCH",
            self.comment_url(repo, number, ref),
            f"editing comment {ref.id} of pull request !{number} of {repo.label}",
            json={"content": body},
        )

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        doing = f"looking for fluxops' comment on pull request !{number} of {repo.label}"
        body = self.call("GET", self.pr_url(repo, number, "threads"), doing)
        me = self.my_id()
        for thread in (body or {}).get("value") or []:
            if not isinstance(thread, dict) or thread.get("isDeleted"):
                continue
            for comment in thread.get("comments") or []:
                if comment.get("isDeleted") or marker not in str(comment.get("content") or ""):
                    continue
                # Someone quoting the plan carries the marker too: only our own comment is ours to edit.
                if me is None or str((comment.get("author") or {}).get("id") or "").lower() == me:
                    return CommentRef(id=str(comment["id"]), thread_id=str(thread["id"]))
        return None

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        body = self.call(
            "GET",
            self.comment_url(repo, number, ref),
            f"reading comment {ref.id} of pull request !{number} of {repo.label}",
        )
        assert body is not None
        if body.get("isDeleted"):
            raise errors.NotFound(
                f"reading comment {ref.id} of pull request !{number} of {repo.label}: the comment was deleted",
                recommendation="nothing to do: a deleted comment runs nothing",
            )
        published, edited = ado_time(body.get("publishedDate")), ado_time(body.get("lastContentUpdatedDate"))
        return CommentInfo(
            ref=ref,
            author=unique_name(body.get("author")),
            body=str(body.get("content") or ""),
            published=published.timestamp() if published else 0.0,
            edited=edited.timestamp() if edited else 0.0,
        )

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        self.call(
            "POST",
            self.comment_url(repo, number, ref, "likes"),
            f"liking comment {ref.id} of pull request !{number} of {repo.label}",
            idempotent=True,
        )


def _branch(ref_name: str) -> str:
    return ref_name.removeprefix("refs/heads/")


def _voter(thread: dict[str, Any]) -> str:
    """The id (lower case) of who voted in a ``VoteUpdate`` thread: its ``CodeReviewVotedByIdentity`` property
    is a key into the thread's ``identities``; "" when the thread does not say."""
    key = property_value(thread, "CodeReviewVotedByIdentity")
    identities = thread.get("identities") or {}
    voter = identities.get(key) if isinstance(identities, dict) else None
    return str(voter.get("id") or "").lower() if isinstance(voter, dict) else ""
