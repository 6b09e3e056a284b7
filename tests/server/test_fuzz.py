"""A bounded fuzz of `llmctl serve`: random methods, paths, queries, headers and bodies
(JSON of any shape, and shapes close to what each endpoint takes) against the real app.
Whatever comes in, the answer is never a 500 and the log never holds a traceback; every
error is the JSON error object."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BASE = "http://127.0.0.1:8765"
NAMES = [
    "openai/first",
    "openai/second",
    "openai/emb",
    "job:draft_chapter",
    "book:moby/draft_chapter",
    "moby",
]
ROUTES = {  # each route and the methods it takes
    "/v1/chat/completions": ["POST"],
    "/v1/embeddings": ["POST"],
    "/v1/models": ["GET"],
    "/v1/models/{}": ["GET"],
    "/api/llms/": ["GET"],
    "/api/llms/{}": ["GET"],
    "/api/books/{}": ["GET"],
    "/api/books/{}/defaults/{}": ["PUT", "DELETE"],
    "/api/books/{}/override": ["PUT", "DELETE"],
    "/api/pick": ["GET"],
    "/api/usage": ["GET"],
    "/{}": ["GET"],
}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
QUERY_NAMES = ["since", "until", "by", "group", "tier", "llm", "book", "job", "available", "all", "strategy"]

text = st.text(max_size=12)
names = st.one_of(st.sampled_from(NAMES + ["writer", "..", "%2F", "a/b/c"]), text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
roles = st.sampled_from(["user", "system", "developer", "assistant"])
messages = st.one_of(
    st.lists(st.fixed_dictionaries({"role": roles, "content": text}), min_size=1, max_size=3),
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {"role": st.one_of(st.sampled_from(["user", "system", "assistant", "tool"]), json_values)},
            optional={"content": st.one_of(text, json_values)},
        ),
        max_size=3,
    ),
)
models = st.one_of(st.sampled_from(NAMES), json_values)
chat = st.fixed_dictionaries(
    {"model": models, "messages": messages},
    optional={
        "stream": st.one_of(st.booleans(), json_values),
        "temperature": st.one_of(st.floats(0, 2), json_values),
        "max_tokens": json_values,
        "stream_options": json_values,
        "llmctl": st.one_of(
            json_values,
            st.dictionaries(st.sampled_from(["scope", "max_cost", "no_fallback", "cache"]), json_values),
        ),
        "n": json_values,
    },
)
embedding = st.fixed_dictionaries(
    {"model": models, "input": st.one_of(text, st.lists(text, max_size=3), json_values)},
    optional={"encoding_format": st.one_of(st.sampled_from(["float", "base64"]), json_values)},
)
book_change = st.fixed_dictionaries({"llm": models}, optional={"extra": json_values})
bodies = st.one_of(
    st.none(),
    st.one_of(chat, embedding, book_change).map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda b: json.dumps(b).encode()),
    st.binary(max_size=40),
)
BODY_OF = {"completions": chat, "embeddings": embedding, "{}": book_change, "override": book_change}
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
HEADER_NAMES = ["content-type", "origin", "host", "authorization", "accept", "content-length", "x-other"]


@st.composite
def headers(draw, body: bytes | None) -> dict[str, str]:
    """Mostly what a local program sends (so the endpoints see the bodies); now and then
    one header of any value."""
    usual = draw(st.sampled_from([True] * 9 + [False]))
    out = {"content-type": "application/json"} if body is not None and usual else {}
    if draw(st.sampled_from([False] * 3 + [True])):
        out[draw(st.sampled_from(HEADER_NAMES))] = draw(header_values)
    return out


@st.composite
def requests(draw):
    route = draw(st.sampled_from(list(ROUTES)))
    path = route.format(*(quote(draw(names), safe="/:") for _ in range(route.count("{}"))))
    query = draw(st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), text), text, max_size=3))
    method = draw(st.sampled_from(ROUTES[route] * 4 + METHODS))
    fitting = BODY_OF.get(route.split("/")[-1], json_values).map(lambda b: json.dumps(b).encode())
    body = draw(st.one_of(fitting, bodies))
    return method, path, query, draw(headers(body)), body


def test_no_request_gets_a_500_or_logs_a_traceback(home, team, server, caplog):
    from starlette.testclient import TestClient

    from llmctl.paths import Home
    from llmctl.server.app import create_app

    (home / "jobs.toml").write_text('[jobs.chat]\ngroup = "writer"\n')
    lines: list[str] = []
    app = create_app(Home.resolve(home), log=lines.append)
    with TestClient(app, base_url=BASE, raise_server_exceptions=True) as http:
        # No time checks: a busy machine must not fail the test (it counts examples, not time).
        slow = [HealthCheck.too_slow, HealthCheck.data_too_large]

        @settings(max_examples=250, deadline=None, database=None, suppress_health_check=slow)
        @given(requests())
        def one(request) -> None:
            method, path, query, sent, body = request
            answer = http.request(method, path, params=query, headers=sent, content=body)
            assert answer.status_code != 500, (request, answer.text)
            if answer.status_code >= 400 and method != "HEAD":
                assert isinstance(answer.json()["error"]["message"], str), (request, answer.text)

        with caplog.at_level(logging.WARNING):
            one()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert all("\n" not in line for line in lines)
