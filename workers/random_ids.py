"""Random ids made once per accepted delivery (job ids, Celery delivery tags), from the OS's CSPRNG read a few
KiB at a time.

Each ``os.urandom`` is a system call; in the web process under load, the two a delivery made (a job id and a
message's uuid4) took a tenth of its CPU. The bytes are the same CSPRNG's, handed out in order and never twice;
a forked child starts with an empty pool, so it never repeats its parent's ids.
"""

from __future__ import annotations

import os
import threading

_POOL_BYTES = 4096
_lock = threading.Lock()
_pool = b""
_used = 0


def random_bytes(count: int) -> bytes:
    """``count`` bytes (at most the pool's size) from the OS's CSPRNG."""
    global _pool, _used
    with _lock:
        if _used + count > len(_pool):
            _pool, _used = os.urandom(_POOL_BYTES), 0
        start, _used = _used, _used + count
        return _pool[start:_used]


def random_hex(count: int) -> str:
    """``count`` random bytes as hex (``secrets.token_hex(count)``)."""
    return random_bytes(count).hex()


def random_uuid4() -> str:
    """A random version-4 UUID as text (``str(uuid.uuid4())``)."""
    digits = random_bytes(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def _forget() -> None:
    global _pool, _used
    _pool, _used = b"", 0


os.register_at_fork(after_in_child=_forget)
