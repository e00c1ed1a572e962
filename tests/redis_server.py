"""Tests use the sandbox's real redis-server."""

from sandbox.redis_server import RedisServer, free_port

__all__ = ["RedisServer", "free_port"]
