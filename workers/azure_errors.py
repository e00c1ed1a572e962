"""SDK exceptions -> bot errors that say what was happening and what to do next."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from bot import errors

#: ARM error code -> what the user should do about it
RECOMMENDATIONS: dict[str, str] = {
    "ExtensionNotFound": "install Flux on the cluster first: `/flux extension create -c {cluster}`",
    "FluxV1ConfigurationsPresent": "Flux v1 must go first: `/flux v1 list -c {cluster}` shows its configurations, "
    "`/flux v1 migrate NAME -c {cluster}` moves each to Flux v2",
    "ResourceNotFound": "check the name, resource group and cluster type (`/flux clusters` lists what fluxops sees)",
    "SubscriptionNotFound": "check AZURE_SUBSCRIPTION_IDS and that the fluxops identity can see the subscription",
    "AuthenticationFailed": "check the Azure credential of the fluxops workers (DefaultAzureCredential)",
    "AuthorizationFailed": "grant the fluxops identity a role on the cluster's resource group "
    "(e.g. Kubernetes Extension Contributor)",
    "OperationInProgress": "another change to it is still running; fluxops retries when it ends",
    "ExtensionVersionNotFound": "pick one of the released versions listed, or turn auto-upgrade on",
    "FluxV1Retired": "create a Flux v2 configuration instead: `/flux config create`",
}
DEFAULT_RECOMMENDATION = {
    400: "fix the value named above and run the command again",
    401: RECOMMENDATIONS["AuthenticationFailed"],
    403: RECOMMENDATIONS["AuthorizationFailed"],
    404: RECOMMENDATIONS["ResourceNotFound"],
    409: "another change is in progress; fluxops retries when it ends",
    429: "Azure is throttling this subscription; fluxops retries after the time Azure asks for",
}


def _code_and_message(exc: HttpResponseError) -> tuple[str, str]:
    code = ""
    message = ""
    odata = getattr(exc, "error", None)
    if odata is not None and hasattr(odata, "code"):
        code = odata.code or ""
        message = odata.message or ""
        details = [d for d in getattr(odata, "details", None) or () if getattr(d, "code", None)]
        if code == "BadRequest" and details:
            # Resource Graph: a generic BadRequest whose details say what was wrong (InvalidQuery, ...)
            code = str(details[0].code)
            message = " ".join(str(d.message or d.code) for d in details)
    response: Any = exc.response
    if not code and response is not None:
        # A failed long-running operation: the status body holds {"status": "Failed", "error": {...}}.
        try:
            body = response.json()
        except (ValueError, TypeError, AttributeError):
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
    if not message:
        message = (exc.reason or str(exc.message or "")).strip() or "no details given"
    return code, message


def translate(exc: AzureError, doing: str, cluster: str) -> errors.FluxopsError:
    """Turn an SDK error raised while ``doing`` into one of ours."""
    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        return errors.Unauthorized(
            f"{doing}: could not get an Azure token ({exc.message})",
            recommendation=RECOMMENDATIONS["AuthenticationFailed"],
        )
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return errors.ServiceUnavailable(
            f"{doing}: Azure Resource Manager could not be reached ({exc.message})",
            recommendation="fluxops retries; if it persists check the network path and AZURE_ARM_ENDPOINT",
        )
    if not isinstance(exc, HttpResponseError):
        return errors.ServiceUnavailable(f"{doing}: {exc.message}", recommendation="fluxops retries")
    status = exc.status_code or 0
    code, message = _code_and_message(exc)
    recommendation = RECOMMENDATIONS.get(code) or DEFAULT_RECOMMENDATION.get(status, "")
    recommendation = recommendation.replace("{cluster}", cluster)
    text = f"{doing}: {message}"
    retry_after = _retry_after(exc)
    if status == 0 or (200 <= status < 300):
        # The operation itself ended Failed or Canceled (polling saw the final status).
        return errors.OperationFailed(
            text,
            code=code,
            recommendation=recommendation or "see `/flux status` for the configuration's state, then try again",
        )
    kinds: dict[int, type[errors.FluxopsError]] = {
        400: errors.InvalidRequest,
        401: errors.Unauthorized,
        403: errors.Unauthorized,
        404: errors.NotFound,
        409: errors.Conflict,
        429: errors.Throttled,
    }
    kind = kinds.get(status) or (errors.ServiceUnavailable if status >= 500 else errors.InvalidRequest)
    if kind is errors.ServiceUnavailable and not recommendation:
        recommendation = "Azure had a transient failure; fluxops retries with backoff"
    return kind(text, code=code, recommendation=recommendation, retry_after=retry_after)


def _retry_after(exc: HttpResponseError) -> float | None:
    response: Any = exc.response
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else quota_reset_seconds(response.headers)
    except ValueError:
        return None


def quota_reset_seconds(headers: Any) -> float | None:
    """Resource Graph's ``x-ms-user-quota-resets-after`` (hh:mm:ss[.fff]) in seconds, or None."""
    value = headers.get("x-ms-user-quota-resets-after")
    parts = str(value).split(":") if value else []
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    total = hours * 3600 + minutes * 60 + seconds
    return total if 0 <= total < 24 * 3600 else None


@contextmanager
def arm_call(doing: str, cluster: str) -> Iterator[None]:
    """Run SDK calls; any Azure error leaves as a bot error naming ``doing``."""
    try:
        yield
    except AzureError as exc:
        raise translate(exc, doing, cluster) from exc
