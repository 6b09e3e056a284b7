"""Calls about providers rather than prompts: `providers check` (is it reachable, does the
key work) and the model lists `catalog sync` reads. One model-list call serves both."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmctl.catalog.entry import default_model
from llmctl.catalog.formats import from_openrouter, keep_valid
from llmctl.errors import AuthFailed, LlmctlError, ProviderError, UnknownNameError
from llmctl.providers import adapter_for, resolve
from llmctl.providers.table import Provider, provider_names

if TYPE_CHECKING:
    import httpx

Configured = Mapping[str, Provider]


def list_models(
    name: str,
    configured: Configured,
    client: httpx.Client,
    timeout: float,
    env: Mapping[str, str],
    *,
    require_key: bool = True,
) -> list[dict[str, Any]]:
    """The provider's model list as its adapter reads it. Raises ProviderError."""
    from llmctl.engine.http import send_json

    endpoint = resolve.resolve_endpoint(resolve.Bare(name), configured, env, require_key=require_key)
    adapter = adapter_for(endpoint.kind)
    return adapter.parse_models(
        send_json(client, adapter.build_models(endpoint), endpoint, timeout), endpoint
    )


def default_check_targets(configured: Configured, used: set[str], env: Mapping[str, str]) -> list[str]:
    """The providers `providers check` calls when none is named: those whose key is set,
    and local servers that an enabled LLM uses."""
    described = [resolve.describe(n, configured, env) for n in provider_names(dict(configured))]
    return [d["provider"] for d in described if d["key_set"] or (d["local"] and d["provider"] in used)]


def check(
    names: list[str],
    configured: Configured,
    client: httpx.Client,
    timeout: float = 5.0,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Call each provider's model-list endpoint; report reachable, auth ok, latency, model
    count, the error if any, and `ok` (reachable, the key accepted, no error)."""
    env = os.environ if env is None else env
    known = provider_names(dict(configured))
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
        key_env = resolve.key_env(resolve.Bare(name), configured)
        started = time.perf_counter()
        try:
            report["models"] = len(list_models(name, configured, client, timeout, env, require_key=False))
            report.update(reachable=True, auth_ok=True if not key_env or env.get(key_env) else None)
        except ProviderError as exc:
            report["reachable"] = exc.status is not None
            report["auth_ok"] = False if isinstance(exc, AuthFailed) else None
            report["error"] = exc.message
        report["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if key_env and not env.get(key_env):
            report["error"] = report["error"] or f"{key_env} is not set"
        report["ok"] = report["reachable"] and report["auth_ok"] is not False and not report["error"]
        reports.append(report)
    return reports


def fetch_models(
    provider: str,
    configured: Configured,
    client: httpx.Client,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The provider's model list as catalog entries (patch dicts), for `catalog sync`.

    Raises ProviderError when the call fails, LlmctlError when the list is empty or unreadable."""
    env = os.environ if env is None else env
    if provider not in provider_names(dict(configured)):
        raise UnknownNameError("provider", provider, provider_names(dict(configured)))
    models = list_models(provider, configured, client, timeout, env)
    if not models:
        raise LlmctlError(
            f"{provider} listed no models: nothing changed",
            hint="check the base URL with `llmctl providers check`",
        )
    if provider == "openrouter":
        entries = keep_valid(from_openrouter(Path(f"{provider} model list"), {"data": models})).entries
        if not entries:
            raise LlmctlError(
                f"none of the {len(models)} models {provider} listed could be read: nothing changed"
            )
        return entries
    entries = []
    for model in models:
        llm_id = f"{provider}/{model['id']}"
        item: dict[str, Any] = {"id": llm_id, "provider": provider}
        if default_model(llm_id, provider) != model["id"]:
            item["model"] = model["id"]
        if model.get("name"):
            item["name"] = model["name"]
        if isinstance(model.get("context_length"), int):
            item["context_length"] = model["context_length"]
        entries.append(item)
    return entries


# --- `catalog update`: a public model list, downloaded whole ---------------------------------------

MAX_DOWNLOAD = 64 * 1024 * 1024  # 64 MiB: LiteLLM's map is ~3.5 MB; more is not a model list
Progress = Callable[[int, int | None], None]  # (bytes so far, total when the server says it)


def download(
    url: str,
    client: httpx.Client,
    *,
    label: str,
    timeout: float = 60.0,
    max_bytes: int = MAX_DOWNLOAD,
    progress: Progress | None = None,
) -> bytes:
    """The whole body at `url` (a GET, no key sent). `timeout` bounds the whole download,
    `max_bytes` its size (refused before reading when the server says it is larger).
    Raises LlmctlError (exit 1) naming `label` and the address when it cannot be reached,
    answers an error status, breaks off, is too large or too slow: then nothing was read."""
    from llmctl.engine.http import out_of_time, transport_error

    endpoint = resolve.Endpoint(provider=label, kind="download", base_url=url, key_env=None)
    deadline = time.monotonic() + timeout
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            if response.status_code >= 400:
                raise LlmctlError(f"{label} at {url} answered HTTP {response.status_code}")
            total = _length(response.headers.get("content-length"))
            if total is not None and total > max_bytes:
                raise _too_large(label, url, max_bytes)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise _too_large(label, url, max_bytes)
                if time.monotonic() > deadline:
                    raise out_of_time(endpoint, timeout)
                if progress is not None:
                    progress(len(body), total)
    except LlmctlError as exc:
        raise LlmctlError(f"cannot download {exc.message}; nothing changed", hint=exc.hint) from None
    except Exception as exc:  # httpx's errors, named in engine/http.py only, which maps them
        error = transport_error(exc, endpoint)
        raise LlmctlError(f"cannot download {error.message}; nothing changed") from None
    return bytes(body)


def _length(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _too_large(label: str, url: str, max_bytes: int) -> LlmctlError:
    return LlmctlError(f"{label} at {url}: the download is larger than {max_bytes // 2**20} MiB")
