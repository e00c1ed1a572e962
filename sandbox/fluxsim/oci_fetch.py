"""Fetching an OCIRepository source over the OCI distribution API, as source-controller does: resolve the
reference (digest, then semver over the tags, then tag, default ``latest``), pull the manifest, take the Flux
content layer (or the one ``layerSelector`` names) and unpack it; errors worded as source-controller words them.

Auth: a localAuthRef Secret (``.dockerconfigjson`` or ``username`` / ``password``), the cluster's workload
identity (``useWorkloadIdentity``: a sandbox Entra token for the registry's audience), or none; a ``Bearer``
challenge is answered at the registry's token endpoint, as go-containerregistry does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sandbox.entra import issue_token
from sandbox.fluxsim.fetched_tree import oci_artifact
from sandbox.fluxsim.sources import local_secret
from sandbox.fluxsim.state import Artifact, mapping
from sandbox.gitrepos import SemverError, parse_constraint, satisfies, version_key
from sandbox.oci_registry.server import ACR_AUDIENCE
from sandbox.oci_registry.store import FLUX_LAYER_MEDIA_TYPE
from sandbox.tarball import TarballError, unpack
from sandbox.world import Cluster, FluxConfigRecord

_MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class OciCredentials:
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)
    error: str | None = None


def oci_credentials(cluster: Cluster, record: FluxConfigRecord) -> OciCredentials:
    oci = mapping(record.properties.get("ociRepository"))
    secret_name = oci.get("localAuthRef")
    if secret_name:
        data = local_secret(cluster, record, str(secret_name))
        if isinstance(data, str):
            return OciCredentials(error=data)
        host = str(oci.get("url") or "").removeprefix("oci://").split("/")[0]
        return _from_secret(str(secret_name), data, host)
    if oci.get("useWorkloadIdentity"):
        return OciCredentials(bearer=issue_token(f"{ACR_AUDIENCE}/.default"))
    return OciCredentials()


def _from_secret(name: str, data: dict[str, str], host: str) -> OciCredentials:
    config = data.get(".dockerconfigjson")
    if config:
        try:
            entry = mapping(mapping(json.loads(config).get("auths")).get(host))
        except ValueError:
            return OciCredentials(error=f"failed to get credential from '{name}': invalid .dockerconfigjson")
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return OciCredentials(error=f"failed to get credential from '{name}': invalid auth for '{host}'")
            return OciCredentials(user, password)
        if entry.get("username"):
            return OciCredentials(str(entry["username"]), str(entry.get("password") or ""))
        return OciCredentials(
            error=f"failed to get credential from '{name}': no auth for '{host}' in .dockerconfigjson"
        )
    if data.get("username"):
        return OciCredentials(data["username"], data.get("password", ""))
    return OciCredentials(
        error=f"failed to get credential from '{name}': no username and password, nor .dockerconfigjson"
    )


class _Registry:
    """A pull client for one repository (the part of go-containerregistry Flux leans on)."""

    def __init__(self, host: str, repository: str, creds: OciCredentials, ca_file: Path | None, timeout: float) -> None:
        self.base = f"https://{host}/v2/{repository}"
        self.repository = repository
        self.creds = creds
        self.session = requests.Session()
        # per request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment
        self.verify: str | bool = str(ca_file) if ca_file else True
        self.timeout = timeout
        self.bearer = creds.bearer

    def get(self, path: str, accept: str = "") -> requests.Response:
        url = f"{self.base}/{path}"
        response = self._send(url, accept)
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code == 401 and challenge.startswith("Bearer ") and self.bearer is None:
            self.bearer = self._token(challenge)
            response = self._send(url, accept)
        if response.status_code >= 400:
            raise _RegistryError(f"GET {url}: {_distribution_error(response)}")
        return response

    def _send(self, url: str, accept: str) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        elif self.creds.username is not None:
            headers["Authorization"] = (
                "Basic " + base64.b64encode(f"{self.creds.username}:{self.creds.password or ''}".encode()).decode()
            )
        return self.session.get(url, headers=headers, timeout=self.timeout, verify=self.verify)

    def _token(self, challenge: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        auth = (self.creds.username, self.creds.password or "") if self.creds.username is not None else None
        response = self.session.get(realm, params=params, auth=auth, timeout=self.timeout, verify=self.verify)
        if response.status_code >= 400:
            raise _RegistryError(f"GET {response.url}: {_distribution_error(response)}")
        body = response.json()
        return str(body.get("token") or body.get("access_token") or "")


class _RegistryError(Exception):
    pass


def _distribution_error(response: requests.Response) -> str:
    """``CODE: message; detail`` as go-containerregistry prints a registry's error (or the bare status)."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    if not errors:
        return f"unexpected status code {response.status_code} {response.reason}"
    first = errors[0]
    detail = first.get("detail")
    text = f"{first.get('code')}: {first.get('message')}"
    if detail:
        text += f"; {_go_value(detail)}"
    return text


def _go_value(value: Any) -> str:
    """``value`` as Go's ``%v`` prints decoded JSON: ``map[k:v]`` with sorted keys, ``[a b]`` for a list."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    return str(value)


def fetch_oci(
    *, url: str, spec: dict[str, Any], creds: OciCredentials, ca_file: Path | None, timeout: float
) -> Artifact | str:
    """The artifact's content layer as an artifact, or source-controller's error (blocking: run in a thread)."""
    if creds.error:
        return creds.error
    if not url.startswith("oci://") or "/" not in url[6:]:
        return f"URL must be in format 'oci://<domain>/<org>/<repo>': '{url}'"
    host, _, repository = url[6:].partition("/")
    ref = mapping(spec.get("repositoryRef"))
    registry = _Registry(host, repository, creds, ca_file, timeout)
    try:
        tag: str | None
        if ref.get("digest"):
            tag, reference = None, str(ref["digest"])
        elif ref.get("semver"):
            found = _semver_tag(registry, url, str(ref["semver"]))
            if not found.startswith("tag:"):
                return found
            tag = reference = found[4:]
        else:
            tag = reference = str(ref.get("tag") or "latest")
        try:
            response = registry.get(f"manifests/{reference}", _MANIFEST_TYPES)
        except _RegistryError as exc:
            return f"failed to determine artifact digest: {exc}"
        digest = response.headers.get("Docker-Content-Digest", "")
        manifest = response.json()
        media_type = str(mapping(spec.get("layerSelector")).get("mediaType") or "")
        layers = [mapping(layer) for layer in manifest.get("layers") or []]
        wanted = [ly for ly in layers if ly.get("mediaType") == (media_type or FLUX_LAYER_MEDIA_TYPE)] or (
            [] if media_type else layers[:1]
        )
        if not wanted:
            return f"failed to extract layer contents from artifact: no layer matching media type '{media_type}'"
        try:
            blob = registry.get(f"blobs/{wanted[0].get('digest')}").content
        except _RegistryError as exc:
            return f"failed to pull artifact from '{url}': {exc}"
        try:
            files = unpack(blob)
        except TarballError as exc:
            return f"failed to extract layer contents from artifact: {exc}"
    except requests.RequestException as exc:
        return f"failed to determine artifact digest: {exc}"
    return oci_artifact(f"oci/{host}/{repository}", tag, digest, files)


def _semver_tag(registry: _Registry, url: str, constraint_text: str) -> str:
    """``tag:<tag>`` of the highest version tag in range, or the error as source-controller reports it."""
    try:
        constraint = parse_constraint(constraint_text)
    except SemverError as exc:
        return f"failed to determine the artifact tag for '{url}': semver parse error: {exc}"
    try:
        tags = registry.get("tags/list").json().get("tags") or []
    except _RegistryError as exc:
        return f"failed to determine the artifact tag for '{url}': {exc}"
    matching = [t for t in tags if satisfies(t, constraint)]
    if not matching:
        return f"failed to determine the artifact tag for '{url}': no match found for semver: {constraint_text}"
    return "tag:" + str(max(matching, key=lambda t: version_key(t) or (0, 0, 0, 0, ())))
