"""`llmctl job list|show|render|check` through the CLI: what is printed, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from compose.homes import TAGS_SCHEMA, TRICKY, make_jobs_home, write


@pytest.fixture
def jh(home):
    return make_jobs_home(home)


def rendered(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(result, code):
    assert result.exit_code == code, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith("llmctl: error: ")
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[0]


def test_a_jobs_toml_job_is_listed_with_its_origin_and_a_patch_says_what_it_changed(cli, home):
    home.mkdir(parents=True)
    (home / "jobs.toml").write_text(
        '[jobs.summarise]\ngroup = "editor"\nmin_context = 100000\n\n[jobs.copyedit]\ntier = "economy"\n'
    )
    jobs = {j["name"]: j for j in json.loads(cli("job", "list", "--json").stdout)}
    assert jobs["summarise"]["group"] == "editor" and jobs["summarise"]["min_context"] == 100000
    assert "draft_chapter" in jobs  # the bundled ones stay
    table = cli("job", "list")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == [
        "JOB",
        "GROUP",
        "TIER",
        "CAPABILITIES",
        "MIN",
        "CONTEXT",
        "FROM",
    ]
    row = next(line for line in table.stdout.splitlines() if line.startswith("copyedit "))
    assert "economy" in row and "(patched: tier)" in row


def test_a_broken_jobs_toml_is_exit_3_naming_the_file(cli, home):
    home.mkdir(parents=True)
    (home / "jobs.toml").write_text("[jobs.x]\ngroup = 3\n")
    result = cli("job", "list")
    assert result.exit_code == 3 and result.stderr.startswith(f"llmctl: error: {home / 'jobs.toml'}:2")


def test_render_prints_the_messages(cli, jh):
    result = cli("job", "render", "loose", "The text.")
    assert result.exit_code == 0
    assert result.stdout == "--- user ---\nSummarise this.\n\nThe text.\n"


def test_render_json_shows_each_value_and_its_source(cli, jh):
    write(jh / "books" / "moby.toml", '[jobs.draft.vars]\ngenre = "sea stories"\n')
    out = rendered(cli("job", "render", "draft", "go", "--book", "moby", "--var", "pov=Ahab", "--json"))
    assert {k: (v["value"], v["source"]) for k, v in out["vars"].items()} == {
        "pov": ("Ahab", "cli"),
        "n": ("1", "job"),
        "genre": ("sea stories", "book:moby"),
        "style": ("Plain words.\n", "job"),
    }
    assert out["vars"]["style"]["file"] == str(jh / "styles" / "plain.md")
    assert out["messages"][0] == {"role": "system", "content": "You write sea stories."}
    assert (out["job"], out["book"], out["output"], out["params"]["temperature"]) == (
        "draft",
        "moby",
        "text",
        0.7,
    )
    assert len(out["template_hash"]) == 16


def test_tricky_text_through_a_value_a_file_variable_and_stdin_arrives_byte_for_byte(cli, jh, tmp_path):
    style = write(tmp_path / "style.md", TRICKY)
    result = cli(
        "job", "render", "draft", "--var", f"pov={TRICKY}", "--var", f"style={style}", "--json", input=TRICKY
    )
    content = rendered(result)["messages"][-1]["content"]
    assert content == f"Chapter 1, told by {TRICKY}.\nStyle: {TRICKY}\n\n{TRICKY}"


def test_a_value_from_at_file_and_from_at_stdin(cli, jh, tmp_path):
    mood = write(tmp_path / "mood.txt", TRICKY + "\n")
    out = rendered(cli("job", "render", "tag", "the text", "--var", f"mood=@{mood}", "--json"))
    assert out["messages"][-1]["content"] == f"Tag the scenes.\nMood: {TRICKY}\n\nText:\nthe text\n"
    out = rendered(cli("job", "render", "tag", "the text", "--var", "mood=@-", "--json", input=TRICKY))
    assert out["vars"]["mood"]["value"] == TRICKY  # stdin went to the variable, TEXT is the input
    assert out["messages"][-1]["content"].endswith("Text:\nthe text\n")
    assert (out["output"], out["schema"]) == ("json", TAGS_SCHEMA)


def test_var_wins_over_vars_file_key_by_key(cli, jh, tmp_path):
    vars_file = write(tmp_path / "v.json", json.dumps({"pov": "file", "n": "9"}))
    out = rendered(
        cli("job", "render", "draft", "x", "--vars-file", str(vars_file), "--var", "pov=cli", "--json")
    )
    assert (out["vars"]["pov"]["value"], out["vars"]["n"]["value"]) == ("cli", "9")
    assert out["vars"]["n"]["source"] == "cli"


def test_a_missing_required_variable_is_exit_2_naming_job_and_variable(cli, jh):
    line = one_line_error(cli("job", "render", "draft", "x"), 2)
    assert line == "llmctl: error: job 'draft': variable 'pov' is required (who tells it)"


def test_an_unknown_var_is_exit_2_with_did_you_mean(cli, jh):
    line = one_line_error(cli("job", "render", "draft", "x", "--var", "pvo=1"), 2)
    assert line == "llmctl: error: job 'draft': unknown variable 'pvo'; did you mean 'pov'?"


def test_a_template_syntax_error_is_exit_2_with_file_and_line(cli, jh):
    write(jh / "prompts" / "tag.j2", "Tag.\n{% if mood %}\n")
    line = one_line_error(cli("job", "render", "tag", "x"), 2)
    assert line.startswith(f"llmctl: error: job 'tag': {jh / 'prompts' / 'tag.j2'}:")
    assert "prompt template: Unexpected end of template" in line


def test_a_template_reaching_into_python_internals_is_exit_2(cli, jh):
    write(jh / "prompts" / "tag.j2", "{{ ''.__class__.__mro__ }}")
    line = one_line_error(cli("job", "render", "tag", "x"), 2)
    assert "reaches into Python internals" in line


def test_variable_files_that_cannot_be_read(cli, jh, tmp_path):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9")
    for args in (
        ["--var", f"mood=@{tmp_path / 'none.txt'}"],
        ["--var", f"mood=@{latin1}"],
        ["--vars-file", str(latin1)],
    ):
        one_line_error(cli("job", "render", "tag", "x", *args), 2)
    (jh / "styles" / "plain.md").write_bytes(b"\xff")  # a file of the user's home
    line = one_line_error(cli("job", "render", "draft", "x", "--var", "pov=p"), 3)
    assert "plain.md: is not UTF-8 text" in line


def test_an_invalid_schema_is_exit_3(cli, jh):
    write(jh / "schemas" / "tags.json", '{"type": "objekt"}')
    assert "not valid JSON Schema" in one_line_error(cli("job", "render", "tag", "x"), 3)


def test_show_says_where_each_part_comes_from(cli, jh):
    write(jh / "books" / "moby.toml", '[jobs.draft.vars]\npov = "Ishmael"\n')
    out = rendered(cli("job", "show", "draft", "--book", "moby", "--json"))
    assert out["group"] == {"value": "writer", "from": "jobs file"}
    assert out["system"] == {"text": "You write {{ genre }}.", "from": "jobs file"}
    assert (out["vars"]["pov"]["value"], out["vars"]["pov"]["source"]) == ("Ishmael", "book:moby")
    assert out["params"]["max_tokens"] == {"value": 900, "from": "jobs file"}
    tag = rendered(cli("job", "show", "tag", "--json"))
    assert tag["prompt"]["from"] == str(jh / "prompts" / "tag.j2")
    assert (tag["schema"]["from"], tag["output"]["value"]) == ("schemas/tags.json", "json")
    plain = cli("job", "show", "draft")
    assert plain.exit_code == 0 and "--- prompt (jobs file) ---\nChapter {{ n }}" in plain.stdout


def test_check_is_0_when_every_job_is_sound(cli, jh):
    result = cli("job", "check")
    assert (result.exit_code, result.stdout) == (0, "ok  11 jobs\n")


def test_check_takes_an_empty_file_default_as_no_text(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "jobs.toml").write_text(
        '[jobs.plain]\ngroup = "writer"\nprompt = "{{ style }}"\nvars.style = { file = true, default = "" }\n'
    )
    result = cli("job", "check")
    assert result.exit_code == 0, result.stderr
    assert cli("job", "render", "plain", "x").stdout == "--- user ---\nx\n"  # no text, then the input


def test_check_names_file_and_line_of_every_problem(cli, jh):
    jobs = (jh / "jobs.toml").read_text()
    jobs = jobs.replace("Style: {{ style }}", "Style: {{ stlye }}").replace(
        '"You write {{ genre }}."', '"{% if %}"'
    )
    write(jh / "jobs.toml", jobs + '\n[jobs.schema_bad]\ngroup = "writer"\nschema = { type = 3 }\n')
    write(jh / "prompts" / "tag.j2", "ok\n{{ mood }\n")
    write(jh / "books" / "moby.toml", '[jobs.draft.vars]\npvo = "x"\n\n[jobs.drfat.vars]\npov = "y"\n')
    (jh / "styles" / "plain.md").unlink()
    result = cli("job", "check")
    assert result.exit_code == 3
    problems = [line.removeprefix("llmctl: error: ") for line in result.stderr.splitlines()]
    lines = jobs.splitlines()
    system_at = lines.index('system = "{% if %}"') + 1
    style_at = lines.index("Style: {{ stlye }}") + 1
    default_at = lines.index('default = "styles/plain.md"') + 1
    toml = jh / "jobs.toml"
    assert problems == [
        f"{toml}:{system_at}: job 'draft': system template: "
        "Expected an expression, got 'end of statement block'",
        f"{toml}:{style_at}: job 'draft': prompt template uses 'stlye', "
        "which the job does not declare; did you mean 'style'?",
        f"{toml}:{default_at}: job 'draft': vars.style.default: {jh / 'styles' / 'plain.md'}: no such file",
        f"{toml}:{len(lines) + 4}: job 'schema_bad': schema: not valid JSON Schema: "
        "3 is not valid under any of the given schemas (at $.type)",
        f"{jh / 'prompts' / 'tag.j2'}:2: job 'tag': prompt template: unexpected '}}'",
        f"{jh / 'books' / 'moby.toml'}:2: job 'draft' has no variable 'pvo'; did you mean 'pov'?",
        f"{jh / 'books' / 'moby.toml'}:4: unknown job 'drfat'; did you mean 'draft'?",
    ]
    assert rendered_check(cli)["problems"] == problems


def rendered_check(cli):
    result = cli("job", "check", "--json")
    assert result.exit_code == 3
    return json.loads(result.stdout)


def test_check_reports_a_jobs_file_that_does_not_validate(cli, jh):
    write(jh / "jobs.toml", '[jobs.a]\ngroup = "writer"\nprompt = "x"\nprompt_file = "y"\n')
    result = cli("job", "check")
    assert result.exit_code == 3
    assert f"{jh / 'jobs.toml'}:1: entry 'a'" in result.stderr
