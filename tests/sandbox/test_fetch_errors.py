"""What the simulated Flux says when a source cannot be fetched, worded as source-controller's Go clients word it."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.fluxsim.blob_fetch import BlobCredentials, fetch_blob
from sandbox.fluxsim.oci_fetch import _distribution_error


@pytest.mark.parametrize(
    ("key", "byte"),
    [
        ("sv=2023-11-03&ss=b&srt=sco&sp=rl&sig=abc%3D", 2),  # a SAS token where the account key belongs
        ("Zm9vYmFy" + "Zm9", 11),  # no padding
    ],
)
def test_an_account_key_that_is_not_base64_fails_as_azblob_says(key: str, byte: int) -> None:
    result = fetch_blob(
        url="https://127.0.0.1:9/sandboxaccount",
        container="fluxops-demo",
        creds=BlobCredentials(account_key=key),
        principal=None,
        service_key=None,
        ca_file=None,
        timeout=1,
    )
    assert result == (
        "failed to construct Azure client for 'fluxops-demo' bucket: "
        f"decode account key: illegal base64 data at input byte {byte}"
    )
    assert key not in result


@pytest.mark.parametrize(
    ("detail", "printed"),
    [
        ({"Tag": "0.9.0"}, "map[Tag:0.9.0]"),
        (
            [{"Type": "repository", "Name": "fluxops/demo", "Action": "pull"}],
            "[map[Action:pull Name:fluxops/demo Type:repository]]",
        ),
    ],
)
def test_a_registry_error_detail_is_printed_as_go_prints_it(detail: object, printed: str) -> None:
    response = requests.Response()
    response.status_code = 404
    response._content = json.dumps(
        {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": detail}]}
    ).encode()
    assert _distribution_error(response) == f"MANIFEST_UNKNOWN: manifest unknown; {printed}"
