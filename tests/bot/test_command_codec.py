"""bot.command_codec: the typed command a job record carries from intake to the worker, read strictly."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot import errors
from bot.command_codec import decode, decode_command, encode
from bot.commands import ConfigDelete, ConfigUpdate, KeyRotate, Reply, Run
from bot.grammar import parse
from bot.grammar.help import TOPICS
from bot.models import ProtectedSettings, Secret

EXAMPLES = [e for topic in TOPICS.values() for e in topic.examples if isinstance(parse(e), Run)]


def command_of(text: str) -> object:
    parsed = parse(text)
    assert isinstance(parsed, Run), text
    return parsed.command


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_help_example_comes_back_as_the_command_it_parsed_to(example: str) -> None:
    command = command_of(example)
    assert decode(encode(command)) == command  # type: ignore[arg-type]


def test_equal_commands_encode_equally_and_replies_travel_too() -> None:
    assert encode(command_of("config delete apps -c prod")) == encode(command_of("config delete apps  -c prod"))  # type: ignore[arg-type]
    reply = Reply("usage: /flux config delete NAME -c CLUSTER", error=True)
    assert decode(encode(reply)) == reply
    with pytest.raises(errors.Forbidden, match="a reply, not a command"):
        decode_command(encode(reply))


def tampered(text: str, change: dict[str, object]) -> str:
    data = json.loads(encode(command_of(text)))  # type: ignore[arg-type]
    data.update(change)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("stored", "why"),
    [
        ("", "carries no parsed command"),
        ("not json", "cannot be read"),
        ('{"@type": "Popen", "args": "sh"}', "cannot be a 'Popen'"),
        (tampered("config delete apps -c prod", {"yes": True}), "has no field 'yes'"),
        (tampered("config delete apps -c prod", {"name": 7}), "name must be str"),
        (tampered("config delete apps -c prod", {"name": None}), "name must be str"),
        (tampered("config delete apps -c prod", {"target": "prod"}), "target has an unexpected value"),
        (tampered("config delete apps -c prod", {"target": {"@type": "Reply", "text": "x"}}), "cannot be a 'Reply'"),
        (json.dumps({"@type": "ConfigDelete", "namespace": "flux"}), "cannot be read"),  # required fields missing
        ("[" * 5000 + "]" * 5000, "cannot be read"),
    ],
)
def test_anything_else_in_redis_is_refused(stored: str, why: str) -> None:
    with pytest.raises(errors.Forbidden, match=why):
        decode(stored)


def test_a_bool_is_not_accepted_where_a_number_is() -> None:
    command = command_of("kustomization create infra --config apps -c prod --path ./infra --interval 5m")
    data = json.loads(encode(command))  # type: ignore[arg-type]
    data["kustomization"]["sync_interval_seconds"] = True
    with pytest.raises(errors.Forbidden, match="sync_interval_seconds must be int"):
        decode(json.dumps(data))


def test_a_command_holding_a_secret_is_never_encoded() -> None:
    update = command_of("config update apps -c prod --branch main")
    assert isinstance(update, ConfigUpdate)
    leaky = replace(update, patch=replace(update.patch, protected=ProtectedSettings(https_key=Secret("hunter2"))))
    with pytest.raises(ValueError, match="never stored") as raised:
        encode(leaky)
    assert "hunter2" not in str(raised.value)


def test_a_scheduled_rotation_is_typed_without_the_grammar() -> None:
    assert decode(encode(KeyRotate(key_id="dk-0123456789"))) == command_of("key rotate --key dk-0123456789")
    assert isinstance(decode(encode(command_of("config delete apps -c prod"))), ConfigDelete)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "fleet apply apps --clusters env=prod --branch release-42 --interval 5m "
        "--kustomization name=apps path=./apps prune=true",
        "fleet apply cluster-config --clusters env=staging,region=weu --waves 1,5,25%,100% --max-parallel 20 "
        "-u git@github.com:contoso/fleet.git --branch main --ssh-private-key-ref keys/fleet "
        "--kustomization name=infra path=./infrastructure --kustomization name=apps path=./apps depends_on=infra",
        "fleet apply blobs --clusters all -u https://acct.blob.core.windows.net --kind azblob "
        "--container-name manifests "
        "--sas-token-ref blob/sas",
        "fleet apply images --clusters env=prod -u oci://ghcr.io/o/manifests --tag v1.2.3",
        "fleet extension update --clusters env=prod --config helm-controller.detectDrift=true multiTenancy.enforce= "
        "--version 1.13.1 --waves 100%",
        "fleet status j-0123456789ab",
        "fleet list",
        "fleet cancel j-0123456789ab",
        "fleet resume j-0123456789ab",
    ],
)
def test_fleet_commands_come_back_whole(text: str) -> None:
    command = command_of(text)
    assert decode(encode(command)) == command  # type: ignore[arg-type]


def test_a_fleet_runs_waves_are_typed_strictly() -> None:
    data = json.loads(encode(command_of("fleet apply apps --clusters env=prod --branch main")))  # type: ignore[arg-type]
    assert data["waves"][1] == {"@type": "WaveSize", "count": 10, "percent": True}
    assert data["selector"] == [["env", "prod"]]
    for bad, why in [
        ({"@type": "WaveSize", "count": "10", "percent": True}, "count must be int"),
        ({"@type": "WaveSize", "count": 10, "percent": 1}, "percent must be bool"),
        ({"@type": "ClusterTarget", "cluster": "x"}, "cannot be a 'ClusterTarget'"),
        ([10, True], "unexpected value"),
    ]:
        tampered_waves = json.loads(json.dumps(data))
        tampered_waves["waves"][1] = bad
        with pytest.raises(errors.Forbidden, match=why):
            decode(json.dumps(tampered_waves))
    data["selector"] = [["env", "prod", "extra"]]
    with pytest.raises(errors.Forbidden, match="must have 2 items"):
        decode(json.dumps(data))
