"""The texts of a request, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence

from llmctl.errors import TextNotUnicode
from llmctl.providers.wire import ChatRequest


def checked_texts(req: ChatRequest) -> list[str]:
    """The texts of a request's messages. Raises TextNotUnicode when one is not valid
    Unicode (a lone surrogate): it cannot be sent to any LLM."""
    return checked([m.content for m in req.messages if isinstance(m.content, str)])


def checked(texts: Sequence[str]) -> list[str]:
    for n, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TextNotUnicode(
                f"the prompt text is not valid Unicode ({exc.reason}: {text[exc.start]!r} at character "
                f"{exc.start}" + (f" of text {n + 1}" if len(texts) > 1 else "") + "); nothing was sent",
                hint="send UTF-8 text",
            ) from None
        except AttributeError:
            raise TextNotUnicode(f"the prompt text must be a string, not {type(text).__name__}") from None
    return list(texts)
