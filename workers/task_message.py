"""A Celery task message as kombu's Redis transport stores it, so a Lua script can LPUSH it.

The web process enqueues inside one Redis script (dedupe, job record and message together, DESIGN.md §6),
so it cannot go through ``send_task``; it builds the very bytes ``send_task`` would have pushed instead.
The headers, properties and body come from Celery's own protocol-2 builder (``AMQP.as_task_v2``); the
envelope follows kombu's Redis transport (``kombu/transport/redis.py`` and ``virtual/base.py``):

- the body is serialized with kombu's JSON serializer, then base64-encoded (``body_encoding: base64``);
- ``delivery_info`` names the anonymous exchange and the queue as routing key;
- ``delivery_tag`` is a fresh uuid, ``priority`` 0 and ``delivery_mode`` 2 (persistent);
- priority 0 lives in the list named exactly like the queue (higher priorities get a suffix);
- the transport LPUSHes and its workers BRPOP, so LPUSH keeps the queue first-in first-out.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Sequence
from typing import Any

from celery import Celery
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps as envelope_json

from workers.random_ids import random_uuid4

#: the task every job runs; it takes the job id
JOB_TASK = "fluxops.job.run"
#: the Celery queue every fluxops task goes to
QUEUE = "fluxops"


def queue_key(celery: Celery, queue: str) -> str:
    """The Redis list kombu consumes for ``queue`` at priority 0 (with the transport's key prefix, if set)."""
    options = celery.conf.broker_transport_options or {}
    prefix = str(options.get("global_keyprefix", "") or "")
    return f"{prefix}{queue}"


def task_message(
    celery: Celery,
    *,
    task_id: str,
    task_name: str,
    queue: str,
    args: Sequence[object] | None = None,
) -> str:
    """The JSON text kombu's Redis transport would LPUSH for ``task_name(*args)`` with id ``task_id``.

    ``args`` defaults to ``[task_id]``: a job's task takes its job id and nothing else.
    """
    call_args: list[object] = [task_id] if args is None else list(args)
    message, encoding, body = _message(celery, task_id=task_id, task_name=task_name, queue=queue, args=call_args)
    message["body"] = base64.b64encode(body.encode(encoding)).decode("ascii")
    message["properties"]["delivery_tag"] = str(uuid.uuid4())
    return str(envelope_json(message))


def _message(
    celery: Celery, *, task_id: str, task_name: str, queue: str, args: list[object]
) -> tuple[dict[str, Any], str, str]:
    """The message as the transport stores it but for its ``body`` and ``properties.delivery_tag`` (the caller's
    to fill in), with the body serialized and its encoding."""
    # argsrepr as send_task writes it (it passes a list): what `celery inspect` and flower show
    # ignore_result=False as send_task writes it (the worker's task decides whether to store a result)
    headers, properties, body, _sent_event = celery.amqp.as_task_v2(
        task_id, task_name, args=tuple(args), argsrepr=repr(args), ignore_result=False
    )
    content_type, content_encoding, data = serialize(body, serializer="json")
    message = {
        "body": "",
        "content-encoding": content_encoding,
        "content-type": content_type,
        "headers": headers,
        "properties": {
            **properties,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": "",
        },
    }
    return message, content_encoding or "utf-8", data


#: stands for the job id in a template (job ids are ``j-`` and hex, or ``rotate-…``: never this)
_ID = "fluxops-task-id-placeholder"
_TAG = "fluxops-delivery-tag-placeholder"
_BODY = "fluxops-body-placeholder"
#: ids the template may take as they are (JSON and ``repr`` leave them unchanged)
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")


class JobMessages:
    """``task_message`` for one task on one queue, many times: Celery's protocol-2 parts are built once, with
    a placeholder for the job id, and each message only fills in the id, the body and a fresh delivery tag.

    The web process builds a message per accepted delivery; building it from scratch each time costed as
    much as the rest of the enqueue. ``task_message`` stays the reference: tests compare the two.
    """

    def __init__(self, celery: Celery, *, task_name: str, queue: str) -> None:
        message, self._encoding, self._body = _message(
            celery, task_id=_ID, task_name=task_name, queue=queue, args=[_ID]
        )
        message["body"] = _BODY
        message["properties"]["delivery_tag"] = _TAG
        self._template = str(envelope_json(message))

    def message(self, task_id: str) -> str:
        """The message that runs ``task_id`` (the same JSON ``task_message`` gives, but for its delivery tag)."""
        if not _PLAIN_ID.fullmatch(task_id):
            raise ValueError(f"a task id that JSON or repr would change: {task_id!r}")
        body = self._body.replace(_ID, task_id).encode(self._encoding)
        encoded = base64.b64encode(body).decode("ascii")
        text = self._template.replace(_BODY, encoded, 1).replace(_TAG, random_uuid4(), 1)
        return text.replace(_ID, task_id)
