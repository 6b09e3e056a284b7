"""`llmctl job list`: the bundled job types and those of jobs.toml, with what each needs."""

from __future__ import annotations

import json


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
