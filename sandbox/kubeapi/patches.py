"""PATCH bodies as the API server takes them, turned into the merge patch KubeStore applies.

``application/merge-patch+json`` is used as is; ``application/strategic-merge-patch+json`` is taken as a merge
patch (the objects served here have no list merge keys a client would patch); ``application/json-patch+json``
(RFC 6902: add, remove, replace, test) is applied to the current object and the difference sent on.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.kubeapi.status import KubeError

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
_UNSUPPORTED = (
    "the body of the request was in an unknown format - accepted media types include: "
    f"{JSON_PATCH}, {MERGE}, {STRATEGIC}"
)


def merge_patch_for(content_type: str, body: Any, current: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that does what ``body`` (sent as ``content_type``) asks of ``current``."""
    if content_type in (MERGE, STRATEGIC):
        if not isinstance(body, dict):
            raise KubeError(400, "the patch is not a JSON object")
        return body
    if content_type == JSON_PATCH:
        if not isinstance(body, list):
            raise KubeError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return _difference(current, apply_json_patch(current, body))
    raise KubeError(415, _UNSUPPORTED)


def apply_json_patch(document: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise KubeError(422, f"invalid JSON patch operation: {op!r}")
        name, path = op.get("op"), _pointer(op["path"])
        if not path:
            raise KubeError(422, "a JSON patch may not replace the whole object")
        parent = _walk(result, path[:-1])
        last = path[-1]
        if name == "test":
            if _read(parent, last) != op.get("value"):
                raise KubeError(422, f"testing value {op['path']} failed")
        elif name in ("add", "replace"):
            if name == "replace":
                _read(parent, last)  # must exist
            if isinstance(parent, list):
                index = len(parent) if last == "-" else _index(parent, last, insert=name == "add")
                if name == "add":
                    parent.insert(index, copy.deepcopy(op.get("value")))
                else:
                    parent[index] = copy.deepcopy(op.get("value"))
            else:
                parent[last] = copy.deepcopy(op.get("value"))
        elif name == "remove":
            _read(parent, last)
            if isinstance(parent, list):
                del parent[_index(parent, last)]
            else:
                del parent[last]
        else:
            raise KubeError(422, f"unsupported JSON patch operation {name!r}")
    return result


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise KubeError(422, f"invalid JSON pointer {text!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/")]


def _index(parent: list[Any], token: str, insert: bool = False) -> int:
    if not token.isdigit() or int(token) > len(parent) or (int(token) == len(parent) and not insert):
        raise KubeError(422, f"index {token} is out of range")
    return int(token)


def _read(parent: Any, token: str) -> Any:
    if isinstance(parent, dict) and token in parent:
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token)]
    raise KubeError(422, f"path element {token!r} does not exist")


def _walk(document: Any, path: list[str]) -> Any:
    node = document
    for token in path:
        node = _read(node, token)
        if not isinstance(node, dict | list):
            raise KubeError(422, f"path element {token!r} is not an object or a list")
    return node


def _difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch turning ``before`` into ``after`` (removed keys become null)."""
    patch: dict[str, Any] = {key: None for key in before if key not in after}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            nested = _difference(old, value)
            if nested:
                patch[key] = nested
        elif key not in before or old != value:
            patch[key] = value
    return patch
