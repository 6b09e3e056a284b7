"""`GET /api/usage` at its edges: a window out of the calendar is a 400, a damaged store one
error naming it, never a 500 with a traceback."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def api(gw):
    with httpx.Client(base_url=gw.url, timeout=20) as http:
        yield http


@pytest.mark.parametrize("params", [{"since": "99999999d"}, {"until": "9999-12-31"}])
def test_a_window_out_of_the_calendar_is_400(api, params):
    answer = api.get("/api/usage", params=params)
    assert answer.status_code == 400 and "out of range" in answer.text


def test_a_damaged_store_is_one_error_naming_it(api, home):
    store = home / "usage.sqlite"
    store.write_bytes(b"not a database " * 100)
    answer = api.get("/api/usage")
    error = answer.json()["error"]  # the server's own fault: one JSON error, never a traceback
    assert error["code"] == "file_error" and str(store) in error["message"]
    assert "file is not a database" in error["message"]
