"""Fixtures: a home whose jobs carry work."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.homes import make_jobs_home
from llmctl.paths import Home


@pytest.fixture
def jobs_home(home) -> Path:
    return make_jobs_home(home)


@pytest.fixture
def h(jobs_home) -> Home:
    return Home.resolve(jobs_home)
