"""One small adapter per wire protocol: OpenAI-compatible chat completions, Anthropic
Messages and Ollama's native API. Importing this package imports no HTTP client;
`adapter_for(kind)` loads the module that speaks a protocol."""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "openai_compat": "llmctl.providers.openai_compat",
    "anthropic": "llmctl.providers.anthropic",
    "ollama": "llmctl.providers.ollama",
}


def adapter_for(kind: str) -> Any:
    """Return the adapter module for a wire protocol kind. Raises KeyError for an unknown kind."""
    return importlib.import_module(_MODULES[kind])
