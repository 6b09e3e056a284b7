"""The sending policy's hooks to the response cache: the answer kept for a request sent
to an LLM, and keeping a complete one."""

from __future__ import annotations

from typing import Any

from llmctl.engine.cache import ResponseCache, cache_key
from llmctl.engine.policy import Send
from llmctl.providers.wire import ChatRequest, ChatResult, merged_params, text_messages


def cache_hooks(cache: ResponseCache | None, req: ChatRequest | None) -> dict[str, Any]:
    """The policy's `cache_get` / `cache_put` hooks for a chat request (none without a
    cache or a request)."""
    if cache is None or req is None:
        return {}

    def key(step: Send) -> str:
        params = merged_params(req, step.entry.params)
        if req.wants_json:  # a JSON answer is not the text answer to the same messages
            params = {**params, "llmctl_output": "json", "llmctl_schema": req.schema}
        return cache_key(
            step.endpoint.provider, step.endpoint.base_url, step.entry.model, text_messages(req), params
        )

    def get(step: Send) -> dict[str, Any] | None:
        return cache.get(key(step))

    def put(step: Send, answer: ChatResult) -> None:
        cache.put(
            key(step), step.entry.id, answer.text, answer.usage.input_tokens, answer.usage.output_tokens
        )

    return {"cache_get": get, "cache_put": put}
