"""Rendering a job: its messages, the input's place, values byte for byte, parameters,
the template hash, and errors naming job, variable, file and line with nothing half made."""

from __future__ import annotations

import json

import pytest

import llmctl
from compose.homes import TAGS_SCHEMA, TRICKY, write
from llmctl.compose.api import render_named
from llmctl.compose.render import after_blank_line, template_hash
from llmctl.errors import FileError, TemplateError, UnknownNameError, UsageError


def test_messages_of_a_job_with_system_prompt_and_defaults(h):
    rendered = render_named("draft", given={"pov": "Ishmael"}, input="Call me.", home=h)
    assert rendered.messages == [
        {"role": "system", "content": "You write novels."},
        {"role": "user", "content": "Chapter 1, told by Ishmael.\nStyle: Plain words.\n\nCall me."},
    ]
    assert {k: v.source for k, v in rendered.values.items()} == {
        "pov": "cli",
        "n": "job",
        "genre": "job",
        "style": "job",
    }
    assert rendered.params == {"temperature": 0.7, "max_tokens": 900}
    assert (rendered.output, rendered.schema) == ("text", None)


def test_the_input_after_a_blank_line_when_the_template_does_not_place_it(h):
    assert render_named("loose", input="Text.", home=h).messages[-1]["content"] == "Summarise this.\n\nText."
    assert after_blank_line("a\n", "b") == "a\n\nb"
    assert after_blank_line("a\n\n\n", "b") == "a\n\n\nb"
    assert after_blank_line("", "b") == "b"


def test_the_input_where_the_template_places_it_and_the_trailing_newline_kept(h):
    got = render_named("placed", input="IN", home=h).messages
    assert got == [{"role": "user", "content": "Before IN after me\n"}]


def test_a_job_without_a_template_sends_the_input_alone(h):
    assert llmctl.render("copyedit", input="fix this", home=h) == [{"role": "user", "content": "fix this"}]


def test_an_empty_prompt_is_refused(h):
    with pytest.raises(UsageError, match="the prompt is empty"):
        render_named("copyedit", input="", home=h)


@pytest.mark.parametrize("job", ["draft", "tag"])
def test_tricky_text_arrives_byte_for_byte_through_a_value_a_file_and_the_input(h, job, tmp_path):
    """Through the placeholder way (draft) and through Jinja2 (tag's template has `{% if %}`)."""
    style = write(tmp_path / "style.md", TRICKY + "\n")
    given = {"pov": TRICKY, "style": str(style)} if job == "draft" else {"mood": TRICKY}
    content = render_named(job, given=given, input=TRICKY, home=h).messages[-1]["content"]
    assert content.count(TRICKY) == (3 if job == "draft" else 2)
    assert content.endswith(TRICKY if job == "draft" else TRICKY + "\n")


def test_a_json_job_carries_its_schema(h):
    rendered = render_named("tag", input="x", home=h)
    assert (rendered.output, rendered.schema) == ("json", TAGS_SCHEMA)
    assert rendered.messages[-1]["content"] == "Tag the scenes.\nText:\nx\n"


def test_command_line_parameters_and_schema_win(h):
    schema = {"type": "object"}
    rendered = render_named(
        "draft",
        given={"pov": "x"},
        input="i",
        params={"temperature": 0.1, "top_p": None},
        schema=schema,
        home=h,
    )
    assert rendered.params == {"temperature": 0.1, "max_tokens": 900}
    assert (rendered.schema, rendered.output) == (schema, "json")


def test_the_template_hash_names_the_work_not_the_values(h):
    first = render_named("tag", given={"mood": "a"}, input="x", home=h).template_hash
    assert render_named("tag", given={"mood": "b"}, input="y", home=h).template_hash == first
    write(h.config_dir / "prompts" / "tag.j2", "Tag: {{ input }}\n")  # a changed prompt file
    second = render_named("tag", input="x", home=h).template_hash
    assert second != first and len(second) == 16
    assert render_named("tag", input="x", params={"temperature": 1.0}, home=h).template_hash != second
    assert render_named("copyedit", input="x", home=h).template_hash is None
    assert template_hash("s", None, None, {}) != template_hash(None, "s", None, {})


def test_a_template_syntax_error_in_a_prompt_file_names_job_file_and_line(h):
    write(h.config_dir / "prompts" / "tag.j2", "one\ntwo {% if mood %}\n")
    with pytest.raises(TemplateError) as caught:
        render_named("tag", input="x", home=h)
    path = h.config_dir / "prompts" / "tag.j2"
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith(f"job 'tag': {path}:2: prompt template: ")


def test_an_undeclared_name_in_an_inline_template_names_the_jobs_file_line(h):
    text = (h.config_dir / "jobs.toml").read_text().replace("Style: {{ style }}", "Style: {{ stlye }}")
    write(h.config_dir / "jobs.toml", text)
    with pytest.raises(TemplateError) as caught:
        render_named("draft", given={"pov": "x"}, input="i", home=h)
    line = text.splitlines().index("Style: {{ stlye }}") + 1
    assert (
        caught.value.message
        == f"job 'draft': {h.config_dir / 'jobs.toml'}:{line}: prompt template: 'stlye' is undefined"
    )
    assert caught.value.variable == "stlye"


def test_a_template_reaching_into_python_internals_is_a_clear_error(h):
    write(h.config_dir / "prompts" / "tag.j2", "{{ ''.__class__.__mro__ }}")
    with pytest.raises(TemplateError, match="reaches into Python internals") as caught:
        render_named("tag", input="x", home=h)
    assert caught.value.exit_code == 2


def test_a_schema_that_is_not_json_schema_is_a_problem_of_the_users_file(h):
    write(h.config_dir / "schemas" / "tags.json", json.dumps({"type": "objekt"}))
    with pytest.raises(FileError, match="not valid JSON Schema") as caught:
        render_named("tag", input="x", home=h)
    assert caught.value.exit_code == 3
    text = (
        h.config_dir / "jobs.toml"
    ).read_text() + '\n[jobs.inline]\ngroup = "writer"\nschema = { type = 3 }\n'
    write(h.config_dir / "jobs.toml", text)
    with pytest.raises(FileError, match="not valid JSON Schema") as caught:
        render_named("inline", input="x", home=h)
    assert caught.value.line == len(text.splitlines())


def test_a_missing_prompt_file_is_exit_3_naming_the_job(h):
    (h.config_dir / "prompts" / "tag.j2").unlink()
    with pytest.raises(FileError, match="tag.j2: no such file") as caught:
        render_named("tag", input="x", home=h)
    assert "prompt_file of job 'tag'" in caught.value.hint


def test_python_render_takes_names_and_raises_for_unknown_ones(h):
    messages = llmctl.render("draft", vars={"pov": "P", "n": 3}, input="go", home=h)
    assert messages[-1]["content"].startswith("Chapter 3, told by P.")
    with pytest.raises(UnknownNameError):
        llmctl.render("draftt", home=h)
    write(h.books_dir / "moby.toml", '[jobs.draft.vars]\npov = "Ishmael"\n')
    assert "Ishmael" in llmctl.render("draft", book="moby", input="x", home=h)[-1]["content"]
