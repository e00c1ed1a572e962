"""A fake GitHub at the HTTP level: the REST API PyGithub uses, signed webhooks, and sandbox controls.

``FakeGitHub`` (``sandbox.github.server``) serves it on 127.0.0.1 over plain HTTP. Give PyGithub
``base_url=fake.api_url`` (GITHUB_API_URL) and a token the fake was built with (``Auth.Token``), or an
``Auth.AppAuth`` for the app configured with ``app_id`` + ``app_public_key_pem``. Repositories are
the ``RepoStore``'s ``github.com`` repositories; deploy keys go to the ``GitAccess``.

REST (GitHub's paths, status codes, JSON and error bodies; ``{r}`` is ``/repos/{owner}/{repo}``):
``GET {r}``, ``GET {r}/commits/{ref}``, ``GET {r}/compare/{base}...{head}``,
``POST {r}/statuses/{sha}``, ``GET {r}/commits/{ref}/statuses``, ``GET {r}/commits/{ref}/status``,
``POST {r}/check-runs``, ``GET|PATCH {r}/check-runs/{id}``, ``GET {r}/commits/{ref}/check-runs``
(writes need an installation token), ``GET {r}/collaborators/{user}/permission``,
``GET {r}/pulls/{n}``, ``GET {r}/pulls/{n}/reviews``, ``GET {r}/pulls/{n}/files``, ``GET {r}/issues/{n}``,
``GET|POST {r}/issues/{n}/comments``, ``GET|PATCH {r}/issues/comments/{id}``,
``GET|POST {r}/issues/comments/{id}/reactions``, ``GET {r}/contents/{path}?ref=``,
``GET|POST {r}/keys``, ``GET|DELETE {r}/keys/{id}``, ``GET /user``, ``GET /rate_limit``, ``GET /meta``
(no auth needed; ``ssh_keys`` are the ``GitAccess``'s ``github.com`` host keys), and for apps
``GET /app``, ``GET /app/installations/{id}``, ``GET {r}/installation``,
``POST /app/installations/{id}/access_tokens``.

Control routes (JSON in and out, no auth; errors are ``{"error": ...}`` with a 4xx status). Actions
answer ``{delivery, deliveries, sha?, before?, number?, id?}``:

- ``POST /_sandbox/push {repo, branch, files: {path: text|null}, message, author}``: a commit, ``push``
  (and ``pull_request`` synchronize for open pull requests from that branch).
- ``POST /_sandbox/pulls {repo, head, base?, title, author, files?, fork?, body?}``: ``pull_request``
  opened (after the head's ``push`` when files are given and it is no fork).
- ``POST /_sandbox/pulls/{n}/push {repo, files, message, author?}``: ``push`` (no fork) + synchronize.
- ``POST /_sandbox/comment {repo, number, author, body}``: ``issue_comment`` created.
- ``POST /_sandbox/review {repo, number, reviewer, state: APPROVED|CHANGES_REQUESTED|COMMENTED, body?}``:
  ``pull_request_review`` submitted (approving one's own pull request is refused, as on GitHub).
- ``POST /_sandbox/merge {repo, number, author?}``: a merge commit on the base, ``pull_request`` closed
  (merged) and the base's ``push``. ``POST /_sandbox/close {repo, number, author?}``: closed, not merged.
- ``POST /_sandbox/collaborators {repo, login, permission: none|read|triage|write|maintain|admin}``.
- ``POST /_sandbox/redeliver {delivery}``: the same bytes again with the same ``X-GitHub-Delivery``.
- ``POST /_sandbox/ping {repo}``; ``POST /_sandbox/webhook {url}`` sets where deliveries go.
- ``POST /_sandbox/faults {kind: error|rate_limit|secondary_rate_limit, status?, path? (regex), method?,
  count?, message?, retry_after?, reset_in?}`` answers the next matching API requests with a failure.
  ``POST /_sandbox/faults/deploy-keys {repo, count?}`` (default 1) answers ``{broken_next}``: the next
  ``count`` deploy keys added to ``repo`` are accepted and listed, but SSH refuses them as unknown
  keys. ``DELETE /_sandbox/faults`` clears both kinds (and un-breaks broken keys).
- ``GET /_sandbox/requests`` (method, path, query, JSON body, status, principal; never a token),
  ``GET /_sandbox/statuses?repo=&sha=``, ``GET /_sandbox/comments?repo=&number=``,
  ``GET /_sandbox/check-runs?repo=&sha=``, ``GET /_sandbox/deliveries`` (event, delivery id, the
  receiver's status code per attempt), ``GET /_sandbox/health``.

The same actions are ``FakeGitHub`` coroutines (``push``, ``open_pull``, ``push_to_pull``, ``comment``,
``review``, ``merge``, ``close``, ``redeliver``, ``ping``) to await on the fake's event loop, plus
``set_permission``, ``inject_fault``, ``inject_rate_limit``, ``break_next_deploy_keys``, ``clear_faults``
and the readers ``statuses``, ``comments``, ``check_runs``, ``requests``, ``deliveries``. Webhook
payloads are built by ``sandbox.github.payloads``.
"""

from sandbox.github.server import FakeGitHub, Outcome, SandboxError

__all__ = ["FakeGitHub", "Outcome", "SandboxError"]
