"""What a provider is (`Provider`), and the built-in ones.

`Provider` is the one definition of a provider's settings: the built-in table below
and config.toml's `[providers.NAME]` tables (which change a built-in provider field by
field, or declare a new one) are both `Provider` records. Pure data: no I/O, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from llmctl.errors import UnknownNameError, did_you_mean
from llmctl.files.validation import Check

OPENAI_COMPAT = "openai_compat"
ANTHROPIC = "anthropic"
OLLAMA = "ollama"
# The wire protocols: a provider's `kind` -> the module of llmctl.providers that speaks it
# (an `Adapter`, see providers/__init__.py). A new protocol is its module and a row here.
ADAPTERS = {
    OPENAI_COMPAT: "openai_compat",
    ANTHROPIC: "anthropic",
    OLLAMA: "ollama",
}
KINDS = tuple(ADAPTERS)

PositiveInt = Annotated[int, Check(gt=0, strict=True)]
NO_KEY_OR_ENV_NAME = r"^([A-Z_][A-Z0-9_]*)?$"


@dataclass(slots=True)
class Provider:
    """How to reach one provider. In config.toml every field is optional; a field left
    unset (None) keeps the built-in value. Never changed in place: the resolver lays
    config.toml's fields over a built-in one with `dataclasses.replace`."""

    kind: str | None = None  # the wire protocol: openai_compat (the default), anthropic, ollama
    base_url: Annotated[str, Check(pattern=r"^https?://\S+$")] | None = None
    # "" says: no key at all (a local or open server)
    api_key_env: Annotated[str, Check(pattern=NO_KEY_OR_ENV_NAME)] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    # A command printing the key (run without a shell when the key variable is unset).
    api_key_cmd: Annotated[str, Check(min_length=1)] | None = None
    requests_per_minute: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None
    # A server on this machine: no key, tier `local`. Built in only.
    local: bool = field(default=False, metadata={"file": False})


BUILTIN_PROVIDERS: dict[str, Provider] = {
    "openai": Provider(OPENAI_COMPAT, "https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": Provider(ANTHROPIC, "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
    "openrouter": Provider(OPENAI_COMPAT, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "groq": Provider(OPENAI_COMPAT, "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "fireworks": Provider(OPENAI_COMPAT, "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "together": Provider(OPENAI_COMPAT, "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "mistral": Provider(OPENAI_COMPAT, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "deepseek": Provider(OPENAI_COMPAT, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "xai": Provider(OPENAI_COMPAT, "https://api.x.ai/v1", "XAI_API_KEY"),
    "gemini": Provider(
        OPENAI_COMPAT, "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"
    ),
    "azure": Provider(OPENAI_COMPAT, None, "AZURE_OPENAI_API_KEY"),
    # Their OpenAI-compatible endpoints; {NAME} in a URL is the environment variable's value.
    "bedrock": Provider(
        OPENAI_COMPAT,
        "https://bedrock-runtime.{AWS_REGION}.amazonaws.com/openai/v1",
        "AWS_BEARER_TOKEN_BEDROCK",
    ),
    "vertex": Provider(
        OPENAI_COMPAT,
        "https://{VERTEX_LOCATION}-aiplatform.googleapis.com/v1beta1/projects/{VERTEX_PROJECT}"
        "/locations/{VERTEX_LOCATION}/endpoints/openapi",
        "VERTEX_ACCESS_TOKEN",
        api_key_cmd="gcloud auth print-access-token",
    ),
    "ollama": Provider(OLLAMA, "http://localhost:11434", local=True),
    "vllm": Provider(OPENAI_COMPAT, "http://localhost:8000/v1", local=True),
    "lmstudio": Provider(OPENAI_COMPAT, "http://localhost:1234/v1", local=True),
    "llamacpp": Provider(OPENAI_COMPAT, "http://localhost:8080/v1", local=True),
}


def is_local(name: str) -> bool:
    """True for a built-in provider that runs on this machine (Ollama, vLLM, ...)."""
    builtin = BUILTIN_PROVIDERS.get(name)
    return bool(builtin and builtin.local)


def provider_names(configured: dict[str, Provider] | None = None) -> list[str]:
    """Every provider name: the built-in ones and those config.toml declares, sorted."""
    return sorted(set(BUILTIN_PROVIDERS) | set(configured or {}))


_DECLARE = "a provider of your own is declared in config.toml as [providers.{name}]"


def unknown_provider(name: str, configured: dict[str, Provider] | None = None) -> str | None:
    """Why `name` is no provider llmctl can send to (it is neither built in nor declared in
    config.toml's `[providers.NAME]`), or None when it is one."""
    if name in BUILTIN_PROVIDERS or name in (configured or {}):
        return None
    near = did_you_mean(name, provider_names(configured))
    return f"unknown provider {name!r}{near} ({_DECLARE.format(name=name)})"


def check_provider(name: str, configured: dict[str, Provider] | None = None) -> str:
    """`name`, when it is a provider llmctl knows (the one check of every `--provider` that
    names where an entry is sent). Raises UnknownNameError (exit 2) with the closest names."""
    if unknown_provider(name, configured) is None:
        return name
    raise UnknownNameError(
        "provider",
        name,
        provider_names(configured),
        hint=_DECLARE.format(name=name) + " with its base_url and api_key_env",
    )
