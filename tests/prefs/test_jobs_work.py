"""jobs.toml's work fields and a book's job values: validated, each problem at its line."""

from __future__ import annotations

import pytest
from compose.homes import write

from llmctl.errors import FileError
from llmctl.paths import Home
from llmctl.prefs.books import FileValue, change_book, load_book
from llmctl.prefs.config import load_config
from llmctl.prefs.jobs import field_origin, load_jobs


@pytest.fixture
def h(home):
    return Home.resolve(home)


def jobs(h, text):
    write(h.jobs_file, text)
    return load_jobs(h, load_config(h))


def test_a_job_carries_its_work(h):
    job = jobs(
        h,
        '[jobs.tag_scenes]\nprompt = "Tag {{ input }}"\nparams = { temperature = 0.2, stop = ["END"] }\n'
        'schema = { type = "object" }\n[jobs.tag_scenes.vars.mood]\ndefault = "calm"\ndescription = "tone"\n',
    )["tag_scenes"]
    assert (job.prompt, job.json_schema, job.answers_json) == ("Tag {{ input }}", {"type": "object"}, True)
    assert job.params.to_dict() == {"temperature": 0.2, "stop": ["END"]}
    assert job.vars["mood"].to_dict() == {
        "required": False,
        "default": "calm",
        "description": "tone",
        "file": False,
    }
    assert (field_origin(job, "prompt"), field_origin(job, "group")) == ("jobs file", "bundled jobs")
    assert job.path == h.jobs_file


def test_a_job_without_work_behaves_as_before(h):
    job = load_jobs(h, load_config(h))["copyedit"]
    assert (job.has_work, job.answers_json, job.vars, job.params.to_dict()) == (False, False, {}, {})


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            '[jobs.a]\ngroup = "writer"\nprompt = "x"\nprompt_file = "p.md"\n',
            1,
            "`prompt` or `prompt_file`, not both",
        ),
        ('[jobs.a]\ngroup = "writer"\noutput = "text"\nschema = { type = "object" }\n', 1, "set output"),
        ('[jobs.a]\ngroup = "writer"\noutput = "yaml"\n', 3, "'text' or 'json'"),
        (
            '[jobs.a]\ngroup = "writer"\n\n[jobs.a.vars.x]\nrequired = true\ndefault = "y"\n',
            4,
            "takes no default",
        ),
        ('[jobs.a]\ngroup = "writer"\n\n[jobs.a.vars.x]\nrequird = true\n', 5, "did you mean 'required'"),
        ('[jobs.a]\ngroup = "writer"\n[jobs.a.vars.input]\n', 3, "taken"),
        ('[jobs.a]\ngroup = "writer"\n[jobs.a.vars.2nd]\n', 3, "a name is a letter"),
        ('[jobs.a]\ngroup = "writer"\n\n[jobs.a.params]\ntemperature = 5\n', 5, "less than or equal to 2"),
        ('[jobs.a]\ngroup = "writer"\nparams = { tempreature = 1 }\n', 3, "did you mean 'temperature'"),
    ],
)
def test_work_fields_are_checked_with_file_and_line(h, text, line, says):
    with pytest.raises(FileError) as caught:
        jobs(h, text)
    assert caught.value.line == line
    assert says in caught.value.message
    assert caught.value.exit_code == 3


def test_a_book_sets_job_values_and_keeps_them_through_edits(h):
    write(
        h.books_dir / "moby.toml",
        '[jobs.draft_chapter.vars]\npov = "Ishmael"\nstyle = { file = "moby/style.md" }\n',
    )
    book = load_book(h, "moby")
    assert book.job_vars("draft_chapter") == {"pov": "Ishmael", "style": FileValue("moby/style.md")}
    assert book.job_vars("copyedit") == {}
    assert book.to_dict()["jobs"] == {
        "draft_chapter": {"vars": {"pov": "Ishmael", "style": {"file": "moby/style.md"}}}
    }
    from llmctl.catalog.load import load_catalog

    change_book(h, load_catalog(h), "moby", "book default set", group="writer", llm="gpt4o")
    again = load_book(h, "moby")
    assert (again.defaults, again.job_vars("draft_chapter")) == (
        {"writer": "openai/gpt-4o"},
        book.job_vars("draft_chapter"),
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('\n[jobs.d.vars]\npov = "x"\nstyle = { fil = "s.md" }\n', 4, "a value is text or { file"),
        ("\n[jobs.d.vars]\npov = 3\n", 3, "a value is text"),
        ("[jobs.d]\nvar = 1\n", 2, "did you mean 'vars'"),
    ],
)
def test_bad_book_job_values_name_file_and_line(h, text, line, says):
    write(h.books_dir / "moby.toml", text)
    with pytest.raises(FileError) as caught:
        load_book(h, "moby")
    assert (caught.value.line, caught.value.exit_code) == (line, 3)
    assert says in caught.value.message
