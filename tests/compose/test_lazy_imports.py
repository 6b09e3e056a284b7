"""Jinja2 and jsonschema load only when a template or a schema needs them: never for
`pick`, `list` or the shell's completion, even with jobs that carry templates."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
import os, sys
from llmctl.cli import app

def run(args, env=None):
    os.environ.update(env or {})
    try:
        app(args, prog_name="llmctl")
    except SystemExit:
        pass
    for name in env or {}:
        del os.environ[name]

run(["pick", "draft", "--json"])
run(["list", "--group", "writer"])
run([], {"_LLMCTL_COMPLETE": "complete_bash", "COMP_WORDS": "llmctl job render d", "COMP_CWORD": "3"})
run(["job", "list"])
print("LOADED", sorted({k.split(".")[0] for k in sys.modules} & {"jinja2", "jsonschema", "markupsafe"}))
run(["job", "render", "tag", "x"])
print("LOADED", sorted({k.split(".")[0] for k in sys.modules} & {"jinja2", "jsonschema"}))
"""


def test_pick_list_and_completion_import_neither_jinja2_nor_jsonschema(jobs_home):
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        env=dict(os.environ, LLMCTL_HOME=str(jobs_home)),
        timeout=60,
    )
    loaded = [line for line in out.stdout.splitlines() if line.startswith("LOADED")]
    assert "draft" in out.stdout  # the completion ran and offered the home's job
    assert loaded == ["LOADED []", "LOADED ['jinja2', 'jsonschema']"], out.stderr
