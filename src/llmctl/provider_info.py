"""The built-in providers as data: wire protocol, base URL and the env vars each reads.

Pure data with no imports beyond the standard library, so the catalog can answer
"is this LLM available?" without loading any HTTP code. The adapters that send
requests live in `llmctl.providers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

OPENAI_COMPAT = "openai_compat"
ANTHROPIC = "anthropic"
OLLAMA = "ollama"


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    kind: str
    base_url: str
    key_env: str | None
    local: bool = False

    @property
    def base_url_env(self) -> str:
        """The env var that overrides this provider's base URL (e.g. `OPENAI_BASE_URL`)."""
        return base_url_env_name(self.name)


BUILTIN_PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in (
        ProviderInfo("openai", OPENAI_COMPAT, "https://api.openai.com/v1", "OPENAI_API_KEY"),
        ProviderInfo("anthropic", ANTHROPIC, "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
        ProviderInfo("openrouter", OPENAI_COMPAT, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        ProviderInfo("groq", OPENAI_COMPAT, "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
        ProviderInfo(
            "fireworks", OPENAI_COMPAT, "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"
        ),
        ProviderInfo("together", OPENAI_COMPAT, "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
        ProviderInfo("mistral", OPENAI_COMPAT, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
        ProviderInfo("deepseek", OPENAI_COMPAT, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
        ProviderInfo("xai", OPENAI_COMPAT, "https://api.x.ai/v1", "XAI_API_KEY"),
        ProviderInfo(
            "gemini",
            OPENAI_COMPAT,
            "https://generativelanguage.googleapis.com/v1beta/openai",
            "GEMINI_API_KEY",
        ),
        ProviderInfo("azure", OPENAI_COMPAT, "", "AZURE_OPENAI_API_KEY"),
        ProviderInfo("ollama", OLLAMA, "http://localhost:11434", None, local=True),
        ProviderInfo("vllm", OPENAI_COMPAT, "http://localhost:8000/v1", None, local=True),
        ProviderInfo("lmstudio", OPENAI_COMPAT, "http://localhost:1234/v1", None, local=True),
        ProviderInfo("llamacpp", OPENAI_COMPAT, "http://localhost:8080/v1", None, local=True),
    )
}


def key_env_for(provider: str, api_key_env: str | None, configured: str | None = None) -> str | None:
    """Return the env var holding the key for an entry: its own `auth.api_key_env` wins,
    then config.toml's `[providers.P] api_key_env`, then the built-in one (None for local
    servers). Unknown providers fall back to `<PROVIDER>_API_KEY`.
    """
    if api_key_env or configured:
        return api_key_env or configured
    info = BUILTIN_PROVIDERS.get(provider)
    if info is not None:
        return info.key_env
    return f"{provider.upper().replace('-', '_')}_API_KEY"


def is_local(provider: str) -> bool:
    info = BUILTIN_PROVIDERS.get(provider)
    return bool(info and info.local)


def missing_key(provider: str, api_key_env: str | None, providers: dict | None = None) -> str | None:
    """Return the name of the unset key variable this LLM needs, or None when it can be used.

    `providers` is config.toml's providers table (its `api_key_env` counts too)."""
    configured = ((providers or {}).get(provider) or {}).get("api_key_env")
    env = key_env_for(provider, api_key_env, configured)
    if env is None or os.environ.get(env):
        return None
    return env


def base_url_env_name(provider: str) -> str:
    return f"{provider.upper().replace('-', '_')}_BASE_URL"


def base_url_for(
    provider: str,
    api_base: str | None,
    auth: dict[str, str],
    providers: dict[str, dict] | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """The base URL an entry's requests go to: its `api_base`, then the env var named by
    `auth.base_url_env`, then `<PROVIDER>_BASE_URL`, then config.toml's provider
    `base_url`, then the built-in one ("" when none is known)."""
    env = os.environ if env is None else env
    custom = (providers or {}).get(provider, {})
    builtin = BUILTIN_PROVIDERS.get(provider)
    named = auth.get("base_url_env")
    url = (
        api_base
        or (env.get(named) if named else None)
        or env.get(base_url_env_name(provider))
        or custom.get("base_url")
        or (builtin.base_url if builtin else "")
    )
    return url.rstrip("/")
