"""`llmctl batch`: in process (CliRunner) against the local server and the simulator, and as a
real process that is interrupted and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import entry, llmctl_exe, write_json
from fakeserver import Reply, openai_chat

KEY = "sk-batch-secret-0001"


pytestmark = pytest.mark.team(
    lambda url: [
        entry("openai/a", quality_score=9, api_base=f"{url}/a/v1"),
        entry("openai/b", quality_score=8, api_base=f"{url}/b/v1"),
    ],
    keys={"OPENAI_API_KEY": KEY},
)


def jsonl(path, *items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_batch_writes_a_line_per_input_line_and_a_summary(cli, team, server, tmp_path):
    server.defaults["/a/v1/chat/completions"] = openai_chat("answer", 10, 4)
    src = jsonl(tmp_path / "in.jsonl", *({"id": f"q{n}", "prompt": f"question {n}"} for n in range(20)))
    out = tmp_path / "out.jsonl"
    result = cli("batch", str(src), "-o", str(out), "--group", "writer", "--concurrency", "5", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(f"q{n}" for n in range(20))
    first = lines[0]
    assert set(first) >= {
        "id",
        "text",
        "llm",
        "provider",
        "attempts",
        "usage",
        "cost",
        "latency_ms",
        "cached",
        "error",
    }
    assert (first["text"], first["llm"], first["error"], first["cached"]) == (
        "answer",
        "openai/a",
        None,
        False,
    )
    assert first["attempts"][0]["tries"] == 1
    summary = json.loads(result.stdout)
    assert summary == {
        "total": 20,
        "ok": 20,
        "failed": 0,
        "skipped": 0,
        "input_tokens": 200,
        "output_tokens": 80,
        "cost": pytest.approx(20 * (10 * 1.0 + 4 * 2.0) / 1e6),
        "wall_s": summary["wall_s"],
    }
    assert KEY not in out.read_text() + result.stdout + result.stderr


def test_a_lines_own_values_win_and_failures_exit_1_after_every_line_ran(cli, team, server, tmp_path):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from a")
    server.defaults["/b/v1/chat/completions"] = Reply(400, {"error": {"message": "no"}})
    src = jsonl(
        tmp_path / "in.jsonl",
        {"id": "1", "prompt": "x"},
        {"id": "2", "prompt": "y", "llm": "openai/b", "max_tokens": 7},
    )
    result = cli("batch", str(src), "--group", "writer", "--no-allow-upgrade", "--max-attempts", "1")
    assert result.exit_code == 1
    lines = {json.loads(line)["id"]: json.loads(line) for line in result.stdout.splitlines()}
    assert lines["1"]["text"] == "from a"
    assert lines["2"]["text"] is None and "answered 400" in lines["2"]["error"]
    sent_b = [r for r in server.requests if r["path"].startswith("/b/")]
    assert sent_b[0]["json"]["max_completion_tokens"] == 7
    assert "1 ok, 1 failed" in result.stderr


def test_batch_honours_max_cost_and_the_cache(cli, team, server, tmp_path):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from a")
    src = jsonl(tmp_path / "in.jsonl", {"id": "1", "prompt": "x"}, {"id": "2", "prompt": "y"})
    priced = cli("batch", str(src), "--group", "writer", "--max-cost", "0.0000001", "--max-tokens", "1000")
    assert priced.exit_code == 1 and server.requests == []
    assert all("over --max-cost" in json.loads(line)["error"] for line in priced.stdout.splitlines())
    first = cli("batch", str(src), "--group", "writer", "--cache")
    again = cli("batch", str(src), "--group", "writer", "--cache")
    assert first.exit_code == again.exit_code == 0
    assert [json.loads(line)["cached"] for line in again.stdout.splitlines()] == [True, True]
    assert len(server.requests) == 2  # the second run was answered from the cache


def test_bad_input_sends_nothing_and_creates_no_output(cli, team, server, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "prompt": "x"}\n{"id": "1", "prompt": "y"}\n')
    out = tmp_path / "out.jsonl"
    result = cli("batch", str(src), "-o", str(out), "--group", "writer")
    assert result.exit_code == 2 and f"{src}:2: id '1' repeats line 1" in result.stderr
    assert not out.exists() and server.requests == []
    jsonl(src, {"id": "1", "prompt": "x", "llm": "openai/nope"})
    result = cli("batch", str(src), "-o", str(out))
    assert result.exit_code == 2 and f"{src}:1: unknown LLM 'openai/nope'" in result.stderr
    result = cli("batch", "-", "--group", "writer", input="not json\n")
    assert result.exit_code == 2 and "<stdin>:1: not JSON" in result.stderr
    assert cli("batch", str(src), "--resume").exit_code == 2  # --resume needs -o


def test_resume_runs_only_what_is_missing_or_failed(cli, team, server, tmp_path):
    server.defaults["/a/v1/chat/completions"] = openai_chat("again")
    src = jsonl(tmp_path / "in.jsonl", *({"id": str(n), "prompt": "p"} for n in range(4)))
    out = tmp_path / "out.jsonl"
    out.write_text(
        json.dumps({"id": "0", "error": None})
        + "\n"
        + json.dumps({"id": "1", "error": "failed"})
        + "\n"
        + '{"id": "2", "te'
    )
    result = cli("batch", str(src), "-o", str(out), "--resume", "--group", "writer", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["total"], summary["skipped"], summary["ok"]) == (4, 1, 3)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids[:2] == ["0", "1"] and sorted(ids[2:]) == ["1", "2", "3"]
    assert len(server.requests) == 3


def test_batch_interrupted_then_resumed_loses_and_repeats_nothing(home, server, tmp_path):
    """A real process: Ctrl-C mid-run exits 130 with the finished lines in OUT; --resume
    finishes the rest; no id is answered twice."""
    server.defaults["/a/v1/chat/completions"] = Reply(delay=0.3, body=openai_chat("slow").body)
    catalog = write_json(tmp_path / "team.json", {"llms": [entry("openai/a", api_base=f"{server.url}/a/v1")]})
    src = jsonl(tmp_path / "in.jsonl", *({"id": str(n), "prompt": "p"} for n in range(12)))
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(catalog), OPENAI_API_KEY=KEY)
    cmd = llmctl_exe() + ["batch", str(src), "-o", str(out), "--group", "writer", "--concurrency", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    done = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert 2 <= len(done) < 12
    resumed = subprocess.run(
        cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(str(n) for n in range(12))  # none lost, none twice
