"""A fake Azure DevOps organization: REST API 7.1 and Web Hooks service hooks, over plain HTTP.

``FakeAzureDevOps(store=RepoStore, token=PAT, org="fluxops-sandbox", bot_user=..., members=...,
webhook_url=..., webhook_username=..., webhook_password=...)``; ``await fake.start()`` serves on
127.0.0.1 and sets ``base_url``; ``fake.org_url`` (``{base_url}{org}``) is what ADO_ORG_URL must be.
Repositories are the ``RepoStore``'s under host ``dev.azure.com`` (slug ``org/project/repo``); each gets a
stable GUID (``payloads.stable_id("repository", org, project, repo)``) and its project one too.

REST (Basic auth with a PAT, any user part; ``api-version`` required; routes case-insensitive):
``{org}/_apis/connectionData``, ``{org}/_apis/identities``, and under
``{org}/{project}/_apis/git/``: ``repositories[/{repo}]``, ``pullrequests/{id}``, and under
``repositories/{repo}/``: ``pullRequests/{id}`` (``/reviewers``, ``/threads[/{t}[/comments[/{c}[/likes]]]]``,
``/statuses``), ``commits/{sha}[/statuses]``, ``items``, ``diffs/commits``.

Control routes (JSON, no auth); ``repo`` is ``"project/repo"``:

- ``POST /_sandbox/repos {repo, files, branch?}`` creates a repository.
- ``POST /_sandbox/push {repo, branch, files: {path: text|null}, message, author}`` commits and delivers
  ``git.push`` (plus ``git.pullrequest.updated`` for each active PR from that branch); answers
  ``{sha, before, notification, notifications}``.
- ``POST /_sandbox/pulls {repo, source, target, title, author, files?, fork?, description?}`` opens a PR
  (``fork``: another ``project/repo``, created from upstream when missing); delivers
  ``git.pullrequest.created``; answers ``{id, sha, notification, notifications}``.
- ``GET /_sandbox/pulls/{id}``; ``POST /_sandbox/pulls/{id}/push {files, message?, author?}``.
- ``POST /_sandbox/comment {repo, id, author, content, thread_id?}`` (author must be a member) delivers
  ``ms.vss-code.git-pullrequest-comment-event``; answers ``{thread_id, comment_id, notification}``.
  Comments fluxops posts through REST fire the same event (in the background), as in Azure DevOps.
- ``POST /_sandbox/vote {repo, id, reviewer, vote: 10|5|0|-5|-10}`` delivers ``git.pullrequest.updated``.
- ``POST /_sandbox/complete {repo, id}``: a real merge commit on the target; delivers
  ``git.pullrequest.merged``, ``git.pullrequest.updated`` (completed), ``git.push`` (target).
- ``POST /_sandbox/abandon {repo, id}`` delivers ``git.pullrequest.updated`` (abandoned).
- ``POST /_sandbox/redeliver {notification}`` sends the same body again.
- ``POST /_sandbox/members {unique_name, display_name}``.
- ``POST /_sandbox/faults {status, count?, retry_after?, path?, method?}``: the next matching REST calls fail.
- ``GET /_sandbox/requests``, ``/_sandbox/statuses?repo=&sha=``, ``/_sandbox/pr-statuses?repo=&id=``,
  ``/_sandbox/threads?repo=&id=``, ``/_sandbox/deliveries[?event_type=]``, ``/_sandbox/health``.

Each has a Python method of the same name on ``FakeAzureDevOps`` (``open_pull`` for ``pulls``,
``push_pull`` for ``pulls/{id}/push``, ``recorded`` for ``requests``, ``fail_next`` for ``faults``).
``on_push(slug, branch, sha)`` is called after every commit the fake pushes.
"""

from sandbox.azure_devops.server import BOT_USER, DEFAULT_ORG, FakeAzureDevOps

__all__ = ["BOT_USER", "DEFAULT_ORG", "FakeAzureDevOps"]
