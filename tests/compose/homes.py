"""A home whose jobs carry work: templates inline and in files, variables, a schema."""

from __future__ import annotations

import json
from pathlib import Path

# What must arrive byte for byte: a dollar, Jinja syntax of every kind, and JSON.
TRICKY = '$10 {{ 7*7 }} {# {% raw %} {"a": [1, {"b": "{{c}}"}], "d": "$x"}'

JOBS = """
[jobs.draft]
group = "writer"
system = "You write {{ genre }}."
prompt = \"\"\"
Chapter {{ n }}, told by {{ pov }}.
Style: {{ style }}
\"\"\"
params = { temperature = 0.7, max_tokens = 900 }

[jobs.draft.vars.pov]
required = true
description = "who tells it"

[jobs.draft.vars.n]
default = "1"

[jobs.draft.vars.genre]
default = "novels"

[jobs.draft.vars.style]
file = true
default = "styles/plain.md"

[jobs.tag]
group = "tagger"
prompt_file = "prompts/tag.j2"
schema_file = "schemas/tags.json"

[jobs.tag.vars.mood]

[jobs.loose]
group = "writer"
prompt = "Summarise this."

[jobs.placed]
group = "writer"
prompt = "Before {{ input }} after {{ who }}\\n"
vars = { who = { default = "me" } }
"""

TAG_TEMPLATE = """Tag the scenes.
{% if mood %}Mood: {{ mood }}
{% endif %}Text:
{{ input }}
"""

TAGS_SCHEMA = {
    "type": "object",
    "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["tags"],
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_jobs_home(home: Path) -> Path:
    """Write jobs.toml, a prompt file, a schema file and a style file into `home`."""
    write(home / "jobs.toml", JOBS)
    write(home / "prompts" / "tag.j2", TAG_TEMPLATE)
    write(home / "schemas" / "tags.json", json.dumps(TAGS_SCHEMA))
    write(home / "styles" / "plain.md", "Plain words.\n")
    return home
