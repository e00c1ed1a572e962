"""Pull request threads, their comments and the likes on comments."""

from __future__ import annotations

from aiohttp import web

from sandbox.azure_devops import payloads
from sandbox.azure_devops.records import COMMENT_TYPES, THREAD_STATUSES, AdoError
from sandbox.azure_devops.rest.calls import (
    Call,
    Endpoints,
    Params,
    enum_value,
    json_response,
    list_response,
    read_body,
)


class Threads(Endpoints):
    """Threads and comments; a posted comment is handed to the fake (service hooks)."""

    async def list_threads(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return list_response([self.org.thread_json(pr.repo, pr, t) for t in pr.threads.values()])

    async def get_thread(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return json_response(self.org.thread_json(pr.repo, pr, self.org.thread(pr, int(p["thread"]))))

    async def create_thread(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        body = read_body(call)
        comments = body.get("comments")
        if not isinstance(comments, list) or not comments or not isinstance(comments[0], dict):
            raise AdoError(400, "InvalidArgumentValueException", "A thread must be created with a comment.")
        first = comments[0]
        thread = self.org.new_thread(
            pr,
            author=call.user,
            content=str(first.get("content") or ""),
            comment_type=enum_value(first.get("commentType", 1), COMMENT_TYPES, "commentType"),
        )
        thread.status = enum_value(body.get("status", 1), THREAD_STATUSES, "status")
        if isinstance(body.get("properties"), dict):
            thread.properties = body["properties"]
        for extra in comments[1:]:
            if isinstance(extra, dict):
                self.org.add_comment(thread, author=call.user, content=str(extra.get("content") or ""))
        for comment in thread.comments.values():
            self.fake.comment_posted(pr, thread, comment)
        return json_response(self.org.thread_json(pr.repo, pr, thread))

    async def list_comments(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        return list_response([self.org.comment_json(pr.repo, pr, thread, c) for c in thread.comments.values()])

    async def create_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        body = read_body(call)
        parent = body.get("parentCommentId", 1)
        comment = self.org.add_comment(
            thread,
            author=call.user,
            content=str(body.get("content") or ""),
            parent=parent if isinstance(parent, int) else 1,
            comment_type=enum_value(body.get("commentType", 1), COMMENT_TYPES, "commentType"),
        )
        self.fake.comment_posted(pr, thread, comment)
        return json_response(self.org.comment_json(pr.repo, pr, thread, comment))

    async def get_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        return json_response(self.org.comment_json(pr.repo, pr, thread, self.org.comment(thread, int(p["comment"]))))

    async def update_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        comment = self.org.comment(thread, int(p["comment"]))
        self._own(comment.author, call, "edit")
        content = read_body(call).get("content")
        if not isinstance(content, str) or not content.strip():
            raise AdoError(400, "InvalidArgumentValueException", "The comment content cannot be empty.")
        comment.content = content
        comment.updated = thread.updated = payloads.now()
        return json_response(self.org.comment_json(pr.repo, pr, thread, comment))

    async def delete_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        self._own(comment.author, call, "delete")
        comment.deleted = True
        return web.Response(status=200)

    async def list_likes(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        return list_response([self.org.identity(u) for u in comment.likes])

    async def like(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        if call.user not in comment.likes:
            comment.likes.append(call.user)
        return web.Response(status=200)

    async def unlike(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        if call.user in comment.likes:
            comment.likes.remove(call.user)
        return web.Response(status=204)

    @staticmethod
    def _own(author: str, call: Call, verb: str) -> None:
        if author.casefold() != call.user.casefold():
            raise AdoError(
                403,
                "UnauthorizedRequestException",
                f"TF401027: You need the Git 'Contribute' permission to {verb} another user's comment.",
            )
