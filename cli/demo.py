"""`fluxops sandbox demo`: the seed tutorial end to end, typed into (fake) Slack as a person would.

A whole sandbox comes up (redis, emulated Azure, fake Slack, fluxops web + worker + beat); then the
tutorial's steps go through `/flux`: install microsoft.flux on flux-demo-arc, create cluster-config
(infra + apps) and watch it become Compliant, its status, suspend, resume, delete (confirmed).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.models import FluxConfigSpec, GitSource, Kustomization, RepositoryRef
from cli.chat import Chat, Target
from sandbox.policy import CHANNEL, YOU
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG, TUTORIAL_URL
from sandbox.stack import Stack, StackOptions

TUTORIAL_SPEC = FluxConfigSpec(
    name="cluster-config",
    namespace="cluster-config",
    scope="cluster",
    source=GitSource(url=TUTORIAL_URL, ref=RepositoryRef(branch="main")),
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", prune=True, depends_on=("infra",)),
    ),
)

CLUSTER = f"-c {TUTORIAL_ARC} -g {TUTORIAL_RG} -t connectedClusters"
TUTORIAL_COMMAND = (
    f"/flux config create cluster-config {CLUSTER} --namespace cluster-config --scope cluster "
    f"-u {TUTORIAL_URL} --branch main "
    "--kustomization name=infra path=./infrastructure prune=true "
    "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
)
STEPS = (
    ("Install the Flux extension", f"/flux extension create {CLUSTER}"),
    ("Create the tutorial's flux configuration", TUTORIAL_COMMAND),
    ("Look at it", f"/flux status cluster-config {CLUSTER}"),
    ("Suspend it", f"/flux suspend cluster-config {CLUSTER}"),
    ("Resume it", f"/flux resume cluster-config {CLUSTER}"),
    ("Delete it (the Confirm button is pressed for you)", f"/flux config delete cluster-config {CLUSTER}"),
    ("What is left", f"/flux config list {CLUSTER}"),
)


async def _demo(say: Callable[[str], None]) -> int:
    with tempfile.TemporaryDirectory(prefix="fluxops-demo-") as home:
        stack = Stack(StackOptions(discovery_file=Path(home) / "sandbox.json"))
        say("Starting the sandbox: redis-server, ARM emulator, fake Slack, fluxops web + worker + beat ...")
        try:  # a start that fails part-way stops what it had started
            try:
                await stack.start()
            except Exception as error:  # any cause: said in one line, not a traceback
                print(f"fluxops sandbox demo: the sandbox did not start: {error}", file=sys.stderr, flush=True)
                return 1
            chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=say, timeout=300)
            for title, command in STEPS:
                say(f'\n=== {title}\n$ fluxops chat "{command}"')
                code = await asyncio.to_thread(chat.run, command, confirm=True)
                if code != 0:
                    say(f"demo stopped: `{command}` ended with exit code {code}")
                    return code
            say("\nThe tutorial ran end to end through /flux.")
            return 0
        finally:
            await stack.stop()


def run_demo(*, quiet: bool = False) -> int:
    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    return asyncio.run(_demo(say))
