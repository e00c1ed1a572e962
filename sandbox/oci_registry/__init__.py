"""An OCI registry of the sandbox's own, serving Flux artifacts: the distribution API subset source-controller
uses (``/v2/``, manifests by tag and digest, blobs, tags/list) with basic and bearer-token auth.

- :mod:`~sandbox.oci_registry.store`: repositories, manifests, blobs and tags, and pushing a Flux artifact;
- :mod:`~sandbox.oci_registry.server`: the HTTP API and its auth.
"""

from sandbox.oci_registry.server import OciRegistry
from sandbox.oci_registry.store import (
    FLUX_CONFIG_MEDIA_TYPE,
    FLUX_LAYER_MEDIA_TYPE,
    OCI_MANIFEST_MEDIA_TYPE,
    RegistryStore,
)

__all__ = ["FLUX_CONFIG_MEDIA_TYPE", "FLUX_LAYER_MEDIA_TYPE", "OCI_MANIFEST_MEDIA_TYPE", "OciRegistry", "RegistryStore"]
