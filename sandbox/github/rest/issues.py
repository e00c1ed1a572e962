"""Issues (a pull request seen as an issue), their comments and the reactions to comments."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.rest.errors import not_found, validation
from sandbox.github.rest.resource import Resource
from sandbox.github.state import REACTIONS, Comment, key
from sandbox.gitrepos import RepoHandle


class Issues(Resource):
    """Issue comments and reactions, as the bot reads and writes them on pull requests."""

    def _comment(self, handle: RepoHandle, comment_id: int) -> Comment:
        comment = self.state.comments.get(comment_id)
        if comment is None or key(comment.repo) != key(handle.slug):
            raise not_found()
        return comment

    async def get_issue(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        body = payloads.issue_object(
            repo=self.repo_json(request, handle),
            number=pr.number,
            author=pr.author,
            title=pr.title,
            body=pr.body,
            state=pr.state,
            comments=len(self.state.comments_on(handle.slug, pr.number)),
            created_at=pr.created_at,
            merged_at=pr.merged_at,
        )
        return web.json_response(body)

    def comment_json(self, request: web.Request, handle: RepoHandle, comment: Comment) -> dict[str, Any]:
        body = payloads.comment_object(
            repo=self.repo_json(request, handle),
            number=comment.number,
            comment_id=comment.id,
            author=comment.author,
            body=comment.body,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            author_association=self.fake.association(handle.slug, comment.author),
            reactions=comment.counts(),
        )
        if comment.via_app and self.fake.auth.app is not None:
            body["performed_via_github_app"] = self.app_json(request)
        return body

    async def list_comments(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        comments = sorted(self.state.comments_on(handle.slug, pr.number), key=lambda c: c.id)
        items, headers = self._page(request, comments)
        return web.json_response([self.comment_json(request, handle, c) for c in items], headers=headers)

    async def create_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        pr = self._pull(handle, int(request.match_info["number"]))
        body = await self._json(request)
        text = _comment_text(body)
        principal = self.principal(request)
        comment = self.fake.add_comment(
            handle.slug, pr.number, principal.login, text, via_app=principal.is_installation
        )
        return web.json_response(self.comment_json(request, handle, comment), status=201)

    async def get_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        comment = self._comment(handle, int(request.match_info["id"]))
        return web.json_response(self.comment_json(request, handle, comment))

    async def edit_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        comment = self._comment(handle, int(request.match_info["id"]))
        body = await self._json(request)
        text = _comment_text(body)
        comment.body = text
        comment.updated_at = payloads.now_iso()
        return web.json_response(self.comment_json(request, handle, comment))

    def reaction_json(self, request: web.Request, reaction: Any) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": payloads.node_id("Reaction", reaction.id),
            "user": self._user(request, reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    async def list_reactions(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        comment = self._comment(handle, int(request.match_info["id"]))
        items, headers = self._page(request, comment.reactions)
        return web.json_response([self.reaction_json(request, r) for r in items], headers=headers)

    async def create_reaction(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        comment = self._comment(handle, int(request.match_info["id"]))
        body = await self._json(request)
        content = body.get("content")
        if content not in REACTIONS:
            raise validation(
                "content is not included in the list", resource="Reaction", field="content", code="invalid"
            )
        login = self.principal(request).login
        for existing in comment.reactions:
            if existing.user.casefold() == login.casefold() and existing.content == content:
                return web.json_response(self.reaction_json(request, existing), status=200)
        reaction = self.fake.add_reaction(comment, login, str(content))
        return web.json_response(self.reaction_json(request, reaction), status=201)


def _comment_text(body: dict[str, Any]) -> str:
    """A comment's ``body``, checked as GitHub checks it (present, at most 65,536 characters)."""
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise validation("body is missing", resource="IssueComment", field="body", code="missing_field")
    if len(text) > 65536:
        raise validation("Body is too long (maximum is 65536 characters)", resource="IssueComment", field="data")
    return text
