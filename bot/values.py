"""Validators for the values in a ``/flux`` command or a fleet file: names, URLs, refs, durations, quantities,
booleans.

Each takes the text and ``what`` (how the message names the value, e.g. "`--namespace`") and returns the
value in the form the command needs, or raises ``UsageError`` saying what a good value looks like.
The rules are the ones ``az k8s-configuration`` and ARM apply, so a command that parses is one Azure accepts.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.redact import redact
from bot.usage import UsageError, code, one_of, shown

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^(?:\d+(?:h|ms|m|s))+$")
_DURATION_PART = re.compile(r"(\d+)(h|ms|m|s)")
_SINCE = re.compile(r"^(?:\d+[wdhms])+$")
_SINCE_PART = re.compile(r"(\d+)([wdhms])")
_GO_DURATION = re.compile(r"^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_QUANTITY = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m|[eE][+-]?\d+)?$")
_SCP_URL = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s]+)$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_OCI_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_SEMVER_RANGE = re.compile(r"^[0-9A-Za-z.*xX^~<>=!|, +-]+$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
_CREDENTIAL_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
_RESOURCE_GROUP = re.compile(r"^[-\w.()]{1,90}$")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")
_ARM_CLUSTER_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
    r"(?:Microsoft\.ContainerService/managedClusters|Microsoft\.Kubernetes/connectedClusters)/[A-Za-z0-9_.-]{1,253}$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: ARM keeps seconds as 32-bit integers
MAX_SECONDS = 2**31 - 1
BOOLEAN_WORDS = {"true": True, "yes": True, "false": False, "no": False}


def _no_control(value: str, what: str) -> None:
    if _CONTROL.search(value) or any(c.isspace() for c in value):
        raise UsageError(f"{what} cannot contain spaces or control characters: {shown(value)}.")


def dns_label(value: str, what: str) -> str:
    """A Kubernetes DNS-1123 label: lowercase letters, digits and '-', at most 63 characters."""
    if not value:
        raise UsageError(f"{what} cannot be empty.")
    if len(value) > 63:
        raise UsageError(f"{what} is {len(value)} characters long; names have at most 63.")
    if _DNS_LABEL.match(value):
        return value
    fixed = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    # a suggestion is the value itself, lowercased: never offer one for a value that looks like a secret
    plausible = fixed and _DNS_LABEL.match(fixed) and len(fixed) <= 63 and redact(value) == value
    hint = f"Did you mean {code(fixed)}?" if plausible else ""
    raise UsageError(
        f"{what} must be a lowercase DNS name (letters a-z, digits and '-', starting and ending with a letter "
        f"or digit), not {shown(value)}.",
        hint=hint,
    )


def dns_subdomain(value: str, what: str) -> str:
    """A Kubernetes DNS-1123 subdomain (names of Secrets and the like): labels joined by dots, <= 253."""
    if not value or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise UsageError(
            f"{what} must be a lowercase Kubernetes name (a-z, 0-9, '-' and '.', at most 253), not {shown(value)}."
        )
    return value


def boolean(value: str, what: str) -> bool:
    """true/false/yes/no, any case."""
    found = BOOLEAN_WORDS.get(value.lower())
    if found is None:
        raise UsageError(f"{what} takes `true` or `false`, not {shown(value)}.")
    return found


def is_boolean(value: str) -> bool:
    return value.lower() in BOOLEAN_WORDS


def seconds(value: str, what: str) -> int:
    """A duration such as ``1h2m5s``, ``10m``, ``30s`` or ``1500ms`` (whole seconds), as seconds."""
    text = value.strip().lower()
    if not _DURATION.match(text):
        example = f"`{text}s` or `{int(text) // 60}m`" if text.isdigit() and int(text) >= 60 else "`30s` or `10m`"
        hint = f"Add a unit: {example}." if text.isdigit() else "Write it like `1h2m5s`, `10m`, `30s` or `700ms`."
        raise UsageError(f"{what} takes a duration, not {shown(value)}.", hint=hint)
    millis = 0
    for amount, unit in _DURATION_PART.findall(text):
        millis += int(amount) * {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}[unit]
    if millis <= 0:
        raise UsageError(f"{what} must be longer than zero.", hint="For example `10m`.")
    if millis % 1000:
        raise UsageError(f"{what} is in whole seconds; {shown(value)} is not.", hint="Round it, e.g. `1s` or `2s`.")
    if millis // 1000 > MAX_SECONDS:
        raise UsageError(f"{what} is too long: {shown(value)}.")
    return millis // 1000


def since_seconds(value: str, what: str) -> int:
    """A look-back period such as ``7d``, ``2w``, ``12h`` or ``1d12h``, as seconds."""
    text = value.strip().lower()
    if not _SINCE.match(text):
        raise UsageError(f"{what} takes a period such as `7d`, `12h` or `2w`, not {shown(value)}.")
    total = sum(
        int(n) * {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}[u] for n, u in _SINCE_PART.findall(text)
    )
    if total <= 0:
        raise UsageError(f"{what} must be longer than zero.", hint="For example `7d`.")
    return min(total, MAX_SECONDS)


def go_duration(value: str, what: str) -> str:
    """A Go duration string (``700ms``, ``50s``, ``1.5h``), kept as text: extension settings take it so."""
    if not _GO_DURATION.match(value):
        raise UsageError(f"{what} takes a duration such as `500ms`, `50s` or `5m`, not {shown(value)}.")
    return value


def memory(value: str, what: str) -> str:
    """A Kubernetes memory quantity such as ``2Gi`` or ``300Mi``."""
    if value.endswith("m") and _QUANTITY.match(value):
        raise UsageError(f"{what}: {shown(value)} means milli-bytes.", hint=f"Did you mean {code(value[:-1] + 'Mi')}?")
    if not _QUANTITY.match(value) or not _positive(value):
        raise UsageError(f"{what} takes a memory size such as `2Gi` or `300Mi`, not {shown(value)}.")
    return value


def cpu(value: str, what: str) -> str:
    """A Kubernetes CPU quantity such as ``2000m``, ``1.5`` or ``2``."""
    if not re.match(r"^(?:\d+(?:\.\d*)?|\.\d+)m?$", value) or not _positive(value):
        raise UsageError(f"{what} takes CPU cores such as `2`, `1.5` or `500m`, not {shown(value)}.")
    return value


def _positive(quantity: str) -> bool:
    digits = re.match(r"^\d*\.?\d*", quantity)
    number = digits.group() if digits else ""
    return any(c in "123456789" for c in number)


def guid(value: str, what: str) -> str:
    """A GUID such as ``00000000-0000-0000-0000-000000000000`` (client ids of managed identities)."""
    if not _GUID.match(value):
        raise UsageError(f"{what} takes a GUID such as `7d3a4e4b-1f0c-4b8e-9d3e-2a6f5c1b0e9a`, not {shown(value)}.")
    return value.lower()


def integer(value: str, what: str, *, low: int, high: int) -> int:
    """A whole number in ``[low, high]``."""
    if not re.match(r"^[+-]?\d{1,12}$", value):
        raise UsageError(f"{what} takes a whole number from {low} to {high}, not {shown(value)}.")
    number = int(value)
    if not low <= number <= high:
        raise UsageError(f"{what} must be from {low} to {high}, not {number}.")
    return number


def version(value: str, what: str) -> str:
    """An extension version such as ``1.13.1``."""
    if not _VERSION.match(value):
        raise UsageError(f"{what} takes a version such as `1.13.1`, not {shown(value)}.")
    return value


def credential_ref(value: str, what: str) -> str:
    """The name of a credential fluxops holds (never the secret itself)."""
    if not _CREDENTIAL_REF.match(value):
        raise UsageError(
            f"{what} takes the name of a credential fluxops holds (letters, digits, '.', '_', '-', '/', ':'), "
            f"not {shown(value)}."
        )
    if len(value) > 32 and re.search(r"\d", value) and not re.search(r"[-_./:]", value):
        raise UsageError(
            f"{what} looks like a secret, not the name of one.",
            hint="Secrets are never typed into chat: give the name of a credential fluxops holds.",
        )
    return value


def path(value: str, what: str) -> str:
    """A path inside the source (``./apps/staging``); no spaces, no ``..``."""
    _no_control(value, what)
    if any(part == ".." for part in value.split("/")):
        raise UsageError(f"{what} must stay inside the repository; {shown(value)} climbs out with `..`.")
    if len(value) > 1024:
        raise UsageError(f"{what} is too long.")
    return value


def git_ref_name(value: str, what: str) -> str:
    """A branch or tag name, by git's own rules (git check-ref-format)."""
    bad = (
        not value
        or value.startswith(("-", "/"))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "@{" in value
        or "//" in value
        or re.search(r"[\x00-\x20\x7f~^:?*\[\\]", value) is not None
        or len(value) > 255
    )
    if bad:
        raise UsageError(f"{what} is not a valid git branch or tag name: {shown(value)}.")
    return value


def commit_sha(value: str, what: str) -> str:
    """A full commit SHA (40 hex digits, or 64 for SHA-256 repositories)."""
    text = value.lower()
    if not _SHA.match(text):
        hint = "Flux needs the full SHA: `git rev-parse HEAD` prints it." if re.match(r"^[0-9a-f]{4,39}$", text) else ""
        raise UsageError(f"{what} takes a full commit SHA (40 hex digits), not {shown(value)}.", hint=hint)
    return text


def semver_range(value: str, what: str) -> str:
    """A semver range such as ``>=1.0.0 <2.0.0`` or ``1.x``."""
    if not _SEMVER_RANGE.match(value) or not re.search(r"[0-9xX*]", value):
        raise UsageError(f"{what} takes a semver range such as `>=1.0.0` or `1.x`, not {shown(value)}.")
    return value


def oci_digest(value: str, what: str) -> str:
    """An OCI digest ``sha256:<64 hex>``."""
    text = value.lower()
    if not _OCI_DIGEST.match(text):
        raise UsageError(f"{what} takes a digest `sha256:` followed by 64 hex digits, not {shown(value)}.")
    return text


def _http_url(value: str, what: str, *, allow_user: bool) -> str:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise UsageError(f"{what} is not a valid URL: {shown(value)}.") from None
    if parts.password is not None:
        raise UsageError(
            f"{what} carries a password.",
            hint="Secrets are never typed into chat: leave it out of the URL and use `--https-user` with "
            "`--https-key-ref`.",
        )
    if parts.username is not None and not allow_user:
        raise UsageError(f"{what} cannot carry a user name.")
    if not hostname or not _HOST.match(hostname):
        raise UsageError(f"{what} has no valid host: {shown(value)}.")
    if re.search(r"(?i)(?:^|[?&])sig=", parts.query):
        raise UsageError(
            f"{what} carries a SAS token (`sig=`).",
            hint="Secrets are never typed into chat: leave the query out and use `--sas-token-ref REF`.",
        )
    return value


def _check_url_text(value: str, what: str) -> None:
    if not value:
        raise UsageError(f"{what} cannot be empty.")
    if len(value) > 2048:
        raise UsageError(f"{what} is too long.")
    _no_control(value, what)


def git_url(value: str, what: str = "`--url`") -> tuple[str, bool]:
    """A git repository URL; returns it and whether it is an SSH URL.

    Accepted: ``https://``, ``http://``, ``ssh://`` and scp-like ``git@host:path``.
    """
    _check_url_text(value, what)
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme in ("http", "https"):
        return _http_url(value, what, allow_user=True), False
    if scheme == "ssh":
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host = None
            parts = None
        if parts is None or not host or not _HOST.match(host) or parts.password is not None:
            raise UsageError(
                f"{what} is not a valid SSH URL: {shown(value)}.", hint="For example `ssh://git@github.com/org/repo`."
            )
        return value, True
    if not scheme:
        found = _SCP_URL.match(value)
        if found and _HOST.match(found.group("host")):
            return value, True
    raise UsageError(
        f"{what} must be a git URL starting with `https://`, `http://`, `ssh://` or `git@host:`, not {shown(value)}.",
        hint="For example `https://github.com/Azure/gitops-flux2-kustomize-helm-mt`.",
    )


def http_url(value: str, what: str = "`--url`") -> str:
    """An ``http(s)://`` endpoint (buckets, Azure Blob storage accounts)."""
    _check_url_text(value, what)
    if not value.lower().startswith(("http://", "https://")):
        raise UsageError(
            f"{what} must start with `https://` or `http://`, not {shown(value)}.",
            hint="For example `https://mystorageaccount.blob.core.windows.net`.",
        )
    return _http_url(value, what, allow_user=False)


def oci_url(value: str, what: str = "`--url`") -> str:
    """An ``oci://registry/repository`` URL."""
    _check_url_text(value, what)
    if not value.lower().startswith("oci://"):
        raise UsageError(
            f"{what} must start with `oci://`, not {shown(value)}.", hint="For example `oci://ghcr.io/org/manifests`."
        )
    rest = value[len("oci://") :]
    host = rest.split("/", 1)[0].split(":", 1)[0]
    if "@" in rest or not host or not _HOST.match(host) or "/" not in rest.strip("/"):
        raise UsageError(f"{what} must name a registry and a repository, like `oci://ghcr.io/org/manifests`.")
    return value


def cluster_name(value: str, what: str = "`-c`") -> str:
    """An inventory alias, a cluster name or a full ARM id of an AKS or Arc cluster."""
    if value.startswith("/"):
        if not _ARM_CLUSTER_ID.match(value):
            raise UsageError(
                f"{what} is not the ARM id of an AKS or Arc cluster: {shown(value)}.",
                hint="Ids look like `/subscriptions/SUB/resourceGroups/RG/providers/"
                "Microsoft.Kubernetes/connectedClusters/NAME`; or give the cluster's name or alias.",
            )
        return value
    if not _CLUSTER_NAME.match(value):
        raise UsageError(f"{what} takes a cluster name, alias or ARM id, not {shown(value)}.")
    return value


def resource_group(value: str, what: str = "`-g`") -> str:
    """An Azure resource group name (letters, digits, '-', '_', '.', '(', ')'; not ending in '.')."""
    if not _RESOURCE_GROUP.match(value) or value.endswith("."):
        raise UsageError(f"{what} is not a valid resource group name: {shown(value)}.")
    return value


def choice(value: str, what: str, choices: dict[str, str], names: tuple[str, ...] = ()) -> str:
    """One of ``choices`` (keys compared case-insensitively); returns the mapped value.

    ``names`` are the spellings to offer in the error (default: the distinct mapped values).
    """
    found = choices.get(value.lower())
    if found is None:
        offered = names or tuple(dict.fromkeys(choices.values()))
        raise UsageError(f"{what} takes {one_of(offered)}, not {shown(value)}.")
    return found
