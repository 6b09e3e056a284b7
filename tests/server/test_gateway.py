"""The OpenAI-compatible endpoints, driven by the official `openai` SDK against a real
server, itself sending to a real local upstream (tests/fakeserver.py)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from fakeserver import Reply, openai_chat, openai_stream
from llmctl.engine.usage import UsageStore
from llmctl.paths import Home

openai = pytest.importorskip("openai")

HI = [{"role": "user", "content": "hi"}]
JSON = {"content-type": "application/json"}


def usage_rows(home) -> list[dict]:
    return UsageStore.for_home(Home.resolve(home)).rows()


def wait_for(check, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("waited in vain")
        time.sleep(0.02)
    return found


def test_a_plain_completion_names_the_llm_that_answered_and_is_recorded(client, server, home):
    server.add("/a/v1/chat/completions", openai_chat("Hello there.", 7, 3))
    raw = client.chat.completions.with_raw_response.create(model="openai/first", messages=HI)
    answer = raw.parse()
    assert answer.choices[0].message.content == "Hello there."
    assert answer.model == "openai/first" and answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (
        7,
        3,
        10,
    )
    assert raw.headers["x-llmctl-llm"] == "openai/first"
    assert raw.headers["x-llmctl-attempts"] == "openai/first@openai:ok"
    assert server.requests[-1]["json"]["messages"] == [{"role": "user", "content": "hi"}]
    [row] = usage_rows(home)
    assert (row["llm"], row["outcome"], row["input_tokens"], row["output_tokens"]) == (
        "openai/first",
        "ok",
        7,
        3,
    )


def test_the_chain_falls_back_and_the_headers_list_every_attempt(client, server):
    server.add("/a/v1/chat/completions", *[Reply(503, {"error": "busy"})] * 3)
    server.add("/b/v1/chat/completions", openai_chat("from b"))
    raw = client.chat.completions.with_raw_response.create(
        model="openai/first", messages=HI, temperature=0.2, max_tokens=50, top_p=0.9
    )
    assert raw.parse().model == "openai/second" and raw.parse().choices[0].message.content == "from b"
    assert raw.headers["x-llmctl-llm"] == "openai/second"
    assert raw.headers["x-llmctl-attempts"] == "openai/first@openai:503,openai/second@openai:ok"
    sent = server.requests[-1]["json"]
    assert (sent["temperature"], sent["max_completion_tokens"], sent["top_p"]) == (0.2, 50, 0.9)


def test_models_by_job_and_by_book_are_picked(client, server, home, cli):
    (home / "jobs.toml").write_text('[jobs.chat]\ngroup = "writer"\n')
    server.defaults["/a/v1/chat/completions"] = openai_chat("a")
    server.defaults["/b/v1/chat/completions"] = openai_chat("b")
    picked = cli("pick", "--job", "chat").stdout.strip()
    assert client.chat.completions.create(model="job:chat", messages=HI).model == picked
    assert (
        cli("book", "default", "set", "moby", "writer", "openai/second").exit_code == 0
    )  # seen while running
    answer = client.chat.completions.create(model="book:moby/chat", messages=HI)
    assert answer.model == "openai/second" and answer.choices[0].message.content == "b"
    assert sorted(str(r["book"]) for r in usage_rows(home)) == ["None", "moby"]


def test_a_streamed_answer_comes_as_chunks_each_naming_the_llm(client, server, home):
    server.add("/a/v1/chat/completions", *[Reply(500, {"error": "x"})] * 3)
    server.add("/b/v1/chat/completions", openai_stream(["Once ", "upon ", "a time."]))
    with client.chat.completions.with_streaming_response.create(
        model="openai/first", messages=HI, stream=True, stream_options={"include_usage": True}
    ) as response:
        assert response.headers["x-llmctl-llm"] == "openai/second"
        assert response.headers["x-llmctl-attempts"] == "openai/first@openai:500,openai/second@openai:ok"
        chunks = list(response.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Once upon a time."
    assert {c.model for c in chunks} == {"openai/second"}
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == 3 and chunks[-1].choices == []
    assert sorted(r["outcome"] for r in usage_rows(home)) == ["error", "error", "error", "ok"]


def test_a_stream_whose_chain_fails_before_any_byte_gets_the_error_status(client, server):
    server.defaults["/a/v1/chat/completions"] = Reply(500, {"error": "down"})
    server.defaults["/b/v1/chat/completions"] = Reply(500, {"error": "down"})
    with pytest.raises(openai.APIStatusError) as caught:
        list(client.chat.completions.create(model="openai/first", messages=HI, stream=True))
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "all_failed" and "openai/second" in caught.value.body["message"]
    assert caught.value.response.headers["x-llmctl-attempts"].startswith(
        "openai/first@openai:500,openai/second@openai:500"
    )


def test_a_stream_that_breaks_after_its_first_byte_is_an_error_event_never_stitched(client, server):
    server.add("/a/v1/chat/completions", openai_stream(["partial ", "answer", "lost"], drop_after=1))
    server.defaults["/b/v1/chat/completions"] = openai_chat("never used")
    got = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model="openai/first", messages=HI, stream=True):
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "partial " and "broke off" in str(caught.value)
    assert not [r for r in server.requests if r["path"].startswith("/b/")]


def test_rate_limited_everywhere_is_429_and_over_budget_is_402(client, server, cli):
    assert cli("disable", "openai/old-model").exit_code == 0  # refused: not a rate limit
    server.defaults["/a/v1/chat/completions"] = Reply(
        429, {"error": "slow down"}, headers={"retry-after": "0"}
    )
    server.defaults["/b/v1/chat/completions"] = Reply(
        429, {"error": "slow down"}, headers={"retry-after": "0"}
    )
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="openai/first", messages=HI)
    assert limited.value.body["type"] == "rate_limit_error"
    assert cli("cooldown", "clear", "--all").exit_code == 0
    assert cli("budget", "set", "0").exit_code == 0
    with pytest.raises(openai.APIStatusError) as over:
        client.chat.completions.create(model="openai/first", messages=HI)
    assert over.value.status_code == 402 and "over budget" in over.value.body["message"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not valid JSON at line 1"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b"", 400, "has no body"),
        (json.dumps({"messages": HI}).encode(), 400, "'model' is required"),
        (json.dumps({"model": "openai/first"}).encode(), 400, "'messages' must be"),
        (json.dumps({"model": "openai/first", "messages": []}).encode(), 400, "'messages' must be"),
        (json.dumps({"model": "openai/frist", "messages": HI}).encode(), 404, "did you mean 'openai/first'"),
        (json.dumps({"model": "job:drafting", "messages": HI}).encode(), 404, "unknown job"),
        (
            json.dumps({"model": "book:../etc/draft_chapter", "messages": HI}).encode(),
            400,
            "unsafe book name",
        ),
        (json.dumps({"model": "book:nobook/draft_chapter", "messages": HI}).encode(), 404, "unknown book"),
        (json.dumps({"model": "book:moby", "messages": HI}).encode(), 400, "book:BOOK/JOB"),
        (
            json.dumps(
                {"model": "openai/first", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}
            ).encode(),
            400,
            "only text parts are supported, not 'image_url'",
        ),
        (
            json.dumps({"model": "openai/first", "messages": [{"role": "tool", "content": "x"}]}).encode(),
            400,
            "role 'tool' is not supported",
        ),
        (json.dumps({"model": "openai/first", "messages": HI, "tools": [{"x": 1}]}).encode(), 400, "'tools'"),
        (json.dumps({"model": "openai/first", "messages": HI, "n": 2}).encode(), 400, "'n' is not supported"),
        (
            json.dumps({"model": "openai/first", "messages": HI, "temperature": 9}).encode(),
            400,
            "from 0 to 2",
        ),
        (json.dumps({"model": "openai/first", "messages": HI, "stream": "yes"}).encode(), 400, "'stream'"),
        (json.dumps({"model": "openai/first", "messages": HI, "colour": 1}).encode(), 400, "unrecognized"),
    ],
)
def test_bad_requests_get_openais_error_object(gw, server, body, status, words):
    response = httpx.post(gw.url + "/v1/chat/completions", content=body, headers=JSON, timeout=10)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"] and set(error) == {"message", "type", "param", "code"}
    assert server.requests == []  # nothing went upstream


def test_text_content_parts_are_joined_and_neutral_parameters_accepted(client, server):
    server.add("/a/v1/chat/completions", openai_chat("ok"))
    parts = [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}]
    client.chat.completions.create(
        model="openai/first",
        messages=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": parts}],
        n=1,
        presence_penalty=0,
        user="someone",
    )
    assert server.requests[-1]["json"]["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "one two"},
    ]


def test_a_body_over_the_cap_is_refused_with_413(serve, team, server):
    small = serve(max_body=1000)
    body = {"model": "openai/first", "messages": [{"role": "user", "content": "x" * 2000}]}
    response = httpx.post(small.url + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"

    def chunked():
        yield b'{"model": "openai/first", "messages": [{"role": "user", "content": "'
        yield b"x" * 2000
        yield b'"}]}'

    response = httpx.post(small.url + "/v1/chat/completions", content=chunked(), headers=JSON, timeout=10)
    assert response.status_code == 413 and server.requests == []


def test_embeddings_as_floats_and_as_the_sdks_default_base64(client, server, home):
    server.defaults["/a/v1/embeddings"] = Reply(
        body={"data": [{"index": 0, "embedding": [0.25, -0.5]}, {"index": 1, "embedding": [1.0, 2.0]}]}
    )
    raw = client.embeddings.with_raw_response.create(model="openai/emb", input=["a", "b"])
    assert [d.embedding for d in raw.parse().data] == [[0.25, -0.5], [1.0, 2.0]]  # base64 on the wire
    assert raw.headers["x-llmctl-llm"] == "openai/emb"
    floats = client.embeddings.create(model="openai/emb", input=["a", "b"], encoding_format="float")
    assert floats.data[1].embedding == [1.0, 2.0] and floats.model == "openai/emb"
    assert server.requests[-1]["json"] == {"model": "emb", "input": ["a", "b"]}
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="openai/emb", input=[])
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="openai/nothing", input="a")


def test_a_job_no_llm_fits_is_422_with_the_pickers_reasons(client):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="job:draft_chapter", messages=HI)  # needs streaming
    assert "missing capability streaming" in caught.value.body["message"]


def test_models_lists_enabled_llms_and_jobs(client, cli):
    assert cli("disable", "openai/second").exit_code == 0
    ids = [m.id for m in client.models.list()]
    assert "openai/first" in ids and "openai/second" not in ids and "job:draft_chapter" in ids


def test_thirty_two_requests_at_once(gw, server, home):
    server.defaults["/a/v1/chat/completions"] = Reply(body=openai_chat("fine").body, delay=0.05)

    async def main():
        async with openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0) as sdk:
            return await asyncio.gather(
                *(
                    sdk.chat.completions.create(
                        model="openai/first", messages=[{"role": "user", "content": f"n{n}"}]
                    )
                    for n in range(32)
                )
            )

    answers = asyncio.run(main())
    assert {a.choices[0].message.content for a in answers} == {"fine"}
    assert len({a.id for a in answers}) == 32
    rows = usage_rows(home)
    assert len(rows) == 32 and {r["outcome"] for r in rows} == {"ok"}


def test_a_client_that_leaves_mid_stream_is_recorded_and_nothing_crashes(gw, server, home, client):
    server.add("/a/v1/chat/completions", openai_stream([f"piece {n} " for n in range(40)], chunk_delay=0.05))
    body = {"model": "openai/first", "messages": HI, "stream": True}
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if "piece 1" in line:
                break  # and hang up
    row = wait_for(lambda: [r for r in usage_rows(home) if r["outcome"] == "interrupted"])[0]
    assert row["llm"] == "openai/first"
    server.add("/a/v1/chat/completions", openai_chat("still here"))
    assert (
        client.chat.completions.create(model="openai/first", messages=HI).choices[0].message.content
        == "still here"
    )


def test_a_cached_answer_streams_whole_and_says_so(client, server, home):
    (home / "config.toml").write_text("cache = true\n")
    server.add("/a/v1/chat/completions", openai_chat("kept answer"))
    assert (
        client.chat.completions.create(model="openai/first", messages=HI).choices[0].message.content
        == "kept answer"
    )
    with client.chat.completions.with_streaming_response.create(
        model="openai/first", messages=HI, stream=True
    ) as r:
        assert r.headers["x-llmctl-attempts"] == "openai/first@openai:cache"
        text = "".join(c.choices[0].delta.content or "" for c in r.parse() if c.choices)
    assert text == "kept answer" and len(server.requests) == 1


def test_provider_keys_never_reach_a_client(client, server, home):
    from conftest import CLIENT_KEY

    echo = Reply(401, {"error": {"message": f"bad key {CLIENT_KEY}"}})
    server.defaults["/a/v1/chat/completions"] = echo
    server.defaults["/b/v1/chat/completions"] = echo
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="openai/first", messages=HI)
    response = caught.value.response
    sent = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    assert sent["authorization"] == f"Bearer {CLIENT_KEY}"  # it was sent upstream
    assert CLIENT_KEY not in response.text and CLIENT_KEY not in str(response.headers)
    assert "bad key" in response.json()["error"]["message"]
    assert not [p for p in home.rglob("*") if p.is_file() and CLIENT_KEY.encode() in p.read_bytes()]


def test_llmctl_options_ride_in_the_body(client, server, home, cli):
    server.defaults["/a/v1/chat/completions"] = openai_chat("a")
    server.defaults["/b/v1/chat/completions"] = openai_chat("b")
    answer = client.chat.completions.create(
        model="openai/second", messages=HI, extra_body={"llmctl": {"scope": "ci", "no_fallback": True}}
    )
    assert answer.model == "openai/second" and usage_rows(home)[0]["scope"] == "ci"
    assert cli("budget", "set", "5").exit_code == 0
    with pytest.raises(openai.APIStatusError) as capped:
        client.chat.completions.create(
            model="openai/first", messages=HI, extra_body={"llmctl": {"max_cost": 0.0000001}}
        )
    assert capped.value.status_code == 402 and "--max-cost" in capped.value.body["message"]
    for bad, words in (
        ({"colour": 1}, "unknown llmctl option 'colour'"),
        ({"max_cost": "cheap"}, "'llmctl.max_cost' must be a number"),
        ({"no_fallback": 1}, "'llmctl.no_fallback' must be true or false"),
        ({"prefer_providers": "openai"}, "must be an array"),
        ("scope=ci", "'llmctl' must be an object"),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="openai/first", messages=HI, extra_body={"llmctl": bad})
        assert words in caught.value.body["message"]


def test_odd_bodies_get_json_errors_never_a_traceback(gw, server):
    deep = b'{"model": "openai/first", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = httpx.post(gw.url + "/v1/chat/completions", content=deep, headers=JSON, timeout=10)
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]["message"]
    nan = b'{"model": "openai/first", "messages": [{"role": "user", "content": "hi"}], "llmctl": {"max_cost": NaN}}'
    response = httpx.post(gw.url + "/v1/chat/completions", content=nan, headers=JSON, timeout=10)
    assert response.status_code == 400 and "llmctl.max_cost" in response.json()["error"]["message"]
    assert server.requests == []


def test_a_disabled_embedding_model_is_refused(client, cli):
    assert cli("disable", "openai/emb").exit_code == 0
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="openai/emb", input="a")
    assert "openai/emb is disabled" in caught.value.body["message"]


def test_serve_reads_the_catalog_given_with_catalog(serve, home, tmp_path):
    from conftest import entry, write_json

    team = write_json(tmp_path / "team.yaml.json", {"llms": [entry("acme/only-here")]})
    running = serve(catalog=str(team))
    ids = [m["id"] for m in httpx.get(running.url + "/v1/models").json()["data"]]
    assert "acme/only-here" in ids and "openai/gpt-4o" not in ids


def test_the_access_log_is_one_line_per_request_whatever_the_path(serve, team):
    lines: list[str] = []
    running = serve(log=lines.append)
    httpx.get(running.url + "/api/llms/x%0AGET%20/forged%20200", timeout=10)
    httpx.get(running.url + "/v1/models?secret=abc", timeout=10)
    assert len(lines) == 2 and "\n" not in lines[0] and "/x\\nGET /forged 200 404" in lines[0]
    assert lines[1].startswith("GET /v1/models 200 - ") and "secret" not in lines[1]


def test_a_model_is_retrieved_by_id_or_alias(client, gw, cli):
    first = client.models.retrieve("openai/first")
    assert (first.id, first.object, first.owned_by) == ("openai/first", "model", "openai")
    assert client.models.retrieve("job:draft_chapter").id == "job:draft_chapter"
    for missing in ("openai/frist", "job:drafting", "nothing"):
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve(missing)
        assert caught.value.body["code"] == "model_not_found"
    assert cli("disable", "openai/second").exit_code == 0
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("openai/second")
    assert "disabled" in caught.value.body["message"]


def test_an_alias_retrieves_its_llm(serve, home, tmp_path):
    from conftest import entry, write_json

    team = write_json(tmp_path / "aliased.json", {"llms": [entry("acme/big-model", aliases=["big"])]})
    running = serve(catalog=str(team))
    answer = httpx.get(running.url + "/v1/models/big", timeout=10)
    assert answer.status_code == 200 and answer.json() == {
        "id": "acme/big-model",
        "object": "model",
        "created": 0,
        "owned_by": "openai",
    }


PARTS = {
    "id": "x",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world."}],
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2},
}


def test_an_answer_given_as_a_list_of_parts_reaches_clients_as_one_string(client, server):
    server.defaults["/a/v1/chat/completions"] = Reply(body=PARTS)
    answer = client.chat.completions.create(model="openai/first", messages=HI)
    assert answer.choices[0].message.content == "Hello, world."
    stream = client.chat.completions.create(model="openai/first", messages=HI, stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert all(isinstance(p, str) for p in pieces) and "".join(pieces) == "Hello, world."


def test_a_role_that_is_not_a_string_is_a_400_not_a_500(gw, server):
    for role in (["user"], {"name": "user"}):
        body = {"model": "openai/first", "messages": [{"role": role, "content": "hi"}]}
        response = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
        assert response.status_code == 400 and "messages[0].role" in response.json()["error"]["message"]
    assert server.requests == []
