"""The kubeconfig ARM returns: server, CA, and how its user signs in."""

from __future__ import annotations

import base64

import pytest
import yaml

from workers.kubeconfig import KubeconfigInvalid, is_private_server, parse_kubeconfig

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _kubeconfig(
    user: dict[str, object], *, server: str = "https://demo.hcp.westeurope.azmk8s.io:443", **cluster: object
) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "demo",
            "clusters": [
                {"name": "other", "cluster": {"server": "https://wrong.example"}},
                {
                    "name": "demo",
                    "cluster": {
                        "server": server,
                        "certificate-authority-data": base64.b64encode(PEM.encode()).decode(),
                        **cluster,
                    },
                },
            ],
            "contexts": [
                {"name": "other", "context": {"cluster": "other", "user": "u"}},
                {"name": "demo", "context": {"cluster": "demo", "user": "clusterUser_rg_demo"}},
            ],
            "users": [{"name": "u", "user": {"token": "wrong"}}, {"name": "clusterUser_rg_demo", "user": user}],
        }
    )


def test_token_user_of_the_current_context():
    config = parse_kubeconfig(_kubeconfig({"token": "t0k3n"}).encode())
    assert config.server == "https://demo.hcp.westeurope.azmk8s.io:443"
    assert config.host == "demo.hcp.westeurope.azmk8s.io"
    assert config.ca_pem == PEM and config.token == "t0k3n" and not config.entra
    assert "t0k3n" not in repr(config)


@pytest.mark.parametrize(
    "user",
    [
        {
            "exec": {
                "command": "kubelogin",
                "args": ["get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
            }
        },
        {"auth-provider": {"name": "azure", "config": {"apiserver-id": "6dae42f8-4368-4678-94ff-3960e28e3630"}}},
    ],
)
def test_entra_sign_in_is_recognised(user: dict[str, object]):
    config = parse_kubeconfig(_kubeconfig(user))
    assert config.entra and config.token is None


@pytest.mark.parametrize(
    "text",
    ["", "not: [valid", "contexts: []", _kubeconfig({"token": "x"}, server="http://plain.example")],
)
def test_unusable_kubeconfigs_are_refused(text: str):
    with pytest.raises(KubeconfigInvalid):
        parse_kubeconfig(text)


@pytest.mark.parametrize("user", [{"token": "t0k3n"}, {"exec": {"command": "kubelogin", "args": ["get-token"]}}])
def test_a_kubeconfig_skipping_tls_verification_is_refused(user: dict[str, object]):
    with pytest.raises(KubeconfigInvalid, match="insecure-skip-tls-verify"):
        parse_kubeconfig(_kubeconfig(user, **{"insecure-skip-tls-verify": True}))


def test_a_yaml_error_does_not_quote_the_kubeconfig():
    text = "users:\n- name: u\n  user:\n    token: s3cr3t-t0k3n: [unclosed\n"
    with pytest.raises(KubeconfigInvalid) as invalid:
        parse_kubeconfig(text)
    assert invalid.value.__cause__ is None and invalid.value.__suppress_context__
    assert "s3cr3t" not in str(invalid.value) and "s3cr3t" not in invalid.value.message


def test_private_servers():
    assert is_private_server("flux-demo-aks-1a2b.privatelink.westeurope.azmk8s.io")
    assert is_private_server("flux-demo-aks-1a2b.private.westeurope.azmk8s.io")
    assert not is_private_server("flux-demo-aks-1a2b.hcp.westeurope.azmk8s.io")
    assert not is_private_server("127.0.0.1")
