"""Small edges of entries and queries: NaN, 64-bit integers, empty names, readable values."""

from __future__ import annotations

import pytest

from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import error_message


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--quality", "nan"], "finite number"),
        (["--input-cost", "inf"], "finite number"),
        (["--context", str(2**64)], "less than or equal to 9223372036854775807"),
        (["--priority", str(2**70)], "less than or equal to 9223372036854775807"),
        (["--name", ""], "at least 1 character"),
        (["--company", "   "], "at least 1 character"),
    ],
)
def test_bad_edit_values_are_refused(cli, home, args, problem):
    result = cli("edit", "gpt4o", *args)
    assert result.exit_code == 2 and problem in result.stderr
    assert not (home / "catalog.toml").exists()


@pytest.mark.parametrize("option", ["--max-input-cost", "--max-output-cost"])
def test_list_refuses_nan_limits(cli, option):
    result = cli("list", option, "nan")
    assert result.exit_code == 2 and "must be a number of 0 or more" in result.stderr


def test_error_bodies_read_as_text_not_python_reprs():
    assert error_message('{"detail": {"reason": "quota", "limit": 5}}') == '{"reason": "quota", "limit": 5}'
    assert error_message('{"error": {"code": 7}}') == '{"code": 7}'
    assert error_message("[1, true, null]") == "[1, true, null]"
    assert Endpoint("p", "openai_compat", "u", None).redact("no key here") == "no key here"


def test_nothing_fits_without_a_job_says_the_request(cli, tmp_path, monkeypatch):
    path = tmp_path / "one.json"
    path.write_text('{"llms": [{"id": "acme/x", "provider": "openai", "enabled": false}]}')
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    result = cli("pick")
    assert result.exit_code == 4 and "no enabled LLM is valid for the request" in result.stderr
