"""prompt, compare and embed: through CliRunner and as real processes against a local server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import llmctl_exe
from fakeserver import Reply, openai_chat, openai_stream, refused_url

KEY = "sk-live-cli-secret-0001"


@pytest.fixture
def local_home(home, server):
    """A home whose catalog has two OpenAI-compatible writers served by the local server."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "team.json").write_text(
        json.dumps(
            {
                "llms": [
                    {
                        "id": "local/primary",
                        "provider": "openai",
                        "model": "primary",
                        "valid_groups": ["writer", "editor"],
                        "quality_score": 9,
                        "input_cost_per_mtok": 1.0,
                        "output_cost_per_mtok": 2.0,
                        "context_length": 100000,
                        "capabilities": ["streaming"],
                        "api_base": f"{server.url}/a/v1",
                    },
                    {
                        "id": "local/backup",
                        "provider": "openai",
                        "model": "backup",
                        "valid_groups": ["writer", "editor"],
                        "quality_score": 8,
                        "input_cost_per_mtok": 0.5,
                        "output_cost_per_mtok": 1.0,
                        "context_length": 100000,
                        "capabilities": ["streaming"],
                        "api_base": f"{server.url}/b/v1",
                    },
                    {
                        "id": "local/embed",
                        "provider": "openai",
                        "model": "emb",
                        "capabilities": ["embeddings"],
                        "input_cost_per_mtok": 0.02,
                        "output_cost_per_mtok": 0.0,
                        "api_base": f"{server.url}/a/v1",
                    },
                ]
            }
        )
    )
    return home


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return dict(
        os.environ, LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(home / "team.json"), OPENAI_API_KEY=KEY, **extra
    )


def run(home: Path, *args: str, input: str | None = None, **extra: str):
    return subprocess.run(
        llmctl_exe() + list(args),
        capture_output=True,
        text=True,
        env=env_for(home, **extra),
        input=input,
        timeout=60,
        check=False,
    )


def test_prompt_streams_through_the_real_cli(local_home, server):
    server.add("/a/v1/chat/completions", openai_stream(["Call me ", "Ishmael."], chunk_delay=0.05))
    result = run(local_home, "prompt", "--job", "draft_chapter", "Open the book", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Call me Ishmael.\n"
    assert "local/primary via openai; attempts 1; tokens 4 in, 2 out" in result.stderr
    sent = server.requests[0]["json"]
    assert sent["model"] == "primary" and sent["messages"] == [{"role": "user", "content": "Open the book"}]


def test_prompt_reads_stdin_and_text_plus_stdin(local_home, server):
    server.add("/a/v1/chat/completions", openai_chat("edited"), openai_chat("edited"))
    assert (
        run(local_home, "prompt", "--job", "copyedit", "--no-stream", input="chapter text  \n\n").stdout
        == "edited\n"
    )
    assert server.requests[0]["json"]["messages"][-1]["content"] == "chapter text"
    run(local_home, "prompt", "--job", "copyedit", "--no-stream", "Fix this:", input="chapter text\n")
    assert server.requests[1]["json"]["messages"][-1]["content"] == "Fix this:\n\nchapter text"


def test_prompt_json_prints_only_the_object(local_home, server):
    server.add(
        "/a/v1/chat/completions",
        Reply(503, {"error": {"message": "busy"}}),
        Reply(503, {"error": "x"}),
        Reply(503, {"error": "x"}),
    )
    server.add("/b/v1/chat/completions", openai_chat("from backup", 100, 50))
    result = run(local_home, "prompt", "--group", "writer", "--json", "--system", "Be brief.", "hello")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["text"], data["llm"], data["provider"]) == ("from backup", "local/backup", "openai")
    assert [a["outcome"] for a in data["attempts"]] == ["error", "ok"]
    assert data["attempts"][0]["status"] == 503 and data["attempts"][0]["tries"] == 3
    assert data["usage"] == {"input_tokens": 100, "output_tokens": 50, "estimated": False}
    assert data["cost"] == pytest.approx((100 * 0.5 + 50 * 1.0) / 1e6) and data["latency_ms"] > 0
    assert server.requests[-1]["json"]["messages"][0] == {"role": "system", "content": "Be brief."}


def test_prompt_all_failed_exits_1_with_a_line_per_attempt(local_home, server):
    # (the 401 last: it cools the key the two share, which would skip the backup)
    server.add("/a/v1/chat/completions", Reply(400, {"error": {"message": "bad request"}}))
    server.add("/b/v1/chat/completions", Reply(401, {"error": {"message": f"bad key {KEY}"}}))
    result = run(local_home, "prompt", "--group", "writer", "hi")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("llmctl: error: every LLM of the chain failed")
    assert any("local/primary (openai): openai answered 400: bad request" in line for line in lines)
    assert any("local/backup (openai): openai answered 401: bad key ***" in line for line in lines)
    assert KEY not in result.stderr + result.stdout


def test_prompt_no_fallback_and_missing_key_is_skipped(local_home, server):
    server.add(
        "/a/v1/chat/completions",
        Reply(500, {"error": "down"}),
        Reply(500, {"error": "down"}),
        Reply(500, {"error": "down"}),
    )
    result = run(local_home, "prompt", "--group", "writer", "--no-fallback", "--retries", "2", "hi")
    assert result.returncode == 1 and "local/backup" not in result.stderr
    env = env_for(local_home)
    env.pop("OPENAI_API_KEY")
    result = subprocess.run(
        llmctl_exe() + ["prompt", "--group", "writer", "--json", "hi"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 4 and "OPENAI_API_KEY is not set" in result.stderr
    data = json.loads(result.stdout)  # --json prints the object also when nothing fits
    assert data["text"] is None and data["error"].startswith("no LLM fits group writer")
    assert {"id": "local/primary", "skipped": "OPENAI_API_KEY is not set"} in data["candidates"]


def test_prompt_dry_run_sends_nothing_and_redacts(local_home, server):
    result = run(local_home, "prompt", "--group", "writer", "--dry-run", "--json", "hello")
    assert result.returncode == 0
    plan = json.loads(result.stdout)
    assert plan["chain"] == ["local/primary", "local/backup"]
    assert plan["steps"][0]["request"]["headers"]["authorization"] == "Bearer ***"
    assert plan["steps"][0]["worst_case_cost"] > 0
    assert server.requests == [] and KEY not in result.stdout + result.stderr


def test_prompt_stream_broken_midway_is_not_stitched(local_home, server):
    server.add("/a/v1/chat/completions", openai_stream(["half ", "of it"], drop_after=1))
    server.add("/b/v1/chat/completions", openai_chat("backup"))
    result = run(local_home, "prompt", "--group", "writer", "hi")
    assert result.returncode == 1
    assert result.stdout == "half "
    assert "broke off mid-answer" in result.stderr
    assert not any(r["path"].startswith("/b/") for r in server.requests)


def test_prompt_refused_then_cooldown_then_pick_explain_shows_it(local_home, server):
    team = json.loads((local_home / "team.json").read_text())
    team["llms"][0]["api_base"] = refused_url() + "/v1"
    (local_home / "team.json").write_text(json.dumps(team))
    server.add("/b/v1/chat/completions", *[openai_chat(f"answer {n}") for n in range(4)])
    for n in range(3):  # three failed runs in a row put the endpoint in cooldown
        run_n = run(local_home, "prompt", "--group", "writer", "--retries", "0", "hi")
        assert run_n.returncode == 0 and run_n.stdout == f"answer {n}\n"
    fourth = run(local_home, "prompt", "--group", "writer", "--json", "-v", "hi")
    data = json.loads(fourth.stdout)
    assert data["attempts"][0]["outcome"] == "skipped" and "in cooldown" in data["attempts"][0]["error"]
    assert data["llm"] == "local/backup"
    explained = run(local_home, "pick", "--group", "writer", "--explain")
    assert "local/primary" in explained.stdout and "in cooldown" in explained.stdout
    team["llms"][1]["api_base"] = refused_url() + "/v1"  # now the backup is down too
    (local_home / "team.json").write_text(json.dumps(team))
    for _ in range(3):
        run(local_home, "prompt", "--group", "writer", "--retries", "0", "hi")
    everything_cooling = run(local_home, "prompt", "--group", "writer", "hi")
    assert everything_cooling.returncode == 1 and "in cooldown" in everything_cooling.stderr


def test_prompt_ctrl_c_exits_130(local_home, server):
    server.add("/a/v1/chat/completions", Reply(delay=10, body={}))
    proc = subprocess.Popen(
        llmctl_exe() + ["prompt", "--group", "writer", "hi"],
        env=env_for(local_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 20
    while not server.requests and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    import sqlite3

    rows = (
        sqlite3.connect(local_home / "usage.sqlite").execute("SELECT llm, outcome FROM attempts").fetchall()
    )
    assert rows == [("local/primary", "interrupted")]  # the attempt cut short is recorded


def test_prompt_empty_input_is_a_usage_error(local_home):
    result = run(local_home, "prompt", "--group", "writer", input="")
    assert result.returncode == 2 and "the prompt is empty" in result.stderr


def test_compare_asks_all_at_once(local_home, server):
    server.add("/a/v1/chat/completions", Reply(delay=1.0, body=openai_chat("A").body))
    server.add("/b/v1/chat/completions", Reply(delay=1.0, body=openai_chat("B").body))
    result = run(local_home, "compare", "Which?", "--llm", "local/primary", "--llm", "local/backup", "--json")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [(a["llm"], a["text"]) for a in answers] == [("local/primary", "A"), ("local/backup", "B")]
    # Both questions reached the server before either answer (each takes 1 s) was sent.
    first, second = sorted(r["time"] for r in server.requests)
    assert second - first < 0.9
    text = run(local_home, "compare", "Which?", "--llm", "local/primary", "--llm", "nope/nope")
    assert text.returncode == 2


def test_embed_prints_the_vector(local_home, server):
    server.add("/a/v1/embeddings", Reply(body={"data": [{"index": 0, "embedding": [0.25, -0.5]}]}))
    result = run(local_home, "embed", "whale", "--llm", "local/embed")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0.25, -0.5]


def test_no_key_in_any_file_or_output(local_home, server):
    server.add(
        "/a/v1/chat/completions", Reply(401, {"error": {"message": f"key {KEY} is wrong"}}), openai_chat("ok")
    )
    server.add("/b/v1/chat/completions", openai_chat("fine"))
    outputs = [
        run(local_home, "prompt", "--group", "writer", "hi", "-v"),
        run(local_home, "prompt", "--group", "writer", "--json", "hi"),
        run(local_home, "prompt", "--group", "writer", "--dry-run", "hi"),
        run(local_home, "pick", "--group", "writer", "--explain"),
    ]
    for out in outputs:
        assert KEY not in out.stdout + out.stderr
    for path in local_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_prompt_verbose_names_the_fallbacks_and_dry_run_honours_no_fallback(local_home, server):
    server.add("/a/v1/chat/completions", Reply(400, {"error": {"message": "no"}}))  # (a 401 cools the key)
    server.add("/b/v1/chat/completions", openai_stream(["ok"]))
    result = run(local_home, "prompt", "--group", "writer", "-v", "hi")
    assert (
        result.returncode == 0
        and "local/backup via openai; fell back from local/primary (400)" in result.stderr
    )
    plan = json.loads(
        run(local_home, "prompt", "--group", "writer", "--dry-run", "--no-fallback", "--json", "hi").stdout
    )
    assert plan["chain"] == ["local/primary"] and len(plan["steps"]) == 1
    assert plan["steps"][0]["request"]["json"].get("stream") is None  # --json sends no stream


def test_embed_and_compare_read_stdin(local_home, server):
    result = run(local_home, "embed", "-", "--llm", "local/embed", input="")
    assert result.returncode == 2 and "nothing to embed" in result.stderr
    server.add("/a/v1/chat/completions", openai_chat("A"))
    result = run(local_home, "compare", "-", "--llm", "local/primary", "--json", input="from stdin\n")
    assert result.returncode == 0 and server.requests[-1]["json"]["messages"][-1]["content"] == "from stdin"


def test_an_empty_stream_falls_back(local_home, server):
    server.add("/a/v1/chat/completions", *[Reply(chunks=["data: [DONE]\n\n"])] * 3)
    server.add("/b/v1/chat/completions", openai_stream(["real answer"]))
    result = run(local_home, "prompt", "--group", "writer", "hi")
    assert result.returncode == 0 and result.stdout == "real answer\n"


def test_dry_run_worst_case_honours_max_tokens(local_home):
    plan = json.loads(
        run(
            local_home, "prompt", "--llm", "local/primary", "--max-tokens", "10", "--dry-run", "--json", "hi"
        ).stdout
    )
    step = plan["steps"][0]
    assert step["request"]["json"]["max_completion_tokens"] == 10
    assert step["worst_case_cost"] == pytest.approx((plan["estimated_prompt_tokens"] * 1.0 + 10 * 2.0) / 1e6)


def test_compare_all_failed_says_so_on_stderr(local_home, server):
    server.add("/a/v1/chat/completions", *[Reply(500, {"error": "down"})] * 3)
    server.add("/b/v1/chat/completions", *[Reply(500, {"error": "down"})] * 3)
    result = run(local_home, "compare", "hi", "--llm", "local/primary", "--llm", "local/backup")
    assert result.returncode == 1 and result.stderr.startswith("llmctl: error: every LLM failed")


def test_embed_is_recorded_in_the_usage_store(local_home, server):
    import sqlite3

    server.add(
        "/a/v1/embeddings",
        Reply(body={"data": [{"index": 0, "embedding": [0.5]}], "usage": {"prompt_tokens": 3}}),
    )
    assert run(local_home, "embed", "whale", "--llm", "local/embed").returncode == 0
    rows = (
        sqlite3.connect(local_home / "usage.sqlite")
        .execute("SELECT llm, outcome, input_tokens FROM attempts")
        .fetchall()
    )
    assert rows == [("local/embed", "ok", 3)]


def test_no_fallback_with_a_skipped_named_llm_sends_nothing(local_home, server):
    env = env_for(local_home)
    env.pop("OPENAI_API_KEY")
    env["LLMCTL_HOME"] = str(local_home)
    result = subprocess.run(
        llmctl_exe() + ["prompt", "--group", "writer", "--llm", "local/primary", "--no-fallback", "hi"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 4
    assert (
        "local/primary was skipped: OPENAI_API_KEY is not set; nothing was sent (--no-fallback)"
        in result.stderr
    )
    # In cooldown: a run-time reason, exit 1; still nothing sent.
    (local_home / "state").mkdir(exist_ok=True)
    (local_home / "state" / "cooldown.json").write_text(
        json.dumps({"llm:local/primary": {"failures": 3, "until": time.time() + 100}})
    )
    result = run(local_home, "prompt", "--group", "writer", "--llm", "local/primary", "--no-fallback", "hi")
    assert result.returncode == 1 and "in cooldown" in result.stderr
    assert server.requests == []


def test_compare_exits_1_when_any_llm_failed_and_still_shows_the_others(local_home, server):
    server.add("/a/v1/chat/completions", openai_chat("fine answer"))
    server.add("/b/v1/chat/completions", Reply(404, {"error": {"message": "no such model"}}))
    result = run(local_home, "compare", "hi", "--llm", "local/primary", "--llm", "local/backup")
    assert result.returncode == 1
    assert "== local/primary (" in result.stdout and "fine answer" in result.stdout
    assert "== local/backup (" in result.stdout and "error: openai answered 404" in result.stdout
    assert "1 of 2 LLMs failed" in result.stderr


def test_embed_answer_that_is_not_a_vector_fails(local_home, server):
    server.defaults["/a/v1/embeddings"] = Reply(body={"data": [{"index": 0, "embedding": "hello"}]})
    result = run(local_home, "embed", "whale", "--llm", "local/embed")
    assert result.returncode == 1 and "not a list of numbers" in result.stderr and result.stdout == ""


def test_verbose_marks_estimated_tokens_instead_of_none(local_home, server):
    server.add("/a/v1/chat/completions", Reply(body={"choices": [{"message": {"content": "no usage here"}}]}))
    result = run(local_home, "prompt", "--group", "writer", "--no-stream", "-v", "four words of prompt")
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stderr and "tokens ~5 in, ~3 out" in result.stderr


def test_a_local_server_that_is_not_running_is_named_with_how_to_start_it(home, cli, monkeypatch):
    from fakeserver import refused_url

    monkeypatch.setenv("OLLAMA_BASE_URL", refused_url())
    result = cli("prompt", "hi", "--llm", "ollama/qwen3:8b", "--no-fallback")
    assert result.exit_code == 1
    assert "nothing is listening at http://127.0.0.1:" in result.stderr and "ollama serve" in result.stderr
    assert "after 3 tries" not in result.stderr  # a refused connection is not retried


def test_book_show_says_why_the_books_own_choice_was_passed_over(cli, home):
    assert cli("book", "default", "set", "moby", "editor", "gpt4o").exit_code == 0
    result = cli("book", "show", "moby", "--json")
    data = json.loads(result.stdout)
    assert any("book default openai/gpt-4o skipped: OPENAI_API_KEY is not set" in n for n in data["notes"])
    text = cli("book", "show", "moby")
    assert "book default openai/gpt-4o skipped" in text.stderr


def test_providers_check_names_the_providers_it_did_not_check(cli, home, monkeypatch, server):
    monkeypatch.setenv("GROQ_API_KEY", "gsk-check")
    monkeypatch.setenv("GROQ_BASE_URL", f"{server.url}/v1")
    server.defaults["/v1/models"] = Reply(body={"data": [{"id": "m"}]})
    result = cli("providers", "check")
    assert "not checked (no key set): " in result.stderr and "openai (OPENAI_API_KEY)" in result.stderr


def test_embed_reads_stdin_like_prompt(local_home, server):
    server.add("/a/v1/embeddings", Reply(body={"data": [{"index": 0, "embedding": [0.5]}]}))
    result = run(local_home, "embed", "--llm", "local/embed", input="piped text\n")
    assert result.returncode == 0 and result.stdout == "[0.5]\n"
    assert server.requests[0]["json"]["input"] == ["piped text"]
