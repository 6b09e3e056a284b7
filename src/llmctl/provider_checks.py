"""The providers table as users see it, and `providers check`: one model-list call each."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmctl.errors import ProviderError, UnknownNameError
from llmctl.provider_info import BUILTIN_PROVIDERS, base_url_env_name, base_url_for, key_env_for
from llmctl.records import LLM

if TYPE_CHECKING:
    import httpx


def provider_names(providers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(set(BUILTIN_PROVIDERS) | set(providers))


def describe(name: str, providers: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]) -> dict[str, Any]:
    """One provider: protocol, base URL and where it came from, key variable and whether it is set."""
    custom = providers.get(name, {})
    builtin = BUILTIN_PROVIDERS.get(name)
    url_env = base_url_env_name(name)
    source = (
        "env " + url_env
        if env.get(url_env)
        else "config.toml"
        if custom.get("base_url")
        else "built in"
        if builtin and builtin.base_url
        else "none"
    )
    key_env = custom.get("api_key_env") or (None if builtin and builtin.local else key_env_for(name, None))
    return {
        "provider": name,
        "kind": custom.get("kind") or (builtin.kind if builtin else "openai_compat"),
        "base_url": base_url_for(name, None, {}, dict(providers), dict(env)),
        "base_url_source": source,
        "key_env": key_env,
        "key_set": bool(key_env and env.get(key_env)),
        "local": bool(builtin and builtin.local),
        "requests_per_minute": custom.get("requests_per_minute"),
        "tokens_per_minute": custom.get("tokens_per_minute"),
    }


def probe_entry(name: str) -> LLM:
    """A stand-in entry for calls that concern a provider, not a model."""
    return LLM(id=f"{name}/-", provider=name, model="-")


def list_models(
    name: str,
    providers: Mapping[str, Mapping[str, Any]],
    client: httpx.Client,
    timeout: float,
    env: Mapping[str, str],
    *,
    require_key: bool = True,
) -> list[dict[str, Any]]:
    """The provider's model list as its adapter reads it. Raises ProviderError."""
    from llmctl.providers import adapter_for
    from llmctl.providers.base import resolve_endpoint, send_json

    endpoint = resolve_endpoint(probe_entry(name), providers, env, require_key=require_key)
    adapter = adapter_for(endpoint.kind)
    return adapter.parse_models(
        send_json(client, adapter.build_models(endpoint), endpoint, timeout), endpoint
    )


def check(
    names: list[str],
    providers: Mapping[str, Mapping[str, Any]],
    client: httpx.Client,
    timeout: float = 5.0,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Call each provider's model-list endpoint; report reachable, auth ok, latency and model count."""
    env = os.environ if env is None else env
    known = provider_names(providers)
    reports = []
    for name in names:
        if name not in known:
            raise UnknownNameError("provider", name, known)
        report: dict[str, Any] = {
            "provider": name,
            "reachable": False,
            "auth_ok": None,
            "latency_ms": None,
            "models": None,
            "error": None,
        }
        key_env = describe(name, providers, env)["key_env"]
        started = time.perf_counter()
        try:
            report["models"] = len(list_models(name, providers, client, timeout, env, require_key=False))
            report.update(reachable=True, auth_ok=True if not key_env or env.get(key_env) else None)
        except ProviderError as exc:
            report["reachable"] = exc.status is not None
            report["auth_ok"] = False if exc.kind == "auth" else None
            report["error"] = exc.message
        report["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if key_env and not env.get(key_env):
            report["error"] = report["error"] or f"{key_env} is not set"
        reports.append(report)
    return reports
