"""Ids from the pooled CSPRNG: the shapes callers rely on, never repeated, and not shared with a forked child."""

from __future__ import annotations

import os
import re
import uuid

from workers.job_queue import new_job_id
from workers.random_ids import random_bytes, random_uuid4


def test_uuids_are_version_4_and_never_repeat() -> None:
    made = [random_uuid4() for _ in range(5000)]  # more than one pool's worth
    assert len(set(made)) == len(made)
    for text in made[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_job_ids_keep_their_shape() -> None:
    ids = {new_job_id() for _ in range(3000)}
    assert len(ids) == 3000 and all(re.fullmatch(r"j-[0-9a-f]{12}", i) for i in ids)


def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    random_bytes(8)  # the pool is filled: the next bytes are already in the parent's memory
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, random_bytes(32))
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    from_child = os.read(read, 64)
    os.close(read)
    assert status == 0 and len(from_child) == 32
    assert from_child != random_bytes(32), "the child drew the bytes the parent draws next"
