"""A fresh world of in-memory fakes per test."""

from __future__ import annotations

import pytest

from tests.bot.usecases.fakes import World


@pytest.fixture
def world() -> World:
    return World()
