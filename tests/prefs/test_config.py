"""config.toml: problems named by file, line and field."""

from __future__ import annotations

import pytest

from llmctl.errors import FileError
from llmctl.prefs.config import load_config


def test_config_problems_name_file_line_and_field(h):
    h.config_dir.mkdir(parents=True)
    h.config_file.write_text(
        'max_attempts = 3\n\n[providers.openrouter]\nheaders = { Authorization = "Bearer x" }\n'
    )
    with pytest.raises(FileError) as info:
        load_config(h)
    assert "credentials live in env vars" in info.value.message and "Bearer x" not in info.value.message
    h.config_file.write_text('extra_groups = ["writer"]\n')
    with pytest.raises(FileError, match="built-in group"):
        load_config(h)
    h.config_file.write_text("max_attempts = 0\n")
    with pytest.raises(FileError) as info:
        load_config(h)
    assert info.value.line == 1 and info.value.field == "max_attempts"
