"""The emulator's rules for an extension's ``scope`` (extensions 2025-03-01): cluster or namespace, not both; a
release namespace by default; create-only."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.arm.errors import ArmError
from sandbox.arm.extensions import normalise, scope


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, {"cluster": {"releaseNamespace": "flux-system"}}),
        ({"cluster": {}}, {"cluster": {"releaseNamespace": "flux-system"}}),
        ({"cluster": {"releaseNamespace": "flux-ops"}}, {"cluster": {"releaseNamespace": "flux-ops"}}),
        ({"namespace": {"targetNamespace": "team-a"}}, {"namespace": {"targetNamespace": "team-a"}}),
    ],
)
def test_scope_defaults(given: Any, expected: dict[str, Any]) -> None:
    assert scope(given, "flux-system") == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"cluster": {}, "namespace": {}}, "not both"),
        ({"tenant": {}}, "not both"),
        ({"cluster": {"targetNamespace": "a"}}, "'scope.cluster' takes 'releaseNamespace' only"),
        ({"cluster": {"releaseNamespace": "Flux_System"}}, "must be a Kubernetes namespace name"),
    ],
)
def test_scope_errors(given: Any, message: str) -> None:
    with pytest.raises(ArmError) as caught:
        scope(given, "flux-system")
    assert message in caught.value.message


def test_scope_is_create_only() -> None:
    first = normalise({"extensionType": "microsoft.flux", "scope": {"cluster": {"releaseNamespace": "flux-ops"}}})
    assert normalise(dict(first), existing=first)["scope"] == {"cluster": {"releaseNamespace": "flux-ops"}}
    with pytest.raises(ArmError) as caught:
        normalise({"extensionType": "microsoft.flux"}, existing=first)
    assert "scope cannot be changed" in caught.value.message


def test_microsoft_flux_is_cluster_scoped_only() -> None:
    with pytest.raises(ArmError) as caught:
        normalise({"extensionType": "microsoft.flux", "scope": {"namespace": {"targetNamespace": "team-a"}}})
    assert "microsoft.flux can only be installed with cluster scope" in caught.value.message
