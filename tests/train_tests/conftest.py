"""Train tests run single-threaded (the machine is shared) and share tiny settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(torch_one_thread):
    yield
