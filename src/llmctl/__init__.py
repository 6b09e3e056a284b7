"""llmctl: which LLM should this job use, what does it cost, and why.

The public Python API is imported lazily so that `import llmctl` stays cheap;
this module never imports the CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["LLM", "Catalog", "LlmctlError", "__version__", "load_catalog"]


def __getattr__(name: str):
    if name in ("load_catalog", "Catalog"):
        from llmctl import catalog

        return getattr(catalog, name)
    if name == "LLM":
        from llmctl.records import LLM

        return LLM
    if name == "LlmctlError":
        from llmctl.errors import LlmctlError

        return LlmctlError
    raise AttributeError(f"module 'llmctl' has no attribute {name!r}")
