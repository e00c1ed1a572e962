"""Why it failed, through the real stack: a configuration whose kustomization path is missing ends Non-Compliant,
and its job message carries the kustomize-controller's event, read with the real ``kubernetes`` client from the
sandbox cluster's Kubernetes API; ``/flux events`` lists it with the source-controller's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from bot.errors import NotFound
from bot.models import ClusterRef
from cli.chat import Chat
from tests.golden_files import assert_golden
from tests.scenarios.test_slack_lifecycle import TUTORIAL_URL, job_text
from workers.azure_flux import AzureFluxConfigs

NAME = "broken-apps"


@pytest.fixture
def broken_apps(arm_flux: AzureFluxConfigs, demo_arc: ClusterRef) -> Iterator[str]:
    """The configuration's name; it is gone afterwards (test_slack_lifecycle.py creates one of the same name)."""
    yield NAME
    with contextlib.suppress(NotFound):
        arm_flux.begin_delete(demo_arc, NAME).result(timeout=60)


def test_a_broken_path_is_explained_by_the_controllers_event(chat: Chat, broken_apps: str) -> None:
    command = (
        f"/flux config create {broken_apps} -c demo-arc --namespace {broken_apps} -u {TUTORIAL_URL} --branch main "
        "--kustomization name=apps path=./apps/nope prune=true"
    )
    assert chat.run(command) == 1
    failed = job_text(chat, chat.last_job_id or "")
    # what went wrong and why, up to the job's steps (which depend on what ran before: the extension install)
    explained = failed[failed.index("❌ What was happening") : failed.index("\n\n✅ ")]
    assert_golden("scenarios/non_compliant_with_events.txt", explained)
    why = explained[explained.index("Flux events · why it failed") :].splitlines()
    assert f"`Kustomization/{broken_apps}-apps` ArtifactFailed" in why[1]
    assert "kustomization path not found: stat /tmp/" in why[1]

    assert chat.run(f"/flux events {broken_apps} -c demo-arc") == 0
    listing = job_text(chat, chat.last_job_id or "")
    rows = listing[listing.index("Flux events · ") :].splitlines()
    assert any(
        row.startswith("⚠️ ")
        and f"ArtifactFailed · `Kustomization/{broken_apps}-apps` — kustomization path not found" in row
        for row in rows
    ), listing
    assert any(f"NewArtifact · `GitRepository/{broken_apps}` — stored artifact for revision" in row for row in rows)

    assert chat.run(f"/flux events {broken_apps} -c demo-arc --kind helmrelease") == 1
    wrong_kind = job_text(chat, chat.last_job_id or "")
    assert f"flux configuration '{broken_apps}' on cluster 'demo-arc' has no HelmRelease" in wrong_kind
    assert "`GitRepository`, `Kustomization`" in wrong_kind
