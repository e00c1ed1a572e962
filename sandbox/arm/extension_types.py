"""``extensionTypes/{type}/versions`` (location scoped): the released versions of an extension type per release
train, as ``az k8s-extension extension-types list-versions-by-location`` reads them.

Only microsoft.flux is catalogued (``extensions.FLUX_RELEASES``); other types answer 404 as ARM does for a type
it does not offer in the region.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.arm.endpoints import reply
from sandbox.arm.errors import ArmError
from sandbox.arm.extensions import FLUX_RELEASES, FLUX_TYPE


def versions_body(extension_type: str) -> dict[str, object]:
    """The list body: one item per release train, its versions newest first."""
    if extension_type.lower() != FLUX_TYPE:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"Extension type '{extension_type}' is not available in this region.",
        )
    return {
        "value": [
            {"releaseTrain": train.capitalize(), "versions": list(reversed(released))}
            for train, released in FLUX_RELEASES.items()
        ],
        "nextLink": None,
    }


async def list_versions(request: web.Request, parts: list[str]) -> web.Response:
    """GET /subscriptions/{s}/providers/Microsoft.KubernetesConfiguration/locations/{loc}/extensionTypes/{t}/versions"""
    if request.method != "GET":
        raise ArmError(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed on extension versions.")
    return reply(200, versions_body(parts[7]))
