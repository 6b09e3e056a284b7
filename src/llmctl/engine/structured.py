"""Structured output: an answer asked as JSON is parsed and checked against its schema; one
that fails is asked again once, of the same LLM, with the problem added to the conversation;
a second failure is the attempt's failure (InvalidOutput, kind `invalid_output`), and the
chain goes on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from llmctl.errors import InvalidOutput
from llmctl.providers.wire import ChatRequest, ChatResult, Message, Usage

CORRECTION = (
    "That answer is not the JSON asked for: {problem}. Answer again with the JSON alone, matching the schema."
)


def corrected(req: ChatRequest, answer: ChatResult, problem: str) -> ChatRequest:
    """The request of the corrective try: the conversation, the answer, and what is wrong."""
    extra = [Message("assistant", answer.text), Message("user", CORRECTION.format(problem=problem))]
    return replace(req, messages=[*req.messages, *extra])


def problem_of(req: ChatRequest, answer: ChatResult) -> str | None:
    """What is wrong with an answer to `req` (None: nothing, or no JSON was asked for)."""
    if not req.wants_json:
        return None
    from llmctl.compose.schema import parse_answer

    try:
        parse_answer(answer.text, req.schema)
    except InvalidOutput as exc:
        return exc.problem
    return None


def checked_answer(
    req: ChatRequest, answer: ChatResult, again: Callable[[ChatRequest], ChatResult]
) -> ChatResult:
    """`answer`, or the answer of one corrective try (`again`, to the same LLM) when it is not
    the JSON asked for; both tries' tokens are counted. Raises InvalidOutput when the second
    is not either."""
    problem = problem_of(req, answer)
    if problem is None:
        return answer
    return _second(req, answer, again(corrected(req, answer, problem)))


async def achecked_answer(
    req: ChatRequest, answer: ChatResult, again: Callable[[ChatRequest], Awaitable[ChatResult]]
) -> ChatResult:
    """`checked_answer` with an async `again`."""
    problem = problem_of(req, answer)
    if problem is None:
        return answer
    return _second(req, answer, await again(corrected(req, answer, problem)))


def _second(req: ChatRequest, first: ChatResult, second: ChatResult) -> ChatResult:
    """The corrective try's answer with both tries' tokens; raises InvalidOutput (carrying
    those tokens, which the failed attempt is billed) when it is not the JSON asked for."""
    usage = Usage(
        _sum(first.usage.input_tokens, second.usage.input_tokens),
        _sum(first.usage.output_tokens, second.usage.output_tokens),
    )
    problem = problem_of(req, second)
    if problem is not None:
        raise InvalidOutput(problem, answer=second.text, usage=usage)
    return replace(second, usage=usage)


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)
