"""Variables: command line over book over job, files, `@FILE`, `@-`, vars files, and the
errors of each (exit 2 for what the command line names, 3 for the home's files)."""

from __future__ import annotations

import pytest

from compose.homes import write
from llmctl.compose.variables import Given, parse_var_options, read_vars_file, resolve
from llmctl.errors import FileError, TemplateError, UsageError
from llmctl.prefs.books import load_book
from llmctl.prefs.config import load_config
from llmctl.prefs.jobs import load_jobs

BOOK = """
[jobs.draft.vars]
pov = "Ishmael"
genre = "sea stories"
style = "styles/moby.md"
"""


def job(h, name="draft"):
    return load_jobs(h, load_config(h))[name]


def book(h, text=BOOK, name="moby"):
    write(h.books_dir / f"{name}.toml", text)
    return load_book(h, name)


def values(h, given=None, with_book=True, name="draft"):
    found = resolve(job(h, name), home=h, given=given or {}, book=book(h) if with_book else None)
    return {k: (v.value, v.source) for k, v in found.items()}


def test_the_command_line_wins_over_the_book(h):
    write(h.config_dir / "styles" / "moby.md", "Long.\n")
    assert values(h, {"pov": "Ahab"})["pov"] == ("Ahab", "cli")


def test_the_command_line_wins_over_the_job(h):
    assert values(h, {"n": "7", "pov": "x"}, with_book=False)["n"] == ("7", "cli")


def test_the_book_wins_over_the_job(h):
    write(h.config_dir / "styles" / "moby.md", "Long.\n")
    got = values(h)
    assert got["genre"] == ("sea stories", "book:moby")
    assert got["style"] == ("Long.\n", "book:moby")  # a file variable: the file's text, as it is
    assert got["n"] == ("1", "job")


def test_the_job_default_of_a_file_variable_is_read_from_the_home(h):
    assert values(h, {"pov": "x"}, with_book=False)["style"] == ("Plain words.\n", "job")


def test_an_empty_default_of_a_file_variable_is_no_text(h):
    write(h.config_dir / "jobs.toml", '[jobs.plain]\ngroup = "writer"\nvars.style = { file = true, default = "" }\n')
    found = resolve(job(h, "plain"), home=h, given={}, book=None)
    assert (found["style"].value, found["style"].source) == ("", "job")


def test_a_file_variable_on_the_command_line_is_a_path_from_the_working_directory(h, tmp_path, monkeypatch):
    write(tmp_path / "mine.md", "Mine.")
    monkeypatch.chdir(tmp_path)
    assert values(h, {"pov": "x", "style": "mine.md"}, with_book=False)["style"] == ("Mine.", "cli")


def test_a_book_file_value_is_read_from_the_home(h):
    write(h.config_dir / "moby" / "pov.txt", "Ishmael, again\n")
    moby = book(h, '[jobs.draft.vars]\npov = { file = "moby/pov.txt" }\n')
    found = resolve(job(h), home=h, given={}, book=moby)
    assert (found["pov"].value, found["pov"].source, found["pov"].path) == (
        "Ishmael, again\n",
        "book:moby",
        h.config_dir / "moby" / "pov.txt",
    )


def test_a_missing_required_variable_names_job_and_variable(h):
    with pytest.raises(TemplateError) as caught:
        values(h, with_book=False)
    assert caught.value.exit_code == 2
    assert caught.value.message == "job 'draft': variable 'pov' is required (who tells it)"
    assert caught.value.hint == "pass --var pov=VALUE"


def test_an_unknown_variable_suggests_the_closest(h):
    with pytest.raises(TemplateError) as caught:
        values(h, {"pvo": "x"}, with_book=False)
    assert caught.value.exit_code == 2
    assert caught.value.message == "job 'draft': unknown variable 'pvo'; did you mean 'pov'?"


def test_a_book_value_of_an_unknown_variable_is_a_problem_of_the_book_file(h):
    moby = book(h, "[jobs.draft.vars]\npov = 'x'\ngenra = 'y'\n")
    with pytest.raises(FileError) as caught:
        resolve(job(h), home=h, given={}, book=moby)
    assert caught.value.exit_code == 3
    assert caught.value.line == 3
    assert "did you mean 'genre'" in caught.value.message


def test_files_named_by_the_home_that_cannot_be_read_are_exit_3(h):
    (h.config_dir / "styles" / "plain.md").unlink()
    with pytest.raises(FileError, match="plain.md: no such file") as caught:
        values(h, {"pov": "x"}, with_book=False)
    assert caught.value.exit_code == 3
    assert "default of variable 'style'" in caught.value.hint
    write(h.config_dir / "styles" / "plain.md", "")
    (h.config_dir / "styles" / "moby.md").write_bytes(b"\xff\xfe bad")
    with pytest.raises(FileError, match="is not UTF-8"):
        values(h)


def test_files_named_on_the_command_line_that_cannot_be_read_are_exit_2(h, tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"caf\xe9")
    for path in (bad, tmp_path / "missing.md"):
        with pytest.raises(TemplateError) as caught:
            values(h, {"pov": "x", "style": str(path)}, with_book=False)
        assert caught.value.exit_code == 2
        assert caught.value.variable == "style"
        with pytest.raises(UsageError) as caught:
            parse_var_options([f"pov=@{path}"], read_stdin=lambda: "")
        assert caught.value.exit_code == 2
        with pytest.raises(UsageError):
            read_vars_file(path)


def test_var_options(tmp_path):
    write(tmp_path / "v.txt", "from a file\n")
    got = parse_var_options(
        ["a=1", "b=x=y", f"c=@{tmp_path / 'v.txt'}", "d=@-", "e=", "a=2"], read_stdin=lambda: "piped\n"
    )
    assert {k: v.value for k, v in got.items()} == {
        "a": "2",
        "b": "x=y",
        "c": "from a file\n",
        "d": "piped\n",
        "e": "",
    }
    assert got["c"].path == tmp_path / "v.txt"
    for bad in (["novalue"], ["=x"], ["a=@-", "b=@-"]):
        with pytest.raises(UsageError):
            parse_var_options(bad, read_stdin=lambda: "")


def test_vars_files_in_toml_and_json(tmp_path):
    toml = write(tmp_path / "v.toml", 'pov = "Ahab"\nn = "3"\n')
    json_file = write(tmp_path / "v.json", '{"pov": "Ahab", "n": "3"}')
    for path in (toml, json_file):
        assert read_vars_file(path) == {"pov": Given("Ahab"), "n": Given("3")}
    with pytest.raises(UsageError, match="must hold a table"):
        read_vars_file(write(tmp_path / "list.json", "[1, 2]"))
    with pytest.raises(UsageError, match="invalid TOML"):
        read_vars_file(write(tmp_path / "broken.toml", "pov = \n"))
