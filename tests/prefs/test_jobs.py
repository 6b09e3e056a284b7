"""Job types: the bundled ones, jobs.toml adding and patching them, its problems."""

from __future__ import annotations

import pytest

from llmctl.errors import FileError, UnknownNameError
from llmctl.prefs.config import load_config
from llmctl.prefs.jobs import get_job, load_jobs


def test_bundled_jobs(h):
    jobs = load_jobs(h, load_config(h))
    expected = {
        "draft_chapter": "writer",
        "copyedit": "editor",
        "tag_scenes": "tagger",
        "plan_outline": "thinker",
        "review_chapter": "reviewer",
        "explicit_scene": "explicit",
    }
    for name, group in expected.items():
        assert jobs[name].group == group and jobs[name].origin == "bundled jobs"


def test_user_jobs_add_and_patch(h):
    h.config_dir.mkdir(parents=True)
    h.jobs_file.write_text(
        '[jobs.copyedit]\ntier = "economy"\n\n[jobs.blurb]\ngroup = "writer"\n'
        'capabilities = ["json"]\nmin_context = 4000\n'
    )
    jobs = load_jobs(h, load_config(h))
    assert (jobs["copyedit"].group, jobs["copyedit"].tier, jobs["copyedit"].patched) == (
        "editor",
        "economy",
        ("tier",),
    )
    assert jobs["blurb"].to_dict() == {
        "name": "blurb",
        "group": "writer",
        "tier": None,
        "capabilities": ["json"],
        "min_context": 4000,
        "description": None,
        "origin": "jobs file",
    }


def test_bad_jobs_file(h):
    h.config_dir.mkdir(parents=True)
    h.jobs_file.write_text('[jobs.a]\ngroup = "writer"\n\n[jobs.b]\ngroup = "writr"\n')
    with pytest.raises(FileError) as info:
        load_jobs(h, load_config(h))
    assert info.value.line == 5 and info.value.entry == "b" and "did you mean 'writer'" in info.value.message
    h.jobs_file.write_text('[jobs.c]\ntier = "economy"\n')
    with pytest.raises(FileError, match="needs `group`"):
        load_jobs(h, load_config(h))


def test_unknown_job_suggests(h):
    with pytest.raises(UnknownNameError) as info:
        get_job(load_jobs(h, load_config(h)), "draft_chaptre")
    assert info.value.suggestions[0] == "draft_chapter"
