"""The one resolver: for an entry (or a bare provider), its provider's settings, the env
var holding its key, whether that is set, its base URL and the endpoint to send to.

Every question "which key, which URL" is answered here, for the picker (is the key
there?), `list --available`, `show`, `providers list`, the cooldown keys and the
engine alike. The key is read from the environment when an endpoint is resolved, right
before a request, and never stored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from llmctl.errors import KeyMissing, NotConfigured
from llmctl.providers.table import BUILTIN_PROVIDERS, OPENAI_COMPAT, Provider

AZURE_API_VERSION = "2024-10-21"
Configured = Mapping[str, Provider]


@dataclass
class Endpoint:
    """Where and how to reach one provider for one entry. The key is read from the
    environment when the endpoint is resolved, right before the request, and never stored."""

    provider: str
    kind: str
    base_url: str
    key_env: str | None
    api_key: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    # Every key the environment holds for llmctl's providers: an error echoed by a proxy
    # may carry another provider's key too.
    known_keys: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: str) -> str:
        """Remove every known key from `text` (for errors and logs): the key's value only,
        never part of another word (a one-letter key must not garble a message)."""
        for key in {self.api_key, *self.known_keys}:
            if key:
                text = redact(text, key)
        return text


def redact(text: str, key: str) -> str:
    """`text` with `key` replaced by `***`: wherever it stands when it is long enough to be a
    real key, else only where it stands alone."""
    if len(key) >= 12:
        return text.replace(key, "***")
    import re

    return re.sub(r"(?<![A-Za-z0-9_-])" + re.escape(key) + r"(?![A-Za-z0-9_-])", "***", text)


def known_keys(configured: Configured | None, env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of every provider key variable set in `env` (built in and configured)."""
    names = {p.api_key_env for p in BUILTIN_PROVIDERS.values()}
    names |= {p.api_key_env for p in (configured or {}).values()}
    return tuple(value for name in names if name and (value := env.get(name)))


if TYPE_CHECKING:
    from typing import Protocol

    class Target(Protocol):
        """What the resolver reads of a catalog entry."""

        provider: str
        api_base: str | None
        auth: dict[str, str]


class Bare:
    """A provider with no particular model (`providers list`, model lists)."""

    __slots__ = ("provider", "api_base", "auth")

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.api_base: str | None = None
        self.auth: dict[str, str] = {}


def provider_settings(name: str, configured: Configured | None = None) -> Provider:
    """The built-in provider `name` with config.toml's fields laid over it (a declared
    provider that is not built in starts from an empty one)."""
    base = BUILTIN_PROVIDERS.get(name) or Provider()
    patch = (configured or {}).get(name)
    if patch is not None:
        changed = {f.name: getattr(patch, f.name) for f in fields(Provider) if f.name != "local"}
        base = replace(base, **{k: v for k, v in changed.items() if v not in (None, {})})
    return base if base.kind else replace(base, kind=OPENAI_COMPAT)


def key_env(entry: Target, configured: Configured | None = None) -> str | None:
    """The env var holding the entry's key: its own `auth.api_key_env`, then its provider's
    (config.toml, then built in); None for a local server or where "" says no key is
    needed. A provider llmctl does not know reads `<PROVIDER>_API_KEY`."""
    own = entry.auth.get("api_key_env")
    if own is not None:
        return own or None  # "" says: no key
    settings = provider_settings(entry.provider, configured)
    if settings.api_key_env is not None or settings.local:
        return settings.api_key_env or None
    return f"{entry.provider.upper().replace('-', '_')}_API_KEY"


def missing_key(
    entry: Target, configured: Configured | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """The name of the unset key variable the entry needs, or None when it can be used."""
    env = os.environ if env is None else env
    name = key_env(entry, configured)
    return None if name is None or env.get(name) else name


def base_url_env(provider: str) -> str:
    """The env var that overrides a provider's base URL (e.g. `OPENAI_BASE_URL`)."""
    return f"{provider.upper().replace('-', '_')}_BASE_URL"


def base_url(
    entry: Target, configured: Configured | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(URL, where it came from) for the entry's requests: its `api_base`, then the env var
    named by `auth.base_url_env`, then `<PROVIDER>_BASE_URL`, then config.toml's provider
    `base_url`, then the built-in one ("" and "none" when none is known)."""
    env = os.environ if env is None else env
    named = entry.auth.get("base_url_env")
    configured_url = getattr((configured or {}).get(entry.provider), "base_url", None)
    builtin = BUILTIN_PROVIDERS.get(entry.provider)
    for url, source in (
        (entry.api_base, "api_base"),
        (env.get(named) if named else None, f"env {named}"),
        (env.get(base_url_env(entry.provider)), f"env {base_url_env(entry.provider)}"),
        (configured_url, "config.toml"),
        (builtin.base_url if builtin else None, "built in"),
    ):
        if url:
            return url.rstrip("/"), source
    return "", "none"


def resolve_endpoint(
    entry: Target,
    configured: Configured | None = None,
    env: Mapping[str, str] | None = None,
    *,
    require_key: bool = True,
) -> Endpoint:
    """Return where and how to reach the entry's provider, with the key read from `env`.

    Raises NotConfigured when no base URL is known, KeyMissing when the key variable is
    unset (unless `require_key` is False)."""
    env = os.environ if env is None else env
    settings = provider_settings(entry.provider, configured)
    url, _source = base_url(entry, configured, env)
    if not url:
        raise NotConfigured(
            f"no base URL for provider {entry.provider}: set {base_url_env(entry.provider)} or api_base"
        )
    name = key_env(entry, configured)
    api_key = env.get(name) if name else None
    if name and not api_key and require_key:
        raise KeyMissing(f"{name} is not set")
    version = None
    if entry.provider == "azure":
        version = env.get("AZURE_OPENAI_API_VERSION") or settings.api_version or AZURE_API_VERSION
    return Endpoint(
        provider=entry.provider,
        kind=settings.kind or OPENAI_COMPAT,
        base_url=url,
        key_env=name,
        api_key=api_key,
        headers=dict(settings.headers),
        api_version=version,
        known_keys=known_keys(configured, env),
    )


def describe(name: str, configured: Configured | None = None, env: Mapping[str, str] | None = None) -> dict:
    """One provider as `providers list` shows it: protocol, base URL and where it came from,
    key variable and whether it is set, rate limits."""
    env = os.environ if env is None else env
    settings = provider_settings(name, configured)
    bare = Bare(name)
    url, source = base_url(bare, configured, env)
    name_of_key = key_env(bare, configured)
    return {
        "provider": name,
        "kind": settings.kind,
        "base_url": url,
        "base_url_source": source,
        "key_env": name_of_key,
        "key_set": bool(name_of_key and env.get(name_of_key)),
        "local": settings.local,
        "requests_per_minute": settings.requests_per_minute,
        "tokens_per_minute": settings.tokens_per_minute,
    }
