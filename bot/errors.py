"""The one error tree of fluxops.

Every error carries what was happening, what went wrong, and what to do about it, so any edge
(Slack, a PR comment, the CLI) can show it as it is. ``retryable`` tells the job layer whether
trying again can help; ``retry_after`` is the server's own hint in seconds.
"""

from __future__ import annotations


class FluxopsError(Exception):
    """Root of all fluxops errors."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        recommendation: str = "",
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.recommendation = recommendation
        self.code = code
        self.retry_after = retry_after

    def user_text(self) -> str:
        """The message and the recommendation, as shown to a person."""
        return f"{self.message} — {self.recommendation}" if self.recommendation else self.message


class NotFound(FluxopsError):
    """The cluster, configuration or extension does not exist."""


class InvalidRequest(FluxopsError):
    """The service rejected what we asked for (ARM 400); asking again the same way will not help."""


class Conflict(FluxopsError):
    """Something else is changing the same resource (ARM 409)."""

    retryable = True


class Unauthorized(FluxopsError):
    """Our credential was refused (ARM 401/403)."""


class Throttled(FluxopsError):
    """The service asked us to slow down (429)."""

    retryable = True


class ServiceUnavailable(FluxopsError):
    """A transient failure of the service or the network (5xx, timeouts)."""

    retryable = True


class OperationFailed(FluxopsError):
    """A long-running operation ended Failed or Canceled."""


class ConfigurationError(FluxopsError):
    """fluxops itself is configured wrongly (settings, policy file)."""


class StillRunning(FluxopsError):
    """A long-running operation had not finished when we stopped waiting; resume it later."""

    retryable = True


class Busy(FluxopsError):
    """Another job holds the lock on the same (cluster, configuration); this one waits its turn."""

    retryable = True

    def __init__(
        self, message: str, *, holder: str, recommendation: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, recommendation=recommendation, retry_after=retry_after)
        self.holder = holder


class Forbidden(FluxopsError):
    """The person asking may not run this command on this cluster (the policy file says so)."""


class ClusterAccessDenied(Unauthorized):
    """The cluster's Kubernetes API refused fluxops (401/403): the recommendation names the role to grant."""


class ClusterUnreachable(FluxopsError):
    """fluxops cannot reach the cluster's Kubernetes API (a private cluster, a stopped cluster, a network
    failure); the recommendation says where it can be reached from. Retryable only when it may pass."""

    def __init__(self, message: str, *, recommendation: str = "", retryable: bool = False, code: str = "") -> None:
        super().__init__(message, recommendation=recommendation, code=code)
        self.retryable = retryable
