"""`llmctl batch` at its edges: one writer per OUT, names checked before OUT is touched,
input that cannot be written as UTF-8 or is nested too deeply, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import llmctl_exe, team_of_one
from fakeserver import Reply, openai_chat
from llmctl.engine.usage import UsageStore

KEY = "sk-batch-edges-secret-01"


pytestmark = pytest.mark.team(team_of_one, keys={"OPENAI_API_KEY": KEY}, answer="answer")


def jsonl(path, *items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def _slow_run(home, server, tmp_path, n, *extra):
    """A real `llmctl batch` process over `n` lines against a slow upstream; returns it and OUT
    once its first line is written."""
    server.defaults["/a/v1/chat/completions"] = Reply(delay=0.5, body=openai_chat("slow").body)
    src = jsonl(tmp_path / "in.jsonl", *({"id": str(i), "prompt": "p"} for i in range(n)))
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, LLMCTL_HOME=str(home), OPENAI_API_KEY=KEY)
    cmd = [
        *llmctl_exe(),
        "batch",
        str(src),
        "-o",
        str(out),
        "--group",
        "writer",
        "--concurrency",
        "2",
        *extra,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 2):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    return proc, src, out


def test_a_second_run_on_the_same_out_is_exit_2_and_sends_nothing(cli, team, server, tmp_path):
    proc, src, out = _slow_run(team, server, tmp_path, 8)
    for extra in (["--resume"], []):
        second = cli("batch", str(src), "-o", str(out), "--group", "writer", *extra)
        assert second.exit_code == 2, second.stderr
        assert second.stderr.startswith(f"llmctl: error: {out} is being written by another run")
    _stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(str(i) for i in range(8))  # nothing cut, nothing twice
    assert len(server.requests) == 8  # the second runs sent (and paid for) nothing
    again = cli("batch", str(src), "-o", str(out), "--group", "writer", "--resume", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["skipped"] == 8  # the lock went with the run


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        (["--llm", "nosuch"], "unknown LLM 'nosuch'"),
        (["--job", "nosuch"], "unknown job 'nosuch'"),
        (["--book", "../x"], "unsafe book name '../x'"),
        (["--group", "nosuch"], "unknown group 'nosuch'"),
    ],
)
@pytest.mark.parametrize("resume", [False, True])
def test_command_line_names_are_checked_before_out_is_opened(
    cli, team, server, tmp_path, option, problem, resume
):
    src = jsonl(tmp_path / "in.jsonl", {"id": "1", "prompt": "p"}, {"id": "2", "prompt": "p"})
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "1", "text": "kept", "error": null}\n')
    result = cli("batch", str(src), "-o", str(out), *option, *(["--resume"] if resume else []))
    assert result.exit_code == 2 and problem in result.stderr.splitlines()[0], result.stderr
    assert out.read_text() == '{"id": "1", "text": "kept", "error": null}\n'
    assert server.requests == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            '{"id": "\\ud800", "prompt": "p"}',
            "`id` is not valid Unicode (a lone surrogate '\\ud800' at character 1)",
        ),
        ('{"id": "x", "prompt": "ok \\udfff"}', "`prompt` is not valid Unicode"),
        (
            '{"id": "x", "messages": [{"role": "user", "content": "\\ud83d"}]}',
            "message 1: content is not valid",
        ),
        ('{"id": "x", "prompt": "p", "system": "\\udc80"}', "`system` is not valid Unicode"),
    ],
)
def test_text_that_cannot_be_utf8_is_an_input_error_before_sending(
    cli, team, server, tmp_path, line, problem
):
    good = "".join(json.dumps({"id": f"g{i}", "prompt": "p"}) + "\n" for i in range(6))
    src = tmp_path / "in.jsonl"
    src.write_text(good + line + "\n")
    out = tmp_path / "out.jsonl"
    result = cli("batch", str(src), "-o", str(out), "--group", "writer")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"llmctl: error: {src}:7: ") and problem in result.stderr
    assert server.requests == [] and not out.exists()


def test_an_answer_with_a_lone_surrogate_is_written_escaped(cli, team, server, tmp_path):
    server.defaults["/a/v1/chat/completions"] = openai_chat("half an emoji \ud83d")
    src = jsonl(tmp_path / "in.jsonl", *({"id": str(i), "prompt": "p"} for i in range(3)))
    out = tmp_path / "out.jsonl"
    result = cli("batch", str(src), "-o", str(out), "--group", "writer")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
    assert [line["text"] for line in lines] == ["half an emoji \ud83d"] * 3


@pytest.mark.parametrize(
    "nested", ["[" * 5000 + "]" * 5000, '{"id": "x", "prompt": ' + "[" * 5000 + "]" * 5000 + "}"]
)
def test_a_deeply_nested_line_is_an_input_error_naming_it(cli, team, server, tmp_path, nested):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "prompt": "p"}) + "\n\n" + nested + "\n")
    out = tmp_path / "out.jsonl"
    result = cli("batch", str(src), "-o", str(out), "--group", "writer")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0] == f"llmctl: error: {src}:3: not JSON (nested too deeply)"
    assert server.requests == [] and not out.exists()


def test_a_deeply_nested_line_in_out_is_run_again_on_resume(cli, team, server, tmp_path):
    src = jsonl(tmp_path / "in.jsonl", {"id": "a", "prompt": "p"}, {"id": "b", "prompt": "p"})
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "error": None}) + "\n" + "[" * 5000 + "]" * 5000 + "\n")
    result = cli("batch", str(src), "-o", str(out), "--group", "writer", "--resume", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == 1 and len(server.requests) == 1


def test_sigterm_records_attempts_keeps_finished_lines_and_exits_143(team, server, tmp_path):
    proc, _src, out = _slow_run(team, server, tmp_path, 12)
    proc.send_signal(signal.SIGTERM)
    _stdout, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "llmctl: terminated"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert 2 <= len(lines) < 12 and all(line["error"] is None for line in lines)
    rows = UsageStore(team / "usage.sqlite").rows()
    outcomes = [row["outcome"] for row in rows]
    assert outcomes.count("ok") == len(lines)
    assert outcomes.count("interrupted") >= 1  # the lines in flight: recorded, not lost
    assert len(rows) >= len(server.requests)  # every request the upstream saw has its row


@pytest.mark.team(
    lambda url: [dict(team_of_one(url)[0], input_cost_per_mtok=0.01, output_cost_per_mtok=0.02)],
    keys={"OPENAI_API_KEY": KEY},
    answer="answer",
)
def test_the_summary_reads_a_cost_under_a_millionth_of_a_dollar(cli, team, tmp_path):
    src = jsonl(tmp_path / "in.jsonl", {"id": "1", "prompt": "p"})
    result = cli("batch", str(src), "-o", str(tmp_path / "out.jsonl"), "--llm", "openai/a")
    assert result.exit_code == 0, result.stderr
    # 5 prompt tokens at $0.01/M and 3 answer tokens at $0.02/M: $0.00000011, never $0.000000
    assert "cost $0.00000011;" in result.stderr
