"""prompt and estimate with a job's work: its template rendered with --var, --vars-file,
a book's values and stdin, sent to a real local server byte for byte; bad input sends nothing."""

from __future__ import annotations

import json

import pytest
from compose.homes import TRICKY, write

from conftest import team_of_one

pytestmark = pytest.mark.team(team_of_one, answer="fine")

JOBS = """
[jobs.echo]
group = "writer"
system = "Sys {{ a }}"
prompt = "A={{ a }}|F={{ f }}|I={{ input }}"
params = { temperature = 0.3, max_tokens = 50, top_p = 0.5 }

[jobs.echo.vars.a]
required = true

[jobs.echo.vars.f]
file = true
default = "styles/none.md"

[jobs.echo.vars.mood]
default = "calm"

[jobs.plain]
group = "writer"
"""

URL = "/a/v1/chat/completions"


@pytest.fixture
def jobs(team):
    write(team / "jobs.toml", JOBS)
    write(team / "styles" / "none.md", "no style")
    return team


@pytest.fixture
def h_store(jobs):
    from llmctl.engine.usage import UsageStore
    from llmctl.paths import Home

    return UsageStore.for_home(Home.resolve(jobs))


def sent(server) -> dict:
    [request] = [r for r in server.requests if r["path"].startswith(URL)]
    return request["json"]


def test_tricky_text_arrives_byte_for_byte_through_value_file_and_stdin(cli, jobs, server, tmp_path):
    path = write(tmp_path / "tricky.txt", TRICKY)
    out = cli(
        "prompt", "--job", "echo", "--no-stream", "--var", f"a={TRICKY}", "--var", f"f=@{path}", input=TRICKY
    )
    assert out.exit_code == 0, out.stderr
    body = sent(server)
    assert body["messages"] == [
        {"role": "system", "content": f"Sys {TRICKY}"},
        {"role": "user", "content": f"A={TRICKY}|F={TRICKY}|I={TRICKY}"},
    ]
    assert (body["temperature"], body["max_completion_tokens"], body["top_p"]) == (0.3, 50, 0.5)


def test_a_variable_read_from_stdin_and_a_vars_file(cli, jobs, server, tmp_path):
    path = write(tmp_path / "vars.json", json.dumps({"a": "from file", "f": str(tmp_path / "vars.json")}))
    out = cli(
        "prompt",
        "--job",
        "echo",
        "TEXT",
        "--no-stream",
        "--vars-file",
        str(path),
        "--var",
        "a=@-",
        input=TRICKY,
    )
    assert out.exit_code == 0, out.stderr
    user = sent(server)["messages"][1]["content"]
    assert user == f"A={TRICKY}|F={path.read_text()}|I=TEXT"


def test_command_line_options_win_over_the_job(cli, jobs, server):
    out = cli(
        "prompt", "--job", "echo", "x", "--no-stream", "--var", "a=1",
        "--temperature", "1.5", "--max-tokens", "7", "--system", "Mine",
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    body = sent(server)
    assert (body["temperature"], body["max_completion_tokens"]) == (1.5, 7)
    assert body["messages"][0] == {"role": "system", "content": "Mine"}


def test_dry_run_json_shows_messages_and_each_source(cli, jobs, server):
    write(jobs / "books" / "moby.toml", '[jobs.echo.vars]\nmood = "grim"\n')
    out = cli("prompt", "--job", "echo", "--book", "moby", "in", "--dry-run", "--json", "--var", "a=given")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["messages"][1]["content"] == "A=given|F=no style|I=in"
    sources = {name: v["source"] for name, v in data["vars"].items()}
    assert sources == {"a": "cli", "f": "job", "mood": "book:moby"}
    assert data["template_hash"]
    assert server.requests == []


def test_dry_run_json_of_a_job_without_work_is_unchanged(cli, jobs, server):
    out = cli("prompt", "--job", "plain", "hello", "--dry-run", "--json")
    assert out.exit_code == 0, out.stderr
    assert "messages" not in json.loads(out.stdout)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--job", "echo", "x"], "'a' is required"),
        (["--job", "echo", "x", "--var", "a=1", "--var", "mod=2"], "did you mean 'mood'"),
        (["x", "--var", "a=1"], "--job"),
        (["--job", "plain", "x", "--var", "a=1"], "unknown variable 'a'"),
        (["--job", "echo", "x", "--var", "a=1", "--var", "f=/no/such/file"], "variable 'f'"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent(cli, jobs, server, args, needle):
    out = cli("prompt", *args)
    assert out.exit_code == 2, out.stdout + out.stderr
    assert needle in out.stderr
    assert out.stderr.count("\n") == 1 or "hint" in out.stderr
    assert server.requests == []


def test_a_template_error_is_exit_2_with_file_and_line(cli, jobs, server):
    write(jobs / "jobs.toml", '[jobs.bad]\ngroup = "writer"\nprompt = "{% if %}"\n')
    out = cli("prompt", "--job", "bad", "x")
    assert out.exit_code == 2
    assert "jobs.toml" in out.stderr and "bad" in out.stderr
    assert server.requests == []


def test_estimate_counts_the_rendered_messages(cli, jobs, server):
    short = json.loads(cli("estimate", "--job", "echo", "x", "--var", "a=1", "--json").stdout)
    long = json.loads(cli("estimate", "--job", "echo", "x", "--var", f"a={'word ' * 400}", "--json").stdout)
    assert long["input_tokens"] > short["input_tokens"] + 300
    assert cli("estimate", "--job", "echo", "x").exit_code == 2
    assert server.requests == []


def batch_file(tmp_path, *lines) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def test_batch_lines_vars_merge_over_the_command_line_key_by_key(cli, jobs, server, tmp_path, h_store):
    path = batch_file(
        tmp_path,
        {"id": "1", "prompt": TRICKY, "vars": {"a": TRICKY}},
        {"id": "2", "prompt": "two", "vars": {"mood": "x"}},
    )
    out = cli("batch", path, "--job", "echo", "--var", "a=base", "--var", "mood=m", "--concurrency", "1")
    assert out.exit_code == 0, out.stderr
    users = sorted(r["json"]["messages"][1]["content"] for r in server.requests)
    assert users == sorted(["A=base|F=no style|I=two", f"A={TRICKY}|F=no style|I={TRICKY}"])
    assert {r["json"]["top_p"] for r in server.requests} == {0.5}
    assert len({row["template_hash"] for row in h_store.rows()}) == 1  # the same work, other values
    assert all(row["template_hash"] for row in h_store.rows())


def test_batch_line_missing_a_required_variable_is_its_file_line_and_nothing_is_sent(
    cli, jobs, server, tmp_path
):
    path = batch_file(tmp_path, {"id": "1", "prompt": "x", "vars": {"a": "1"}}, {"id": "2", "prompt": "y"})
    out = cli("batch", path, "--job", "echo")
    assert out.exit_code == 2
    assert f"{path}:2:" in out.stderr and "'a' is required" in out.stderr
    assert server.requests == []


def test_batch_vars_must_be_an_object_on_a_prompt_line(cli, jobs, server, tmp_path):
    path = batch_file(tmp_path, {"id": "1", "prompt": "x", "vars": ["a"]})
    out = cli("batch", path, "--job", "echo")
    assert out.exit_code == 2 and f"{path}:1: `vars` must be an object" in out.stderr
    assert server.requests == []


def test_provenance_across_a_changed_prompt_file(cli, jobs, server, h_store):
    write(jobs / "jobs.toml", '[jobs.tmpl]\ngroup = "writer"\nprompt_file = "p.j2"\n')
    write(jobs / "p.j2", "First version.\n")
    assert cli("prompt", "--job", "tmpl", "a", "--no-stream").exit_code == 0
    assert cli("prompt", "--job", "tmpl", "b", "--no-stream").exit_code == 0
    write(jobs / "p.j2", "Second version.\n")
    assert cli("prompt", "--job", "tmpl", "c", "--no-stream").exit_code == 0
    assert [r["json"]["messages"][-1]["content"] for r in server.requests][-1] == "Second version.\n\nc"

    rows = h_store.rows()
    assert len({row["template_hash"] for row in rows}) == 2 and all(row["template_hash"] for row in rows)
    history = json.loads(cli("job", "history", "tmpl", "--json").stdout)
    assert [v["requests"] for v in history["versions"]] == [2, 1]
    first, second = history["versions"]
    assert first["first_used"] <= first["last_used"] <= second["first_used"]
    assert first["failures"] == 0 and first["cost"] > 0
    assert cli("job", "history", "tmpl").exit_code == 0

    report = json.loads(cli("usage", "--by", "template", "--json").stdout)
    assert sorted(r["requests"] for r in report["rows"]) == [1, 2]
    assert {r["template"] for r in report["rows"]} == {first["template_hash"], second["template_hash"]}


def test_a_prompt_without_a_job_records_no_template(cli, jobs, server, h_store):
    assert cli("prompt", "plain text", "--no-stream").exit_code == 0
    assert [row["template_hash"] for row in h_store.rows()] == [None]
    assert json.loads(cli("job", "history", "echo", "--json").stdout)["versions"] == []


def test_an_older_store_gains_the_template_column_in_place(jobs, h_store):
    import sqlite3

    from llmctl.engine.usage import SCHEMA, SCHEMA_VERSION, UsageStore

    path = h_store.path
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT INTO attempts (time, llm, provider, outcome, cost) VALUES ('2026-01-01T00:00:00', 'x', 'p', 'ok', 1)"
    )
    conn.commit()
    conn.close()
    rows = UsageStore(path).rows()
    assert rows[0]["llm"] == "x" and rows[0]["template_hash"] is None and rows[0]["deployment"] is None
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
