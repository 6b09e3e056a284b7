"""llmctl: which LLM should this job use, what does it cost, and why.

The public Python API is imported lazily so that `import llmctl` stays cheap;
this module never imports the CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "load_catalog": "llmctl.catalog.load",
    "Catalog": "llmctl.catalog.load",
    "LLM": "llmctl.catalog.entry",
    "LlmctlError": "llmctl.errors",
    "NoMatchError": "llmctl.errors",
    "AllFailedError": "llmctl.errors",
    "LlmctlWarning": "llmctl.errors",
    "select_llm_for_job": "llmctl.api",
    "get_llm": "llmctl.api",
    "get_llm_by_provider": "llmctl.api",
    "decide": "llmctl.api",
    "Selection": "llmctl.selection.request",
    "Picker": "llmctl.selection.picker",
    "Request": "llmctl.selection.decision",
    "Decision": "llmctl.selection.decision",
    "LLMRegistry": "llmctl.catalog.registry",
    "DictRegistry": "llmctl.catalog.registry",
    "LLMClient": "llmctl.client",
    "Response": "llmctl.client",
    "get_llm_with_fallback": "llmctl.client",
    "render": "llmctl.compose.api",
    "run_job": "llmctl.api",
    "arun_job": "llmctl.api",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmctl' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
