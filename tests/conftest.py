"""Shared fixtures: every test gets its own LLMCTL_HOME and no provider keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakeserver import refused_url
from llmctl.catalog.load import Catalog, load_catalog
from llmctl.paths import Home
from llmctl.providers.resolve import base_url_env
from llmctl.providers.table import BUILTIN_PROVIDERS

DATA = Path(__file__).parent / "data"
# The real catalog files of the project's shared folder (beside the checkout, or where
# LLMCTL_TEST_SAMPLES says: a worktree sits deeper), when present.
SAMPLES = Path(
    os.environ.get("LLMCTL_TEST_SAMPLES") or Path(__file__).resolve().parents[2] / "shared" / "samples"
)


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
def h(home) -> Home:
    """The test's home as a `Home` (its files' paths)."""
    return Home.resolve(home)


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


def default_team(url: str) -> list[dict]:
    """The team of `team` unless a test says otherwise: OpenAI-compatible LLMs on the local
    server at `url`, one refused, one without a key, one for embeddings."""
    return [
        entry("openai/first", priority=1, api_base=f"{url}/a/v1"),
        entry("openai/second", priority=2, api_base=f"{url}/b/v1"),
        entry("openai/old-model", priority=3, api_base=refused_url() + "/v1"),
        entry("anthropic/nokey", provider="anthropic", priority=4, api_base=refused_url()),
        entry("openai/emb", valid_groups=[], capabilities=["embeddings"], api_base=f"{url}/a/v1"),
    ]


def team_of_one(url: str) -> list[dict]:
    """One OpenAI-compatible LLM, `openai/a`, on the local server at `url` (path `/a/v1`)."""
    return [entry("openai/a", api_base=f"{url}/a/v1")]


def team_marker(
    llms: Callable[[str], list[dict]] | list[dict] = default_team,
    *,
    keys: dict[str, str] | None = None,
    config: str | None = None,
    folders: tuple[str, ...] = (),
    answer: str | None = None,
) -> dict:
    """The options of `pytest.mark.team(...)`, with their defaults (see the `team` fixture)."""
    return {"llms": llms, "keys": keys, "config": config, "folders": folders, "answer": answer}


@pytest.fixture
def team(request, home, monkeypatch) -> Path:
    """The test's home with a team catalog in LLMCTL_CATALOG; returns the home folder.

    A module (`pytestmark = pytest.mark.team(...)`) or a test says which team:
    `llms` is a list of entries, or a function of the local `server`'s URL returning one
    (default: `default_team`); `keys` the environment variables set (default: OpenAI's
    key, CLIENT_KEY); `config` the text of config.toml; `folders` the folders made in the
    home; `answer` the text the server's `/a/v1` LLM answers by default."""
    marker = request.node.get_closest_marker("team")
    options = team_marker(*marker.args, **marker.kwargs) if marker else team_marker()
    llms = options["llms"]
    if callable(llms):
        server = request.getfixturevalue("server")
        llms = llms(server.url)
        if options["answer"] is not None:
            from fakeserver import openai_chat

            server.defaults["/a/v1/chat/completions"] = openai_chat(options["answer"])
    keys = {"OPENAI_API_KEY": CLIENT_KEY} if options["keys"] is None else options["keys"]
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LLMCTL_CATALOG", str(write_json(home.parent / "team.json", {"llms": llms})))
    home.mkdir(parents=True, exist_ok=True)
    for folder in options["folders"]:
        (home / folder).mkdir(parents=True, exist_ok=True)
    if options["config"] is not None:
        (home / "config.toml").write_text(options["config"])
    return home


@pytest.fixture
def team_catalog(team) -> Catalog:
    """The `team` catalog, loaded."""
    return load_catalog(Home.resolve(team))
