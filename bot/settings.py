"""Typed settings from the environment (names from DESIGN.md §4). Secrets are SecretStr.

Settings are built once per process, in the composition roots; no other module reads os.environ.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigurationError

AZURE_ARM_DEFAULT = "https://management.azure.com"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", alias="REDIS_URL")
    port: int = Field(default=8080, alias="PORT")

    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    #: Slack workspaces (team ids, comma-separated) whose requests fluxops takes; empty: the bot token's own
    slack_allowed_teams: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="SLACK_ALLOWED_TEAMS")

    github_webhook_secret: SecretStr | None = Field(default=None, alias="GITHUB_WEBHOOK_SECRET")
    github_token: SecretStr | None = Field(default=None, alias="GITHUB_TOKEN")
    github_app_id: str | None = Field(default=None, alias="GITHUB_APP_ID")
    github_app_private_key: SecretStr | None = Field(default=None, alias="GITHUB_APP_PRIVATE_KEY")
    github_api_url: str = Field(default="https://api.github.com", alias="GITHUB_API_URL")

    ado_webhook_username: str | None = Field(default=None, alias="ADO_WEBHOOK_USERNAME")
    ado_webhook_password: SecretStr | None = Field(default=None, alias="ADO_WEBHOOK_PASSWORD")
    ado_org_url: str | None = Field(default=None, alias="ADO_ORG_URL")
    ado_token: SecretStr | None = Field(default=None, alias="ADO_TOKEN")

    azure_subscription_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="AZURE_SUBSCRIPTION_IDS")
    azure_arm_endpoint: str = Field(default=AZURE_ARM_DEFAULT, alias="AZURE_ARM_ENDPOINT")
    azure_ca_bundle: Path | None = Field(default=None, alias="AZURE_CA_BUNDLE")
    #: seconds between polls of an ARM operation when ARM gives no Retry-After (or 0)
    azure_poll_interval: float = Field(default=5.0, alias="FLUXOPS_ARM_POLL_INTERVAL", gt=0)

    fluxops_config: Path | None = Field(default=None, alias="FLUXOPS_CONFIG")

    #: how a job follows reconciliation after a write (seconds)
    watch_timeout: float = Field(default=600.0, alias="FLUXOPS_WATCH_TIMEOUT", gt=0)
    watch_first_poll: float = Field(default=2.0, alias="FLUXOPS_WATCH_FIRST_POLL", gt=0)
    watch_longest_poll: float = Field(default=15.0, alias="FLUXOPS_WATCH_LONGEST_POLL", gt=0)
    #: a running job whose heartbeat is older than this is taken to be orphaned (its worker died)
    job_stale_seconds: float = Field(default=60.0, alias="FLUXOPS_JOB_STALE_SECONDS", gt=0)
    #: how often beat sweeps for orphaned jobs, and refreshes the cluster inventory the web process reads
    recover_interval: float = Field(default=30.0, alias="FLUXOPS_RECOVER_INTERVAL", gt=0)
    inventory_interval: float = Field(default=300.0, alias="FLUXOPS_INVENTORY_INTERVAL", gt=0)
    #: beat's leader lease (workers/beat_leader.py): with several beats one sends; a dead leader's lease ends after this
    beat_lock_ttl: float = Field(default=30.0, alias="FLUXOPS_BEAT_LOCK_TTL", gt=0)
    #: a worker told to stop (SIGTERM, with REMAP_SIGTERM=SIGQUIT) lets its running jobs go on this long, then hands
    #: them back to the queue; keep it under the pod's grace period (workers/celery_app.py)
    worker_soft_shutdown_timeout: float = Field(default=60.0, alias="FLUXOPS_WORKER_SOFT_SHUTDOWN_TIMEOUT", ge=0)
    #: a web process told to stop finishes the requests in flight for at most this long (handlers/web.py)
    web_shutdown_timeout: float = Field(default=20.0, alias="FLUXOPS_WEB_SHUTDOWN_TIMEOUT", ge=0)
    #: how many times faster than ARM's published rates its throttle refills (1 in Azure; the sandbox sets its
    #: time scale): fluxops paces its writes to match (workers/arm_pacing.py)
    arm_time_scale: float = Field(default=1.0, alias="FLUXOPS_ARM_TIME_SCALE", gt=0)
    #: how many times faster than configured the clusters' Flux fetches (1 in Azure; the sandbox sets its time scale)
    flux_time_scale: float = Field(default=1.0, alias="FLUXOPS_FLUX_TIME_SCALE", gt=0)
    #: the least time between two edits of one Slack message
    slack_min_interval: float = Field(default=1.0, alias="FLUXOPS_SLACK_MIN_INTERVAL", ge=0)

    #: Fernet key(s), comma-separated, newest first: seal the deploy keys and credentials fluxops keeps
    key_encryption_key: SecretStr | None = Field(default=None, alias="FLUXOPS_KEY_ENCRYPTION_KEY")
    #: how often beat looks for deploy keys older than ``deploy_keys.max_age`` of FLUXOPS_CONFIG (seconds)
    key_rotation_check_interval: float = Field(default=3600.0, alias="FLUXOPS_KEY_ROTATION_CHECK_INTERVAL", gt=0)
    #: commands one person may send per minute, from Slack and PR comments together (0: no limit)
    rate_limit: int = Field(default=30, alias="FLUXOPS_RATE_LIMIT", ge=0)
    #: a PR comment older than this (seconds) when fluxops first receives it is not run (replays, late redeliveries)
    comment_max_age: float = Field(default=600.0, alias="FLUXOPS_COMMENT_MAX_AGE", gt=0)
    #: how long a pull request's claim on a cluster lasts without being renewed (seconds; `/flux unlock` ends it)
    claim_ttl: int = Field(default=7 * 24 * 3600, alias="FLUXOPS_CLAIM_TTL", gt=0)
    #: how often beat publishes every configuration's state for the status page (GET /fleet; seconds)
    fleet_snapshot_interval: float = Field(default=60.0, alias="FLUXOPS_FLEET_SNAPSHOT_INTERVAL", gt=0)
    #: how often beat sends the one shared watch scan (seconds): every watched configuration read in bulk
    watch_scan_interval: float = Field(default=60.0, alias="FLUXOPS_WATCH_SCAN_INTERVAL", gt=0)
    #: a watched configuration must be seen broken (or healthy again) on two reads this far apart before it is
    #: alerted (or resolved): flapping is damped; keep it under the scan interval (seconds)
    watch_alert_settle: float = Field(default=30.0, alias="FLUXOPS_WATCH_ALERT_SETTLE", ge=0)
    #: while a configuration stays broken, its alert gets a reminder in its thread this often (seconds)
    watch_alert_reminder: float = Field(default=4 * 3600.0, alias="FLUXOPS_WATCH_ALERT_REMINDER", gt=0)
    #: signs the status page's session cookies (HMAC-SHA256); without it nobody can sign in with a cookie
    #: (one-time links, Slack sign-in), only through a trusted proxy header
    session_secret: SecretStr | None = Field(default=None, alias="FLUXOPS_SESSION_SECRET")
    #: how long a status page session lasts (seconds)
    session_max_age: int = Field(default=8 * 3600, alias="FLUXOPS_SESSION_MAX_AGE", gt=0)
    #: the header an authenticating proxy (oauth2-proxy) sets to the signed-in person: ``X-Forwarded-Email`` or
    #: ``X-Forwarded-User``. Trusted only when set: anyone can send the header to a web process the proxy does
    #: not front, so set it only when every request reaches fluxops through that proxy
    trusted_proxy_header: str | None = Field(default=None, alias="FLUXOPS_TRUSTED_PROXY_HEADER")
    #: the addresses the header is believed from (comma-separated CIDRs: the proxy's pods or its sidecar's
    #: 127.0.0.1/32); required with the header. A request from any other direct peer is treated as unsigned-in
    trusted_proxy_cidrs: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="FLUXOPS_TRUSTED_PROXY_CIDRS"
    )
    #: fluxops web's public base URL (https://fluxops.example.com): session cookies are Secure unless it is http://
    public_url: str = Field(default="", alias="FLUXOPS_PUBLIC_URL")
    #: the web process's event loop: ``auto`` takes uvloop's when uvloop is installed (faster I/O), else asyncio's
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(default="auto", alias="FLUXOPS_EVENT_LOOP")
    #: reach clusters' Kubernetes APIs (ARM listClusterUserCredential, as az does) for reconcile, events and doctor;
    #: ``off``: ARM only (commands that need the cluster say so)
    cluster_access: bool = Field(default=True, alias="FLUXOPS_CLUSTER_ACCESS")
    #: seconds to connect to / read from a cluster's Kubernetes API
    kube_connect_timeout: float = Field(default=3.0, alias="FLUXOPS_KUBE_CONNECT_TIMEOUT", gt=0)
    kube_read_timeout: float = Field(default=15.0, alias="FLUXOPS_KUBE_READ_TIMEOUT", gt=0)
    #: a test facility (workers/failpoints.py): lets tests stop a worker at a named step; never set it in production
    failpoints: bool = Field(default=False, alias="FLUXOPS_FAILPOINTS")
    #: how web, worker and beat write their logs: ``json`` (one object a line, for a log pipeline) or ``text``
    #: (for people: the sandbox sets it); anything else refuses to start (telemetry/log_setup.py)
    log_format: Literal["json", "text"] = Field(default="json", alias="LOG_FORMAT")
    #: the web process's log level (worker and beat take Celery's ``--loglevel``); at ``debug`` the web also logs
    #: each push delivery's job (one line per push costs a tenth of its ingress throughput)
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", alias="LOG_LEVEL")
    #: OpenTelemetry tracing of a job across web and worker is on only when an OTLP exporter endpoint is set
    #: (the exporter reads its other OTEL_* variables itself: telemetry/tracing.py)
    otel_exporter_otlp_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    #: the worker's or beat's Prometheus endpoint (workers/metrics_server.py): unset = 9808 (worker) or 9809
    #: (beat), 0 = off; the web process serves GET /metrics on PORT
    metrics_port: int | None = Field(default=None, alias="FLUXOPS_METRICS_PORT", ge=0, le=65535)

    @field_validator("cluster_access", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("on", "off"):
            return value.strip().lower() == "on"
        return value

    @field_validator("azure_subscription_ids", "slack_allowed_teams", "trusted_proxy_cidrs", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks FLUXOPS_TRUSTED_PROXY_CIDRS names; ConfigurationError when the header is set without
        them (the header would be believed from anyone who reaches the web process) or one is not a CIDR."""
        networks = []
        for text in self.trusted_proxy_cidrs:
            try:
                networks.append(ip_network(text, strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"refusing to start the web process: FLUXOPS_TRUSTED_PROXY_CIDRS has {text!r}, not a CIDR",
                    recommendation="list the proxy's addresses as CIDRs, comma-separated (10.0.0.0/8,127.0.0.1/32)",
                ) from None
        if self.trusted_proxy_header and not networks:
            raise ConfigurationError(
                "refusing to start the web process: FLUXOPS_TRUSTED_PROXY_HEADER is set without "
                "FLUXOPS_TRUSTED_PROXY_CIDRS, so anyone who reaches it could claim to be anyone",
                recommendation="set FLUXOPS_TRUSTED_PROXY_CIDRS to the proxy's addresses (its pods' CIDR, or "
                "127.0.0.1/32 for a sidecar), or unset FLUXOPS_TRUSTED_PROXY_HEADER",
            )
        return tuple(networks)

    def require_azure(self) -> None:
        """Workers need at least one subscription to manage."""
        if not self.azure_subscription_ids:
            raise ConfigurationError(
                "AZURE_SUBSCRIPTION_IDS is empty, so fluxops manages no clusters",
                recommendation="set it to a comma-separated list of subscription ids "
                "(the sandbox sets it for you: `fluxops sandbox up`)",
            )

    def enabled_receivers(self) -> dict[str, bool]:
        """Which inbound receivers are configured (the web process refuses one without its secret)."""
        return {
            "slack": self.slack_signing_secret is not None,
            "github": self.github_webhook_secret is not None,
            "azure-devops": self.ado_webhook_username is not None and self.ado_webhook_password is not None,
        }
