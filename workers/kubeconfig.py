"""Reading the kubeconfig ARM's ``listClusterUserCredential`` returns: server, CA, and how the user signs in.

Only what fluxops needs from the current context: the API server URL, the CA it must trust, and either a bearer
token (Arc cluster connect with token auth, AKS local accounts) or the sign-in plugin Entra-enabled AKS names
(``kubelogin`` exec, or the older ``azure`` auth-provider), which fluxops replaces with its own Entra token.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.errors import FluxopsError

#: the AKS server application (Microsoft Entra ID): tokens for it are what an Entra-enabled AKS API accepts
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_SERVER_SCOPE = f"{AKS_SERVER_APP}/.default"


class KubeconfigInvalid(FluxopsError):
    """ARM returned a kubeconfig fluxops cannot use (no context, no server, an unknown sign-in)."""


@dataclass(frozen=True)
class Kubeconfig:
    """The current context of a kubeconfig, as fluxops uses it (never printed: it holds a credential)."""

    server: str
    #: PEM of the CA the server's certificate chains to (certificate-authority-data), None: the system's CAs
    ca_pem: str | None = None
    token: str | None = field(default=None, repr=False)
    #: the user signs in with Microsoft Entra ID (kubelogin exec plugin or the azure auth-provider)
    entra: bool = False
    tls_server_name: str | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.server).hostname or "").lower()


def parse_kubeconfig(text: str | bytes) -> Kubeconfig:
    """The current context of ``text`` (the first context when none is current)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        # not chained, and no snippet: the parser's message quotes the offending line, which may hold the token
        raise KubeconfigInvalid("the cluster's kubeconfig is not valid YAML") from None
    if not isinstance(doc, dict):
        raise KubeconfigInvalid("the cluster's kubeconfig is empty")
    context = _current_context(doc)
    cluster = _named(doc, "clusters", "cluster", str(context.get("cluster", "")))
    user = _named(doc, "users", "user", str(context.get("user", "")))
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        raise KubeconfigInvalid("the cluster's kubeconfig names no https API server")
    if cluster.get("insecure-skip-tls-verify"):
        # AKS and Arc never hand one out; sending a bearer (or Entra) token to an unverified server would give it
        # away to whoever answers
        raise KubeconfigInvalid("the cluster's kubeconfig turns off TLS verification (insecure-skip-tls-verify)")
    ca_pem = _ca_pem(cluster.get("certificate-authority-data"))
    return Kubeconfig(
        server=server.rstrip("/"),
        ca_pem=ca_pem,
        token=str(user["token"]) if user.get("token") else None,
        entra=_signs_in_with_entra(user),
        tls_server_name=str(cluster["tls-server-name"]) if cluster.get("tls-server-name") else None,
    )


def _current_context(doc: dict[str, Any]) -> dict[str, Any]:
    contexts = doc.get("contexts") or []
    if not contexts:
        raise KubeconfigInvalid("the cluster's kubeconfig has no context")
    current = doc.get("current-context")
    chosen = next((c for c in contexts if isinstance(c, dict) and c.get("name") == current), contexts[0])
    body = chosen.get("context") if isinstance(chosen, dict) else None
    if not isinstance(body, dict):
        raise KubeconfigInvalid("the cluster's kubeconfig context is malformed")
    return body


def _named(doc: dict[str, Any], section: str, key: str, name: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(key), dict):
            body: dict[str, Any] = entry[key]
            return body
    raise KubeconfigInvalid(f"the cluster's kubeconfig has no {key} named {name!r}")


def _ca_pem(data: object) -> str | None:
    if not data:
        return None
    try:
        pem = base64.b64decode(str(data), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise KubeconfigInvalid("the cluster's kubeconfig has unreadable certificate-authority-data") from exc
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise KubeconfigInvalid("the cluster's kubeconfig certificate-authority-data is not a PEM certificate")
    return pem


def _signs_in_with_entra(user: dict[str, Any]) -> bool:
    exec_ = user.get("exec")
    if isinstance(exec_, dict) and "kubelogin" in str(exec_.get("command", "")).lower():
        return True
    provider = user.get("auth-provider")
    return isinstance(provider, dict) and str(provider.get("name", "")).lower() == "azure"


def is_private_server(host: str) -> bool:
    """An API server with only a private address: AKS private clusters use ``*.privatelink.<region>.azmk8s.io``
    (or a ``private`` zone); nothing outside the cluster's network resolves it."""
    labels = host.lower().split(".")
    return "privatelink" in labels or ("private" in labels and host.endswith("azmk8s.io"))
