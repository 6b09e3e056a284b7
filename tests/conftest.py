"""Shared fixtures: every test gets its own LLMCTL_HOME and no provider keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakeserver import refused_url
from llmctl.catalog.load import load_catalog
from llmctl.paths import Home
from llmctl.providers.resolve import base_url_env
from llmctl.providers.table import BUILTIN_PROVIDERS

DATA = Path(__file__).parent / "data"
# The real catalog files of the project's shared folder (beside the checkout), when present.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def sample(name: str) -> Path:
    """A real third-party file from the shared samples; the test is skipped without it."""
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{path} is not here (the shared samples sit beside the checkout)")
    return path


KEY_VARS = (
    {p.api_key_env for p in BUILTIN_PROVIDERS.values() if p.api_key_env}
    | {base_url_env(name) for name in BUILTIN_PROVIDERS}
    | {
        "AZURE_OPENAI_API_VERSION",
        "OLLAMA_BASE_URL",
        "LLMCTL_CATALOG",
        "LLMCTL_HOME",
        "LLMCTL_DEBUG",
        "LLMCTL_NO_CACHE",
        "NO_COLOR",
    }
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("LLMCTL_HOME", str(home))
    return home


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1, scripted per test (see fakeserver.py)."""
    from fakeserver import FakeServer

    with FakeServer() as srv:
        yield srv


@pytest.fixture
def home(clean_env) -> Path:
    return clean_env


@pytest.fixture
def cli():
    """Run the CLI in-process; returns the click Result (stdout and stderr kept apart)."""
    from llmctl.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


def llmctl_exe() -> list[str]:
    exe = shutil.which("llmctl", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "llmctl"]


@pytest.fixture
def proc(home):
    """Run the installed `llmctl` as a real process with the test's home."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        full_env = dict(os.environ, LLMCTL_HOME=str(home), **(env or {}))
        return subprocess.run(
            llmctl_exe() + list(args), capture_output=True, text=True, env=full_env, input=input, timeout=60
        )

    return run


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def entry(llm_id: str, **fields):
    """A complete minimal catalog entry."""
    base = {
        "id": llm_id,
        "provider": "openai",
        "valid_groups": ["writer"],
        "input_cost_per_mtok": 1.0,
        "output_cost_per_mtok": 2.0,
        "quality_score": 7,
    }
    base.update(fields)
    return base


CLIENT_KEY = "sk-client-secret"


@pytest.fixture
def team(home, server, monkeypatch):
    """A team catalog of OpenAI-compatible LLMs on the local server, one refused, one without a key."""
    monkeypatch.setenv("OPENAI_API_KEY", CLIENT_KEY)
    path = write_json(
        home.parent / "team.json",
        {
            "llms": [
                entry("openai/first", priority=1, api_base=f"{server.url}/a/v1"),
                entry("openai/second", priority=2, api_base=f"{server.url}/b/v1"),
                entry("openai/old-model", priority=3, api_base=refused_url() + "/v1"),
                entry("anthropic/nokey", provider="anthropic", priority=4, api_base=refused_url()),
                entry(
                    "openai/emb", valid_groups=[], capabilities=["embeddings"], api_base=f"{server.url}/a/v1"
                ),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    return load_catalog(Home.resolve(home))
