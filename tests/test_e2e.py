"""The installed `llmctl` as a real process: each command family, concurrency, packaging."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from conftest import DATA, entry, llmctl_exe, write_json

ROOT = Path(__file__).resolve().parents[1]


def test_list_and_show_as_a_process(proc):
    result = proc("list", "--group", "writer")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("ID ")
    shown = json.loads(proc("show", "gpt4o", "--json").stdout)
    assert shown["id"] == "openai/gpt-4o"


def test_python_dash_m_works(home):
    result = subprocess.run(
        [sys.executable, "-m", "llmctl", "list", "--tier", "local", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, LLMCTL_HOME=str(home)),
    )
    assert result.returncode == 0
    assert {e["tier"] for e in json.loads(result.stdout)} == {"local"}


def test_errors_are_one_line_with_exit_code(proc):
    result = proc("show", "nope/nope")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("llmctl: error: unknown LLM 'nope/nope'")
    assert "Traceback" not in result.stderr
    result = proc("--catalog", str(DATA / "openrouter_models.json"), "list")
    assert result.returncode == 3 and "catalog import" in result.stderr


def test_catalog_and_default_families_as_a_process(proc, home, tmp_path):
    imported = proc("catalog", "import", str(DATA / "litellm_prices.json"), "--group", "editor", "--json")
    assert imported.returncode == 0, imported.stderr
    assert proc("catalog", "validate").returncode == 0
    exported = proc("catalog", "export", "--format", "toml")
    path = tmp_path / "team.toml"
    path.write_text(exported.stdout)
    assert proc("catalog", "validate", str(path)).returncode == 0
    yaml_path = tmp_path / "team.yaml"
    yaml_path.write_text(proc("catalog", "export", "--format", "yaml").stdout)
    diffed = proc("catalog", "diff", "bundled", str(yaml_path), "--json")
    assert diffed.returncode == 0 and "openai/gpt-4o-mini" not in json.loads(diffed.stdout)["added"]
    assert json.loads(diffed.stdout)["added"]  # the imported LiteLLM models
    assert proc("default", "set", "gpt4o").stdout == "openai/gpt-4o\n"
    audit = json.loads(proc("audit", "--json").stdout)
    assert audit[-1]["target"] == "default:global"


def test_twenty_parallel_edits_all_survive(home, proc):
    ids = [e["id"] for e in json.loads(proc("list", "--all", "--json").stdout)][:20]
    assert len(ids) == 20
    env = dict(os.environ, LLMCTL_HOME=str(home))
    procs = [
        subprocess.Popen(
            llmctl_exe() + ["edit", llm_id, "--priority", str(1000 + n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, llm_id in enumerate(ids)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    written = tomllib.loads((home / "catalog.toml").read_text())["llms"]
    assert {e["id"]: e["priority"] for e in written} == {llm_id: 1000 + n for n, llm_id in enumerate(ids)}
    audit = [json.loads(line) for line in (home / "audit.jsonl").read_text().splitlines()]
    assert sorted(r["target"] for r in audit) == sorted(ids)


def test_catalog_commands_do_not_import_httpx(home):
    code = (
        "import sys\n"
        "from llmctl.cli import app\n"
        "for args in (['list', '--group', 'writer', '--json'], ['show', 'gpt4o'], ['catalog', 'validate'],"
        " ['edit', 'gpt4o', '--priority', '4'], ['default', 'show']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('httpx' in sys.modules, 'rich' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, LLMCTL_HOME=str(home)),
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"  # piped: no rich either


@pytest.mark.slow
def test_built_wheel_ships_the_catalog(tmp_path):
    """Build the wheel, install it into a new venv, and run it from outside the source tree."""
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("llmctl-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The dependencies come from this environment's site-packages, added as a plain path:
    # its .pth files (among them this checkout's editable install) are not processed.
    new_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(new_site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [str(env_dir / "bin" / "llmctl"), "list", "--group", "writer", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, LLMCTL_HOME=str(tmp_path / "home")),
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) > 20
    where = subprocess.run(
        [str(python), "-c", "import llmctl.paths as p; print(p.bundled_catalog_path())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert str(env_dir) in where and "site-packages" in where


def test_pick_book_job_families_as_a_process(proc):
    assert proc("book", "default", "set", "moby", "writer", "gpt4o").returncode == 0
    result = proc("pick", "--book", "moby", "--job", "draft_chapter", env={"OPENAI_API_KEY": "sk-e2e-test"})
    assert (result.returncode, result.stdout) == (0, "openai/gpt-4o\n")
    explained = proc("pick", "--book", "moby", "--job", "draft_chapter", "--explain")
    assert explained.returncode == 0 and "book_default" in explained.stdout
    assert "OPENAI_API_KEY is not set" in explained.stdout
    assert json.loads(proc("book", "show", "moby", "--json").stdout)["defaults"] == {
        "writer": "openai/gpt-4o"
    }
    assert "draft_chapter" in proc("job", "list").stdout
    assert proc("pick", "--job", "nope").returncode == 2
    assert proc("pick", "--job", "review_chapter").returncode == 4
    assert "sk-e2e-test" not in result.stdout + result.stderr + explained.stdout + explained.stderr


def test_twenty_processes_setting_twenty_groups_of_one_book(home, proc):
    groups = [f"g{n}" for n in range(20)]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"extra_groups = {json.dumps(groups)}\n")
    assert (
        proc("add", "acme/all", "--provider", "openai", *sum((["--group", g] for g in groups), [])).returncode
        == 0
    )
    env = dict(os.environ, LLMCTL_HOME=str(home))
    procs = [
        subprocess.Popen(
            llmctl_exe() + ["book", "default", "set", "moby", group, "acme/all"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for group in groups
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    book = tomllib.loads((home / "books" / "moby.toml").read_text())
    assert book["defaults"] == {group: "acme/all" for group in groups}


def test_readme_main_command_works_without_keys_or_setup(proc):
    """The README's first command after installing: a pick with its explanation."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Install and run", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    command = block.strip().split("&& ", 1)[1].split()
    assert command[0] == "llmctl"
    result = proc(*command[1:])
    assert result.returncode == 0, result.stderr
    assert "chosen: " in result.stdout and "OPENAI_API_KEY is not set" in result.stdout


def test_readme_first_answer_from_own_server_runs(home, cli, server, monkeypatch):
    """The README's first screen: add an OpenAI-compatible server's model once, then prompt it."""
    from fakeserver import openai_stream

    readme = (ROOT / "README.md").read_text()
    block = readme.split("**A first answer**", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith(("#", "export"))]
    add = next(line for line in lines if line.startswith("llmctl add")).split("#")[0].split()
    prompt = next(line for line in lines if "llmctl prompt --llm" in line)
    variable, rest = prompt.split(" ", 1)[0].split("=", 1)[0], prompt.split("llmctl ", 1)[1]
    assert cli(*add[1:]).exit_code == 0
    server.add("/v1/chat/completions", openai_stream(["Hel", "lo"]))
    monkeypatch.setenv(variable, server.url + "/v1")
    result = cli(*shlex.split(rest))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hello\n"
    assert server.requests[0]["json"]["model"] == add[add.index("--model") + 1]


def test_readme_python_example_runs(home, cli):
    readme = (ROOT / "README.md").read_text()
    code = readme.split("### Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    env = dict(os.environ, LLMCTL_HOME=str(home), OPENAI_API_KEY="sk-readme", OPENROUTER_API_KEY="sk-readme")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr


def test_usage_errors_are_one_line(proc):
    result = proc("edit", "gpt4o", "--priority", "abc")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("llmctl: error: Invalid value for '--priority'")
    assert len(result.stderr.splitlines()) == 2 and "╭" not in result.stderr
    result = proc("pik")
    assert result.returncode == 2 and "Did you mean 'pick'?" in result.stderr.splitlines()[0]


def test_a_closed_pipe_is_not_an_error(home, tmp_path):
    # Far more output than a pipe holds, so the reader is gone while llmctl still writes
    # (in the middle, or in the last flush as the interpreter exits).
    big = write_json(tmp_path / "big.json", {"llms": [entry(f"acme/model-{n}") for n in range(3000)]})
    cmd = " ".join(llmctl_exe()) + " list --all | head -1"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(big)),
        check=False,
    )
    assert result.returncode == 0 and result.stdout.startswith("ID ")
    assert "Broken" not in result.stderr and "Traceback" not in result.stderr
    # A reader gone before llmctl writes at all: its one write comes as the process ends.
    quick = " ".join(llmctl_exe()) + " list --group writer | true"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {quick}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, LLMCTL_HOME=str(home)),
        check=False,
    )
    assert result.returncode == 0 and "Broken" not in result.stderr and "Exception" not in result.stderr


def test_file_system_problems_are_reported_not_tracebacks(proc, home):
    (home / "books" / "moby.toml").mkdir(parents=True)
    result = proc("book", "default", "set", "moby", "writer", "gpt4o")
    assert result.returncode == 3 and "moby.toml" in result.stderr and "Traceback" not in result.stderr
    assert proc("book", "list", "--json").stdout.strip() == "[]"


def test_entry_family_as_a_process(proc, home):
    assert (
        proc(
            "add",
            "acme/e2e",
            "--provider",
            "openai",
            "--group",
            "writer",
            "--input-cost",
            "1",
            "--output-cost",
            "2",
        ).returncode
        == 0
    )
    assert proc("disable", "acme/e2e", "gpt4o").returncode == 0
    assert json.loads(proc("show", "acme/e2e", "--json").stdout)["enabled"] is False
    assert proc("enable", "acme/e2e").returncode == 0
    removed = proc("remove", "acme/e2e", "gpt4o")
    assert removed.returncode == 0 and "disabled in your catalog" in removed.stderr
    assert proc("show", "acme/e2e").returncode == 2
    assert [r["command"] for r in json.loads(proc("audit", "--json").stdout)] == [
        "add",
        "disable",
        "disable",
        "enable",
        "remove",
    ]  # gpt4o was already disabled: no second change


def test_deployment_family_as_a_process(proc, home):
    added = proc("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter", "--weight", "0.5")
    assert added.returncode == 0 and added.stdout == "added openai/gpt-4o@or\n", added.stderr
    assert proc("deployment", "edit", "gpt4o", "or", "--order", "2").returncode == 0
    rows = json.loads(proc("deployment", "list", "gpt4o", "--json", env={"OPENROUTER_API_KEY": "x"}).stdout)
    assert [(r["id"], r["weight"], r["order"], r["key_set"]) for r in rows] == [
        ("openai", 1.0, 1, False),
        ("or", 0.5, 2, True),
    ]
    assert proc("deployment", "remove", "gpt4o", "openai").returncode == 0
    last = proc("deployment", "remove", "gpt4o", "or")
    assert last.returncode == 2 and last.stderr.startswith("llmctl: error: ")
    assert json.loads(proc("show", "gpt4o", "--json").stdout)["provider"] == "openrouter"
    assert proc("catalog", "validate").returncode == 0
    assert [r["command"] for r in json.loads(proc("audit", "--json").stdout)] == ["deployment"] * 3


def test_completion_and_providers_families_as_a_process(proc):
    script = proc("completion", "bash")
    assert script.returncode == 0 and "_LLMCTL_COMPLETE=complete_bash" in script.stdout
    providers = json.loads(proc("providers", "list", "--json").stdout)
    assert {p["provider"] for p in providers} >= {"openai", "anthropic", "ollama", "openrouter", "azure"}


def test_usage_and_cooldown_families_as_a_process(proc, home):
    (home / "state").mkdir(parents=True, exist_ok=True)
    (home / "state" / "cooldown.json").write_text('{"llm:openai/gpt-4o": {"failures": 2}}')
    usage = proc("usage", "--json", "--since", "7d")
    assert usage.returncode == 0, usage.stderr
    assert json.loads(usage.stdout)["total"]["requests"] == 0
    listed = proc("cooldown", "list", "--json")
    assert [r["key"] for r in json.loads(listed.stdout)] == ["llm:openai/gpt-4o"]
    assert proc("cooldown", "clear", "gpt4o").stdout == "cleared llm:openai/gpt-4o\n"


def test_the_last_flush_to_a_closed_pipe_ends_quietly(monkeypatch):
    """What is left in stdout's buffer is written as llmctl ends; a reader gone by then is
    not an error (Python would print "Exception ignored ... BrokenPipeError" and exit 120)."""
    import io

    from llmctl.cli import _flush_stdout

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away
    pipe = io.TextIOWrapper(io.BufferedWriter(io.FileIO(write_end, "w")), encoding="utf-8")
    pipe.write("ID  PROVIDER\n" * 10)
    monkeypatch.setattr("sys.stdout", pipe)
    _flush_stdout()  # no BrokenPipeError
    pipe.write("more\n")
    pipe.flush()  # stdout now leads nowhere: nothing can fail at exit
    pipe.close()
