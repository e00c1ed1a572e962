"""The workers' composition root: settings in, adapters and use-case ports out (one per process).

Everything a task needs is built here from ``Settings``: the Azure adapters (DefaultAzureCredential),
Redis-backed job store, locks and audit log, the FLUXOPS_CONFIG file (inventory aliases, credentials),
and a Slack reporter per job. Nothing else in workers/ reads settings or the environment.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import redis

from bot.commands import ClusterTarget
from bot.config_file import FluxopsConfig, load_config, read_config_file
from bot.errors import ConfigurationError
from bot.fleet_snapshot import take_snapshot
from bot.git_capabilities import pull_requests
from bot.git_host import CommentRef
from bot.gitevents import AZURE_DEVOPS, GITHUB, CommentEvent, PushEvent, event_from_json
from bot.inventory import Inventory
from bot.jobs import SCHEDULE, JobRecord
from bot.models import Cluster
from bot.policy import Policy
from bot.ports import GitHost, Reporter
from bot.settings import Settings
from bot.usecases.context import (
    ChatPorts,
    FleetPorts,
    GitPorts,
    JobPorts,
    KeyPorts,
    Pacing,
    ResolvedCluster,
    WatchPolicy,
)
from bot.usecases.watch_alerts import Teller
from bot.usecases.watch_scan import ScanPorts
from bot.usecases.watch_transitions import Damping
from bot.views import ClusterRow
from workers.ado_host import AzureDevOpsHost, ado_host_from_settings
from workers.arm_pacing import ArmBudget
from workers.audit_log import RedisAuditLog
from workers.azure_connection import ArmConnection, default_credential
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs
from workers.azure_inventory import AzureInventory
from workers.azure_resource_graph import ResourceGraphIndex
from workers.azure_v1 import AzureV1Configs
from workers.celery_app import make_celery
from workers.failpoints import RedisFailpoints
from workers.file_credentials import FileCredentials
from workers.github_host import GitHubHost, github_host_from_settings
from workers.helm_index import HttpChartIndexes
from workers.job_queue import QueueCalls, SyncJobQueue
from workers.key_sealing import sealer_from_settings
from workers.kube_cluster_api import KubeClusterApi, KubeTimeouts
from workers.kube_credentials import KubeCredentials
from workers.metrics import WRITE_TO_COMPLIANT
from workers.pr_reporter import PublicOnlyReporter, PullRequestReporter, SilentReporter
from workers.redis_alerts import RedisAlertStore
from workers.redis_claims import RedisClusterClaims
from workers.redis_fleet_runs import RedisFleetRunLog
from workers.redis_jobs import RedisJobStore
from workers.redis_key_registry import RedisKeyRegistry
from workers.redis_locks import RedisLocks
from workers.redis_names import FLEET_SNAPSHOT_KEY, INVENTORY_KEY
from workers.redis_subscriptions import RedisSubscriptions
from workers.slack_alerts import SlackAlertNotifier
from workers.slack_reporter import SlackReporter, slack_client
from workers.ssh_keys import Ed25519KeyMaker
from workers.watch_checks import CeleryWatchChecks


@dataclass
class Wiring:
    settings: Settings
    config: FluxopsConfig
    redis: redis.Redis
    flux: AzureFluxConfigs
    extensions: AzureExtensions
    azure_inventory: AzureInventory
    jobs: RedisJobStore
    locks: RedisLocks
    audit: RedisAuditLog
    credentials: FileCredentials
    subscriptions: RedisSubscriptions
    #: start, confirm, approve, cancel and requeue jobs
    queue: SyncJobQueue
    policy: Policy
    claims: RedisClusterClaims
    github: GitHubHost | None = None
    ado: AzureDevOpsHost | None = None
    #: deploy keys and sealed secrets: None without FLUXOPS_KEY_ENCRYPTION_KEY (commands needing them refuse)
    keys: RedisKeyRegistry | None = None
    key_maker: Ed25519KeyMaker = field(default_factory=Ed25519KeyMaker)
    #: a test facility, only when FLUXOPS_FAILPOINTS is true
    failpoints: RedisFailpoints | None = None
    #: ARM's write budget as every worker paces itself (shown in fleet runs)
    budget: ArmBudget | None = None
    #: fleet-wide reads in one Resource Graph query per page (bot.ports.FluxIndex)
    index: ResourceGraphIndex | None = None
    #: retired Flux v1 configurations (`/flux v1`, doctor)
    v1: AzureV1Configs | None = None
    #: the clusters' own Kubernetes APIs: None when FLUXOPS_CLUSTER_ACCESS is off
    cluster_api: KubeClusterApi | None = None
    #: watch alerts between scans, and the checks a push or a write asks for (made on first use)
    _alerts: RedisAlertStore | None = field(default=None, repr=False)
    _watch_checks: CeleryWatchChecks | None = field(default=None, repr=False)
    #: Helm repository indexes for the pull-request preflight (kept a few minutes per worker)
    charts: HttpChartIndexes = field(default_factory=HttpChartIndexes)
    _clusters: tuple[float, list[Cluster]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Wiring:
        settings.require_azure()
        require_sandbox_for_failpoints(settings)
        config = read_config_file(settings.fluxops_config) or load_config("{}")
        client = redis.Redis.from_url(settings.redis_url)
        budget = ArmBudget(redis=client, time_scale=settings.arm_time_scale)
        connection = ArmConnection.from_settings(settings, default_credential(), budget=budget)
        stale = settings.job_stale_seconds
        sealer = sealer_from_settings(settings)
        return cls(
            settings=settings,
            config=config,
            redis=client,
            flux=AzureFluxConfigs(connection=connection),
            extensions=AzureExtensions(connection=connection),
            azure_inventory=AzureInventory(connection=connection, subscription_ids=settings.azure_subscription_ids),
            jobs=RedisJobStore(redis=client),
            locks=RedisLocks(redis=client, ttl_seconds=stale / 2, heartbeat_seconds=stale / 6),
            audit=RedisAuditLog(redis=client),
            credentials=FileCredentials(entries=config.credential_files()),
            subscriptions=RedisSubscriptions(redis=client),
            queue=SyncJobQueue(redis=client, calls=QueueCalls(celery=make_celery(settings, current=False))),
            policy=Policy(config),
            claims=RedisClusterClaims(redis=client, ttl_seconds=settings.claim_ttl),
            github=github_host_from_settings(settings),
            ado=ado_host_from_settings(settings),
            keys=RedisKeyRegistry(redis=client, sealer=sealer) if sealer is not None else None,
            failpoints=RedisFailpoints(redis=client) if settings.failpoints else None,
            budget=budget,
            index=ResourceGraphIndex(connection=connection, subscription_ids=settings.azure_subscription_ids),
            v1=AzureV1Configs(connection=connection),
            cluster_api=cluster_api_from_settings(settings, connection),
        )

    # -- inventory ----------------------------------------------------------------------------------

    def discovered(self, *, max_age: float = 60.0) -> list[Cluster]:
        """Clusters in the configured subscriptions, listed from ARM at most once a minute."""
        with self._lock:
            if self._clusters is not None and time.monotonic() - self._clusters[0] < max_age:
                return self._clusters[1]
        clusters = self.azure_inventory.list_clusters()
        with self._lock:
            self._clusters = (time.monotonic(), clusters)
        return clusters

    def inventory(self, *, max_age: float = 60.0) -> Inventory:
        return Inventory(self.discovered(max_age=max_age), aliases=self.config.clusters)

    def publish_inventory(self) -> int:
        """Refresh the snapshot the web process resolves and authorizes against."""
        inventory = self.inventory(max_age=0)
        self.redis.set(INVENTORY_KEY, inventory.to_json())
        return len(inventory)

    def publish_fleet_snapshot(self) -> int:
        """Refresh the snapshot of every configuration's state the status page shows (GET /fleet): one bulk
        read (Resource Graph, a query per 1,000 rows), so page views never reach ARM."""
        taken_at = time.time()
        if self.index is not None:
            states = self.index.configurations()
        else:  # one list per cluster: only a wiring built without the index (tests) comes here
            states = [s for c in self.discovered() for s in self.flux.list(c.ref)]
        snapshot = take_snapshot(states, taken_at)
        self.redis.set(FLEET_SNAPSHOT_KEY, snapshot.to_json())
        return len(snapshot.configurations)

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        resolved = self.inventory().resolve(target)
        return ResolvedCluster(cluster=resolved.cluster, alias=resolved.alias)

    def all_clusters(self) -> list[ResolvedCluster]:
        return [ResolvedCluster(cluster=item.cluster, alias=item.alias) for item in self.inventory().all()]

    def git_host(self, provider: str) -> GitHost:
        host: GitHost | None = self.github if provider == GITHUB else self.ado if provider == AZURE_DEVOPS else None
        if host is None:
            raise ConfigurationError(
                f"a {provider} job arrived but the worker is not connected to {provider}",
                recommendation="give the worker GITHUB_TOKEN (or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY) for GitHub, "
                "ADO_ORG_URL + ADO_TOKEN for Azure DevOps",
            )
        return host

    def cluster_rows(self, selector: Sequence[tuple[str, str]]) -> list[ClusterRow]:
        inventory = self.inventory()
        chosen = inventory.select(selector) if selector else inventory.all()
        if self.index is not None and len(chosen) > 1:  # every cluster's flux extension in one query
            found = {e.cluster.arm_id.lower(): e for e in self.index.extensions()}
            fluxes = [found.get(item.cluster.ref.arm_id.lower()) for item in chosen]
        else:
            fluxes = [self.extensions.find_flux(item.cluster.ref) for item in chosen]
        return [
            ClusterRow(
                cluster=item.cluster,
                alias=item.alias,
                flux_version=(flux.current_version or flux.version) if flux else None,
            )
            for item, flux in zip(chosen, fluxes, strict=True)
        ]

    # -- per job ------------------------------------------------------------------------------------

    def ports(self) -> JobPorts:
        s = self.settings
        pace = Pacing(
            heartbeat=self.jobs.heartbeat,
            watch=WatchPolicy(
                first=s.watch_first_poll,
                longest=s.watch_longest_poll,
                timeout=s.watch_timeout,
                operation_poll=min(2.0, s.job_stale_seconds / 4),
                flux_time_scale=s.flux_time_scale,
            ),
            compliant_after=WRITE_TO_COMPLIANT.observe,
        )
        if self.failpoints is not None:
            pace.checkpoint = self.failpoints
        return JobPorts(
            flux=self.flux,
            extensions=self.extensions,
            jobs=self.jobs,
            locks=self.locks,
            audit=self.audit,
            clusters=WiredClusters(self),
            keys=KeyPorts(
                credentials=self.credentials,
                registry=self.keys,
                maker=self.key_maker,
                policy=self.config.deploy_keys,
            ),
            policy=self.policy,
            git=GitPorts(
                host=self.git_host,
                fleet_repository=self.config.fleet_repository,
                comment_max_age=s.comment_max_age,
                charts=self.charts,
            ),
            chat=ChatPorts(
                subscriptions=self.subscriptions,
                channel_reporter=self.channel_reporter,
                watch_checks=self.watch_checks(),
            ),
            staged=self.queue,
            claims=self.claims,
            pace=pace,
            fleet=FleetPorts(index=self.index, runs=RedisFleetRunLog(redis=self.redis), throttle=self.budget),
            v1=self.v1,
            inventory=self.azure_inventory,
            cluster_api=self.cluster_api,
        )

    # -- watch alerts -------------------------------------------------------------------------------

    def alerts(self) -> RedisAlertStore:
        if self._alerts is None:
            self._alerts = RedisAlertStore(redis=self.redis)
        return self._alerts

    def watch_checks(self) -> CeleryWatchChecks:
        if self._watch_checks is None:
            celery = make_celery(self.settings, current=False)
            self._watch_checks = CeleryWatchChecks(celery=celery, store=self.alerts())
        return self._watch_checks

    def scan_ports(self) -> ScanPorts:
        """What the shared watch scan and the one-configuration checks run with (bot/usecases/watch_scan.py)."""
        s = self.settings
        token = s.slack_bot_token
        if token is None:
            raise ConfigurationError(
                "the watch scan needs to post alerts in Slack but SLACK_BOT_TOKEN is not set in the worker",
                recommendation="give the worker the same Slack settings as the web process",
            )
        notifier = SlackAlertNotifier(client=slack_client(token=token.get_secret_value(), base_url=s.slack_api_url))
        return ScanPorts(
            subscriptions=self.subscriptions,
            store=self.alerts(),
            teller=Teller(store=self.alerts(), notifier=notifier, audit=self.audit, cluster_api=self.cluster_api),
            clusters=WiredClusters(self),
            flux=self.flux,
            policy=self.policy,
            index=self.index,
            checks=self.watch_checks(),
            damping=Damping(settle=s.watch_alert_settle, remind_every=s.watch_alert_reminder),
        )

    def reporter(self, record: JobRecord) -> Reporter:
        """Where a job's own message goes: Slack, or a pull request (a push trace posts to channels instead)."""
        if record.kind == "push":
            return SilentReporter()
        if record.platform == "slack":
            return self.slack_reporter(record)
        if record.platform == SCHEDULE:
            has_slack = record.channel and self.settings.slack_bot_token is not None
            return PublicOnlyReporter(self.slack_reporter(record)) if has_slack else SilentReporter()
        event = event_from_json(record.event)
        if isinstance(event, PushEvent):
            return SilentReporter()
        reply_to = CommentRef(event.comment_id, event.thread_id) if isinstance(event, CommentEvent) else None
        return PullRequestReporter(
            host=pull_requests(self.git_host(event.repo.provider)),
            jobs=self.jobs,
            record=record,
            repo=event.repo,
            number=event.number,
            reply_to=reply_to,
            min_interval=self.settings.slack_min_interval,
        )

    def slack_reporter(self, record: JobRecord, key_prefix: str = "") -> SlackReporter:
        token = self.settings.slack_bot_token
        if token is None:
            raise ConfigurationError(
                "a job needs to post in Slack but SLACK_BOT_TOKEN is not set in the worker",
                recommendation="give the worker the same Slack settings as the web process",
            )
        client = slack_client(token=token.get_secret_value(), base_url=self.settings.slack_api_url)
        return SlackReporter(
            client=client,
            jobs=self.jobs,
            record=record,
            min_interval=self.settings.slack_min_interval,
            key_prefix=key_prefix,
        )

    def channel_reporter(self, record: JobRecord, channel: str) -> Reporter:
        """A message of this job in another Slack channel (a push trace's subscribers)."""
        return self.slack_reporter(replace(record, channel=channel, response_url=""), key_prefix=f"{channel}:")


@dataclass(frozen=True)
class WiredClusters:
    """The wiring's inventory as the use-cases' ClusterDirectory."""

    wiring: Wiring

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        return self.wiring.resolve(target)

    def rows(self, selector: Sequence[tuple[str, str]]) -> list[ClusterRow]:
        return self.wiring.cluster_rows(selector)

    def all(self) -> list[ResolvedCluster]:
        return self.wiring.all_clusters()


def cluster_api_from_settings(settings: Settings, connection: ArmConnection) -> KubeClusterApi | None:
    """The clusters' Kubernetes APIs, reached with fluxops' Azure identity (FLUXOPS_CLUSTER_ACCESS, default on)."""
    if not settings.cluster_access:
        return None
    timeouts = KubeTimeouts(connect=settings.kube_connect_timeout, read=settings.kube_read_timeout)
    return KubeClusterApi(credentials=KubeCredentials(connection=connection), timeouts=timeouts)


def require_sandbox_for_failpoints(settings: Settings) -> None:
    """Failpoints let whoever can write Redis pause or kill workers at chosen steps: a sandbox facility.

    They are refused unless the ARM endpoint is on this machine (the sandbox's emulator), so a worker
    that manages real clusters never has them, whatever its environment says.
    """
    if not settings.failpoints:
        return
    host = (urlsplit(settings.azure_arm_endpoint).hostname or "").lower()
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigurationError(
            f"FLUXOPS_FAILPOINTS is set but the ARM endpoint is {host or settings.azure_arm_endpoint}: "
            "failpoints are a test facility of the sandbox",
            recommendation="unset FLUXOPS_FAILPOINTS (it only works against the sandbox's local ARM emulator)",
        )


@functools.cache
def wiring() -> Wiring:
    """The process's wiring, built on first use (Celery imports tasks before it forks its pool)."""
    return Wiring.from_settings(Settings())
