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
import uuid
from collections.abc import Sequence

from celery import Celery
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps as envelope_json

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
    call_args = [task_id] if args is None else list(args)
    # argsrepr as send_task writes it (it passes a list): what `celery inspect` and flower show
    # ignore_result=False as send_task writes it (the worker's task decides whether to store a result)
    headers, properties, body, _sent_event = celery.amqp.as_task_v2(
        task_id, task_name, args=tuple(call_args), argsrepr=repr(call_args), ignore_result=False
    )
    content_type, content_encoding, data = serialize(body, serializer="json")
    raw = data.encode(content_encoding or "utf-8")
    properties = {
        **properties,
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": queue},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    message = {
        "body": base64.b64encode(raw).decode("ascii"),
        "content-encoding": content_encoding,
        "content-type": content_type,
        "headers": headers,
        "properties": properties,
    }
    return str(envelope_json(message))
