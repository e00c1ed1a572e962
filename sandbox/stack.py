"""The whole local system: redis-server, the ARM emulator, a fake Slack, and fluxops' own processes.

fluxops runs exactly as the Procfile says (web, worker, beat as child processes, each line as written,
with the environment of DESIGN.md §4) against emulated clouds, so what a person tries here, and what
the scenario tests exercise, is the real thing end to end. A discovery file lets `fluxops chat` find it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis
from cryptography.fernet import Fernet

from bot.models import Secret
from sandbox.azure_devops import FakeAzureDevOps
from sandbox.github import FakeGitHub
from sandbox.policy import (
    ADO_ADMIN,
    ADO_FLEET,
    ADO_ORG,
    ADO_PEOPLE,
    ADO_PROJECT,
    ADO_TUTORIAL,
    ADO_VIEWER,
    CHANNEL,
    FLEET_README,
    GITHUB_ADMIN,
    GITHUB_FLEET,
    GITHUB_OPERATOR,
    GITHUB_ORG,
    GITHUB_OUTSIDER,
    GITHUB_PEOPLE,
    OPERATOR,
    PLATFORM_GROUP,
    SANDBOX_CREDENTIAL,
    SANDBOX_POLICY,
    SLACK_GROUPS,
    SLACK_PEOPLE,
    STATE_DIR_TOKEN,
    VIEWER,
    YOU,
    resolve_policy,
)  # fmt: skip
from sandbox.redis_server import RedisServer, free_port
from sandbox.runtime import Sandbox, SandboxOptions
from sandbox.served import Served
from sandbox.slack import FakeSlack
from sandbox.source_servers import credentials as source_credentials
from sandbox.tutorial_repo import tutorial_files

#: the people and the policy (sandbox/policy.py) are imported from here too, as before the split
__all__ = [
    "ADO_ADMIN", "ADO_FLEET", "ADO_ORG", "ADO_PEOPLE", "ADO_PROJECT", "ADO_TUTORIAL", "ADO_VIEWER", "CHANNEL",
    "FLEET_README", "GITHUB_ADMIN", "GITHUB_FLEET", "GITHUB_OPERATOR", "GITHUB_ORG", "GITHUB_OUTSIDER",
    "GITHUB_PEOPLE", "OPERATOR", "PLATFORM_GROUP", "REPO_ROOT", "SANDBOX_CREDENTIAL", "SANDBOX_POLICY",
    "SLACK_GROUPS", "SLACK_PEOPLE", "STATE_DIR_TOKEN", "VIEWER", "YOU", "Stack", "StackOptions", "StackThread",
    "default_discovery_file", "procfile", "resolve_policy",
]  # fmt: skip

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_discovery_file() -> Path:
    return Path(os.environ.get("FLUXOPS_HOME", Path.home() / ".fluxops")) / "sandbox.json"


@dataclass
class StackOptions:
    sandbox: SandboxOptions = field(default_factory=SandboxOptions)
    web_port: int = 0
    #: seconds: how fast jobs follow reconciliation and notice a dead worker (sandbox time is short)
    watch_first_poll: float = 0.5
    watch_longest_poll: float = 2.0
    watch_timeout: float = 300.0
    job_stale_seconds: float = 6.0
    recover_interval: float = 2.0
    slack_min_interval: float = 0.3
    discovery_file: Path | None = None  # None: do not write one
    processes: tuple[str, ...] = ("web", "worker", "beat")
    extra_env: dict[str, str] = field(default_factory=dict)
    #: the FLUXOPS_CONFIG the sandbox runs with (``fluxops sandbox up --policy FILE``); default: SANDBOX_POLICY
    policy: str = SANDBOX_POLICY
    #: run the S3 server, azurite and the OCI registry Bucket / Azure Blob / OCI sources are fetched from
    source_servers: bool = True


def procfile() -> dict[str, str]:
    lines = (REPO_ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in (line.partition(":") for line in lines if line)}


class Stack:
    """Start with ``await start()``; ``stop()`` ends every child process and server."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        sandbox_options = self.options.sandbox
        if self.options.source_servers:
            sandbox_options = dataclasses.replace(sandbox_options, source_servers=True)
        self.sandbox = Sandbox(sandbox_options)
        self.state_dir = self.sandbox.state_dir
        self.signing_secret = secrets.token_hex(16)
        self.bot_token = f"xoxb-sandbox-{secrets.token_hex(12)}"
        self.slack = FakeSlack(
            bot_token=self.bot_token,
            signing_secret=self.signing_secret,
            users=dict(SLACK_PEOPLE),
            usergroups={group: list(members) for group, members in SLACK_GROUPS.items()},
        )
        self.github_token = f"ghp_sandbox{secrets.token_hex(15)}"
        self.github_secret = secrets.token_hex(16)
        self.github = FakeGitHub(
            repos=self.sandbox.repos,
            access=self.sandbox.access,
            token=Secret(self.github_token),
            webhook_secret=Secret(self.github_secret),
            on_push=lambda slug, branch, sha: self._pushed(f"https://github.com/{slug}", branch),
        )
        self.ado_token = secrets.token_hex(26)
        self.ado_hook_user = "fluxops-hooks"
        self.ado_hook_password = secrets.token_hex(16)
        self.ado = FakeAzureDevOps(
            store=self.sandbox.repos,
            token=self.ado_token,
            org=ADO_ORG,
            members=dict(ADO_PEOPLE),
            webhook_username=self.ado_hook_user,
            webhook_password=self.ado_hook_password,
        )
        self.ado.on_push = lambda slug, branch, sha: self._pushed(f"https://dev.azure.com/{slug}", branch)
        self.github_url = ""
        self.ado_url = ""
        self.redis: RedisServer | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}
        self.web_url = ""
        self.slack_url = ""
        #: a one-time link that opens the status page signed in as the sandbox's user (it works once)
        self.fleet_url = ""
        #: each worker's and beat's Prometheus endpoint, by process name (web: ``{web_url}/metrics``)
        self.metrics_urls: dict[str, str] = {}

    async def start(self) -> None:
        (self.state_dir / "redis").mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(self.state_dir / "redis")
        endpoints = await self.sandbox.start()
        self.slack_url = await self.slack.start()
        self.github_url = await self.github.start()
        self.ado_url = await self.ado.start()
        self._seed_git()
        self._write_credentials()
        policy_file = self.state_dir / "fluxops.yaml"
        sources = self.sandbox.flux.source_access
        policy_file.write_text(
            resolve_policy(self.options.policy, self.state_dir, source_credentials.host_tokens(sources))
        )
        port = self.options.web_port or free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        self.slack.request_url = f"{self.web_url}/slack/events"
        self.github.webhook_url = f"{self.web_url}/webhooks/github"
        self.ado.set_webhook(
            f"{self.web_url}/webhooks/azure-devops", username=self.ado_hook_user, password=self.ado_hook_password
        )
        o = self.options
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AZURE_", "GITHUB_", "ADO_"))},
            **endpoints.azure_environment(),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "PORT": str(port),
            "REDIS_URL": self.redis.url,
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_BOT_TOKEN": self.bot_token,
            "SLACK_API_URL": f"{self.slack_url}api/",
            "GITHUB_WEBHOOK_SECRET": self.github_secret,
            "GITHUB_TOKEN": self.github_token,
            "GITHUB_API_URL": self.github.api_url,
            "ADO_WEBHOOK_USERNAME": self.ado_hook_user,
            "ADO_WEBHOOK_PASSWORD": self.ado_hook_password,
            "ADO_ORG_URL": self.ado.org_url,
            "ADO_TOKEN": self.ado_token,
            "FLUXOPS_CONFIG": str(policy_file),
            "FLUXOPS_ARM_POLL_INTERVAL": "0.2",
            "FLUXOPS_WATCH_FIRST_POLL": str(o.watch_first_poll),
            "FLUXOPS_WATCH_LONGEST_POLL": str(o.watch_longest_poll),
            "FLUXOPS_WATCH_TIMEOUT": str(o.watch_timeout),
            "FLUXOPS_JOB_STALE_SECONDS": str(o.job_stale_seconds),
            "FLUXOPS_RECOVER_INTERVAL": str(o.recover_interval),
            "FLUXOPS_SLACK_MIN_INTERVAL": str(o.slack_min_interval),
            "FLUXOPS_FLUX_TIME_SCALE": str(self.options.sandbox.emulator.time_scale),
            "FLUXOPS_ARM_TIME_SCALE": str(self.options.sandbox.emulator.time_scale),
            "FLUXOPS_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "LOG_FORMAT": "text",  # logs for people here; JSON (the default) for a log pipeline
            # the status page (GET /fleet): session cookies over plain http, configurations read every few seconds
            "FLUXOPS_SESSION_SECRET": secrets.token_hex(32),
            "FLUXOPS_PUBLIC_URL": self.web_url,
            "FLUXOPS_FLEET_SNAPSHOT_INTERVAL": "3",
            **o.extra_env,
        }
        for name in o.processes:
            self.start_process(name)
        await self._wait_ready()
        if "web" in o.processes:
            self.fleet_url = await self.signin_url(YOU)
        if o.discovery_file is not None:
            o.discovery_file.parent.mkdir(parents=True, exist_ok=True)
            o.discovery_file.write_text(json.dumps(self.describe(), indent=2))

    async def signin_url(self, user: str) -> str:
        """A new one-time link to the status page (GET /fleet) signed in as Slack user ``user``."""
        import redis.asyncio as aioredis

        from handlers.web_session import Viewer, issue_signin

        assert self.redis is not None
        client = aioredis.Redis.from_url(self.redis.url)
        try:
            token = await issue_signin(client, Viewer("slack", user))
        finally:
            await client.aclose()
        return f"{self.web_url}/fleet/signin?token={token}"

    def _seed_git(self) -> None:
        """The fleet repository on GitHub (people with access to it), and the tutorial and a fleet repository
        in Azure DevOps (a public project, so the simulated Flux fetches it without a token), with who may
        contribute to them."""
        self.sandbox.repos.create_repo(GITHUB_FLEET, {"README.md": FLEET_README}, private=False)
        for login, permission in ((GITHUB_ADMIN, "admin"), (GITHUB_OPERATOR, "write"), (GITHUB_OUTSIDER, "read")):
            self.github.set_permission(GITHUB_FLEET, login, permission)
        self.ado.create_repo(ADO_TUTORIAL, tutorial_files(), private=False)
        self.ado.create_repo(ADO_FLEET, {"README.md": FLEET_README}, private=False)
        # the Git permissions of the project (Azure DevOps security namespace): the admin contributes, the
        # viewer reads and comments
        contribute = ("Administer", "GenericRead", "GenericContribute", "CreateBranch", "PullRequestContribute")
        self.ado.grant(ADO_ADMIN, ADO_FLEET, allow=contribute, project_wide=True)
        self.ado.grant(ADO_VIEWER, ADO_FLEET, allow=("GenericRead", "PullRequestContribute"), project_wide=True)

    def _write_credentials(self) -> None:
        """The sandbox's credential file (as a mounted secret would be), its token valid on the Azure DevOps
        repositories of the sandbox."""
        folder = self.state_dir / "credentials"
        folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(20)
        path = folder / SANDBOX_CREDENTIAL
        path.write_text(token + "\n")
        path.chmod(0o600)
        for repo in (ADO_TUTORIAL, ADO_FLEET):
            self.sandbox.access.add_token("dev.azure.com", f"{ADO_ORG}/{repo}", "git", token)
        source_credentials.write_credentials(folder, self.sandbox.flux.source_access)

    def _pushed(self, url: str, branch: str) -> None:
        """A push reaches the simulated Flux at once, as a notification-controller Receiver would."""
        self.sandbox.flux.repository_pushed(url, branch)

    def served(self) -> list[Served]:
        """Every server of the running stack, in the order the start-up banner lists them (cli/banner.py).

        A new server is one line here (or in ``Sandbox.served`` when the emulated cloud runs it)."""
        assert self.redis is not None, "the stack is not started"
        web = self.web_url
        return [
            Served("fluxops web", web, "Slack, GitHub and Azure DevOps deliver here; /metrics", f"{web}/healthz"),
            Served("fleet page", self.fleet_url, "one-time link: opens GET /fleet signed in as you, once"),
            Served(
                "fake Slack",
                self.slack_url,
                "what the bot posted: GET /_sandbox/messages",
                f"{self.slack_url}_sandbox/health",
            ),
            Served(
                "fake GitHub",
                self.github_url,
                "REST API (GITHUB_API_URL); people act at POST /_sandbox/*",
                f"{self.github_url}_sandbox/health",
            ),
            Served(
                "fake Azure DevOps",
                self.ado.org_url,
                "REST 7.1 (ADO_ORG_URL); people act at POST /_sandbox/*",
                f"{self.ado_url}_sandbox/health",
            ),
            *self.sandbox.served(),
            Served("redis", self.redis.url, "broker, jobs, locks, audit"),
        ]

    def describe(self) -> dict[str, object]:
        assert self.sandbox.endpoints is not None
        assert self.redis is not None
        return {
            "pid": os.getpid(),
            "web_url": self.web_url,
            "slack_url": self.slack_url,
            "github_url": self.github_url,
            "azure_devops_url": self.ado_url,
            "arm_url": self.sandbox.endpoints.arm_url,
            "ca_file": str(self.sandbox.endpoints.ca_file),
            "redis_url": self.redis.url,
            "fleet_url": self.fleet_url,
            "user": YOU,
            "channel": CHANNEL,
            "state_dir": str(self.state_dir),
            "sources": source_credentials.describe(self.sandbox.flux.source_access),
        }

    def start_process(self, name: str) -> subprocess.Popen[bytes]:
        """Run the Procfile's line ``name`` as written, from the repository root."""
        command = shlex.split(procfile()[name])
        if name == "beat":
            command = [c.replace(".celerybeat-schedule", str(self.state_dir / "celerybeat-schedule")) for c in command]
        if name == "worker":
            command.append(f"--hostname=worker-{len(self.children)}@%h")
        env = self.env
        if name != "web" and "FLUXOPS_METRICS_PORT" not in self.env:  # its own port: many run on this machine
            port = free_port()
            env = {**self.env, "FLUXOPS_METRICS_PORT": str(port)}
            self.metrics_urls[name] = f"http://127.0.0.1:{port}/metrics"
        log = (self.state_dir / "logs" / f"{name}.log").open("ab")
        # its own process group: stopping (or killing) a process also reaches the pool children it forked
        child = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children[name] = child
        return child

    def kill_process(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal process ``name`` and everything it forked (kill -9 of a worker container, by default)."""
        child = self.children.pop(name)
        os.killpg(child.pid, sig)
        child.wait(timeout=30)

    async def _wait_ready(self, limit: float = 90.0) -> None:
        """The web process answers /readyz and a worker has published the cluster inventory."""
        assert self.redis is not None
        deadline = time.monotonic() + limit
        client = redis.Redis.from_url(self.redis.url)
        # a short timeout: a port another process holds (web could not bind it) accepts and never answers, and
        # this loop must come round to see web exited
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                for name, child in self.children.items():
                    if child.poll() is not None:
                        raise RuntimeError(f"fluxops {name} exited with {child.returncode}: {self.log_tail(name)}")
                web_ok = "web" not in self.children
                if not web_ok:
                    try:
                        async with session.get(f"{self.web_url}/readyz") as response:
                            web_ok = response.status == 200
                    except (aiohttp.ClientError, TimeoutError):
                        web_ok = False
                worker_ok = "worker" not in self.children or bool(client.exists("fluxops:inventory"))
                if web_ok and worker_ok:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not become ready: " + self.log_tail("worker"))
                await asyncio.sleep(0.2)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.state_dir / "logs" / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for name, child in list(self.children.items()):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=5)
            del self.children[name]
        await self.slack.stop()
        await self.github.stop()
        await self.ado.stop()
        if self.redis is not None:
            self.redis.stop()
        await self.sandbox.stop()
        file = self.options.discovery_file
        if file is not None and file.exists():
            try:
                if json.loads(file.read_text()).get("pid") == os.getpid():
                    file.unlink()
            except (OSError, ValueError):
                pass


class StackThread:
    """A Stack on its own event loop in a background thread, for synchronous callers (tests)."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.stack = Stack(options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fluxops-stack", daemon=True)

    def start(self) -> Stack:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.stack.start(), self._loop).result(180)
        return self.stack

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stack.stop(), self._loop).result(120)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
