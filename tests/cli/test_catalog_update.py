"""`catalog update SOURCE` against a real local HTTP server serving the real sample files,
and `catalog status` on a catalog with retired entries. Bad input (a refused port, a wrong
format, a download cut short, one over the size cap, a wrong structure) is a clear error
and leaves the user's catalog byte for byte as it was."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from conftest import refused_url, sample, write_json


class _Samples(BaseHTTPRequestHandler):
    """GET /NAME serves the sample NAME; /cut/NAME promises all of it and sends half;
    /raw/TEXT answers TEXT."""

    root: Path

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        kind, _, name = unquote(self.path).lstrip("/").partition("/")
        if kind == "raw":
            self._send(name.encode())
            return
        body = (self.root / (name if kind == "cut" else kind)).read_bytes()
        if kind != "cut":
            self._send(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def samples_url() -> Iterator[str]:
    root = sample("openrouter_models.json").parent
    handler = type("Handler", (_Samples,), {"root": root})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def user_catalog(home) -> Path:
    """A user catalog with one patch, to hold byte for byte."""
    return write_json(home / "catalog.json", {"llms": [{"id": "openai/gpt-4o", "priority": 7}]})


def test_update_imports_the_downloaded_list_with_every_rule(cli, home, samples_url, user_catalog):
    url = f"{samples_url}/litellm_1.110.2_models.json"
    result = cli("catalog", "update", "litellm", "--url", url, "--only-known", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["added"] == 0 and summary["updated"] > 30 and summary["url"] == url
    assert summary["skipped"]["not in the catalog (--only-known)"] > 3000
    gpt5 = json.loads(cli("show", "openai/gpt-5", "--json").stdout)
    assert (gpt5["context_length"], gpt5["max_input_tokens"]) == (400000, 272000)  # 400k is kept
    assert (gpt5["deprecation_date"], gpt5["source"]) == ("2026-12-11", "litellm update")
    assert json.loads(cli("show", "openai/gpt-4o", "--json").stdout)["priority"] == 7


def test_update_dry_run_and_openrouter_list(cli, home, samples_url, user_catalog):
    before = user_catalog.read_bytes()
    url = f"{samples_url}/openrouter_models.json"
    result = cli("catalog", "update", "openrouter", "--url", url, "--dry-run", "--json")
    summary = json.loads(result.stdout)
    assert summary["dry_run"] and summary["new"] == 328 and summary["read"] == 395
    assert user_catalog.read_bytes() == before


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("litellm_excerpt.json", "is not an OpenRouter model list"),  # a wrong format
        ("cut/openrouter_models.json", "cannot download"),  # the server closes early
        ('raw/{"data": 5}', "data: is int, not a list of models"),  # a wrong structure
        ("raw/<html>", "the download is not JSON"),
    ],
)
def test_a_bad_download_changes_nothing(cli, home, samples_url, user_catalog, path, words):
    before = user_catalog.read_bytes()
    result = cli("catalog", "update", "openrouter", "--url", f"{samples_url}/{path}")
    assert result.exit_code == 1 and words in result.stderr and "nothing" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2
    assert user_catalog.read_bytes() == before


def test_an_unreachable_source_is_exit_1(cli, home, user_catalog):
    before = user_catalog.read_bytes()
    result = cli("catalog", "update", "modelsdev", "--url", refused_url())
    assert result.exit_code == 1 and "cannot download modelsdev at" in result.stderr
    assert "cannot connect" in result.stderr and user_catalog.read_bytes() == before


def test_a_download_over_the_size_cap_is_refused(cli, home, samples_url, user_catalog, monkeypatch):
    from llmctl.cli import catalog_cmd

    monkeypatch.setattr(catalog_cmd, "MAX_DOWNLOAD", 1024 * 1024)  # the sample is 1.1 MB
    before = user_catalog.read_bytes()
    result = cli("catalog", "update", "openrouter", "--url", f"{samples_url}/openrouter_models.json")
    assert result.exit_code == 1 and "larger than 1 MiB" in result.stderr
    assert user_catalog.read_bytes() == before


def test_an_unknown_source_is_a_usage_error(cli):
    result = cli("catalog", "update", "huggingface")
    assert result.exit_code == 2 and "openrouter" in result.stderr


def test_the_download_reports_progress(samples_url):
    from llmctl.engine.http import make_client
    from llmctl.engine.probes import download

    seen: list[tuple[int, int | None]] = []
    with make_client() as client:
        body = download(f"{samples_url}/openrouter_models.json", client, label="openrouter",
                        progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[-1] == (len(body), len(body)) and len(body) > 1_000_000


# --- status ---------------------------------------------------------------------------------------


def test_status_names_retired_and_retiring_entries_in_use(cli, home, samples_url):
    url = f"{samples_url}/litellm_1.110.2_models.json"
    assert cli("catalog", "update", "litellm", "--url", url, "--only-known").exit_code == 0
    cli("disable", "openai/o4-mini")  # retired but disabled and named nowhere: harmless
    cli("disable", "openai/gpt-3.5-turbo")
    (home / "books").mkdir(exist_ok=True)
    (home / "books" / "moby.toml").write_text('[defaults]\nthinker = "openai/gpt-3.5-turbo"\n')
    import datetime as dt

    report = json.loads(cli("catalog", "status", "--json").stdout)
    today = dt.date.today().isoformat()
    assert "openai/o4-mini" not in report["retired"]
    if today >= "2026-12-01":  # the reference's retirements have passed
        assert {"google/gemini-2.5-pro", "anthropic/claude-sonnet-4.5", "openai/gpt-3.5-turbo"} <= set(
            report["retired"]
        )
    sources = {s["source"]: s for s in report["sources"]}
    assert sources["litellm"]["newest"] == today and sources["openrouter"]["oldest"] == "2026-08-19"
    assert report["stale_days"] >= 0 and "llmctl catalog update litellm" in report["refresh"]
    text = cli("catalog", "status").stdout
    assert "refresh: llmctl catalog update" in text


def test_status_of_a_catalog_with_retired_entries(cli, home):
    write_json(
        home / "catalog.json",
        {
            "llms": [
                {"id": "openai/gpt-4o", "deprecated": True, "deprecation_date": "2020-01-01",
                 "replacement": "openai/gpt-4o-mini"},
                {"id": "openai/gpt-4o-mini", "deprecated": True, "deprecation_date": "2089-01-01"},
            ]
        },
    )  # fmt: skip
    report = json.loads(cli("catalog", "status", "--json").stdout)
    assert "openai/gpt-4o" in report["retired"] and report["retiring"] == []
    text = cli("catalog", "status").stdout
    assert "openai/gpt-4o: retired on 2020-01-01; use openai/gpt-4o-mini  (enabled)" in text


def test_status_loads_no_http_client():
    import subprocess
    import sys

    code = "import llmctl.catalog.status, llmctl.cli.catalog_cmd, sys; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
