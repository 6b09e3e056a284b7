"""The one resolver: for an entry (or a bare provider), its provider's settings, the env
var holding its key, whether that is set, its base URL and the endpoint to send to.

Every question "which key, which URL" is answered here, for the picker (is the key
there?), `list --available`, `show`, `providers list`, the cooldown keys and the
engine alike. The key is read from the environment when an endpoint is resolved, right
before a request, and never stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from llmctl.errors import KeyMissing, NotConfigured
from llmctl.files.secrets import redact_key_shaped
from llmctl.providers.table import BUILTIN_PROVIDERS, OPENAI_COMPAT, Provider, unknown_provider

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
    deployment: str | None = None  # Azure: the deployment, when the entry names no model
    # Every key the environment holds for llmctl's providers: an error echoed by a proxy
    # may carry another provider's key too.
    known_keys: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: str) -> str:
        """`text` without any key (for errors and logs): every key llmctl knows of, and any
        key-shaped part (a proxy may echo a key llmctl never saw). The key's value only,
        never part of another word (a one-letter key must not garble a message)."""
        for key in {self.api_key, *self.known_keys}:
            if key:
                text = redact(text, key)
        return redact_key_shaped(text)


def redact(text: str, key: str) -> str:
    """`text` with `key` replaced by `***`: wherever it stands when it is long enough to be a
    real key, else only where it stands alone."""
    if len(key) >= 12:
        text = text.replace(key, "***")
        escaped = repr(key)[1:-1]  # how a key shows inside a repr() or an escaped message
        return text.replace(escaped, "***") if escaped != key else text
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
    needed. A provider llmctl does not know has none: no variable is made up for it (it
    cannot be sent to, `why_unusable` says why)."""
    own = entry.auth.get("api_key_env")
    if own is not None:
        return own or None  # "" says: no key
    settings = provider_settings(entry.provider, configured)
    if settings.api_key_env is not None or settings.local:
        return settings.api_key_env or None
    if unknown_provider(entry.provider, configured):
        return None
    return f"{entry.provider.upper().replace('-', '_')}_API_KEY"


def key_cmd(entry: Target, configured: Configured | None = None) -> str | None:
    """The command that prints the entry's key when its key variable is unset: its own
    `auth.api_key_cmd`, else its provider's `api_key_cmd` (config.toml, then built in)."""
    return entry.auth.get("api_key_cmd") or provider_settings(entry.provider, configured).api_key_cmd


def missing_key(
    entry: Target, configured: Configured | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """The name of the unset key variable the entry needs, or None when it can be used: its
    key variable is set, or a key command can be run (its program is on PATH)."""
    env = os.environ if env is None else env
    name = key_env(entry, configured)
    if name is None or env.get(name):
        return None
    command = key_cmd(entry, configured)
    return None if command and command_program(command, env) else name


def why_unusable(
    entry: Target, configured: Configured | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """Why the entry cannot be sent to from this environment (its provider is unknown, its
    key, or a variable its base URL needs), as a sentence; None when it can."""
    env = os.environ if env is None else env
    unknown = unknown_provider(entry.provider, configured)
    if unknown:
        return unknown
    name = key_env(entry, configured)
    if name is not None and not env.get(name):
        command = key_cmd(entry, configured)
        if not command:
            return f"{name} is not set"
        if not command_program(command, env):
            program = _argv(command)[0] if _argv(command) else command
            return f"{name} is not set and {program!r} (its api_key_cmd) is not on PATH"
    if not _templated(entry, configured):  # the common case, asked for every candidate of a pick
        return None
    unset = url_variables_unset(entry, configured, env)
    return f"{unset[0]} is not set (the base URL needs it)" if unset else None


def _templated(entry: Target, configured: Configured | None) -> bool:
    """Whether a base URL the entry may use is written with `{VARIABLE}`s."""
    builtin = BUILTIN_PROVIDERS.get(entry.provider)
    configured_url = getattr((configured or {}).get(entry.provider), "base_url", None)
    return any("{" in url for url in (entry.api_base, configured_url, builtin and builtin.base_url) if url)


def command_program(command: str, env: Mapping[str, str]) -> str | None:
    """Where the program of a key command is (None when it cannot be found)."""
    import shutil

    argv = _argv(command)
    return shutil.which(argv[0], path=env.get("PATH")) if argv else None


def _argv(command: str) -> list[str]:
    import shlex

    try:
        return shlex.split(command)
    except ValueError:
        return []


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
    url, source = _base_url_template(entry, configured, env)
    if "{" in url:
        url = _TEMPLATE.sub(lambda m: env.get(m.group(1)) or m.group(0), url)
    return url, source


_TEMPLATE = re.compile(r"\{([A-Z_][A-Z0-9_]*)\}")
# The seeds' names for a base URL, read after `<PROVIDER>_BASE_URL`.
_MORE_BASE_URL_ENVS = {"azure": ("AZURE_OPENAI_API_BASE",)}


def _base_url_template(
    entry: Target, configured: Configured | None, env: Mapping[str, str]
) -> tuple[str, str]:
    named = entry.auth.get("base_url_env")
    configured_url = getattr((configured or {}).get(entry.provider), "base_url", None)
    builtin = BUILTIN_PROVIDERS.get(entry.provider)
    envs = (base_url_env(entry.provider), *_MORE_BASE_URL_ENVS.get(entry.provider, ()))
    for url, source in (
        (entry.api_base, "api_base"),
        (env.get(named) if named else None, f"env {named}"),
        *((env.get(name), f"env {name}") for name in envs),
        (configured_url, "config.toml"),
        (builtin.base_url if builtin else None, "built in"),
    ):
        if url:
            return url.rstrip("/"), source
    return "", "none"


def url_variables_unset(
    entry: Target, configured: Configured | None = None, env: Mapping[str, str] | None = None
) -> list[str]:
    """The variables the entry's base URL is written with (`{AWS_REGION}`) that are unset."""
    env = os.environ if env is None else env
    url, _source = _base_url_template(entry, configured, env)
    return [name for name in dict.fromkeys(_TEMPLATE.findall(url)) if not env.get(name)]


def resolve_endpoint(
    entry: Target,
    configured: Configured | None = None,
    env: Mapping[str, str] | None = None,
    *,
    require_key: bool = True,
    run_key_cmd: Callable[[str], str] | None = None,
) -> Endpoint:
    """Return where and how to reach the entry's provider, with the key read from `env`,
    or (when the key variable is unset and a key command is set up) from `run_key_cmd`.

    Raises NotConfigured for an unknown provider, when no base URL is known or a variable it needs is unset,
    KeyMissing when no key can be had (unless `require_key` is False)."""
    env = os.environ if env is None else env
    unknown = unknown_provider(entry.provider, configured)
    if unknown:
        raise NotConfigured(unknown)
    settings = provider_settings(entry.provider, configured)
    url, _source = base_url(entry, configured, env)
    if not url:
        raise NotConfigured(
            f"no base URL for provider {entry.provider}: set {base_url_env(entry.provider)} or api_base"
        )
    unset = url_variables_unset(entry, configured, env)
    if unset:
        raise NotConfigured(f"{unset[0]} is not set (the {entry.provider} base URL needs it)")
    name = key_env(entry, configured)
    api_key = env.get(name) if name else None
    command = key_cmd(entry, configured) if name and not api_key else None
    if command and require_key:
        if run_key_cmd is None:
            raise KeyMissing(f"{name} is not set (api_key_cmd is run only when sending)")
        api_key = run_key_cmd(command)  # raises KeyMissing saying why, never what it printed
    elif name and not api_key and require_key:
        raise KeyMissing(f"{name} is not set")
    if api_key and not _sendable_key(api_key):
        # A key with a line break or a space cannot go in a header, and the HTTP library's
        # error would show it: refused here, naming where it came from, never the value.
        where = "the output of api_key_cmd" if command else name
        raise KeyMissing(f"{where} holds a space, a line break or another character a key has not")
    version = deployment = None
    if entry.provider == "azure":
        version = env.get("AZURE_OPENAI_API_VERSION") or settings.api_version or AZURE_API_VERSION
        if _model_unnamed(entry):
            deployment = env.get("AZURE_OPENAI_DEPLOYMENT_NAME") or None
    return Endpoint(
        provider=entry.provider,
        kind=settings.kind or OPENAI_COMPAT,
        base_url=url,
        key_env=name,
        api_key=api_key,
        headers=dict(settings.headers),
        api_version=version,
        deployment=deployment,
        known_keys=known_keys(configured, env),
    )


def _sendable_key(key: str) -> bool:
    """A key is visible ASCII, no spaces (what an HTTP header carries unchanged; a smart
    quote pasted from a document is not part of a key)."""
    return all("!" <= c <= "~" for c in key)


def _model_unnamed(entry: Target) -> bool:
    """The entry names no model of its own: it is the id after the provider's `/`."""
    llm_id, model = getattr(entry, "id", None), getattr(entry, "model", None)
    return isinstance(llm_id, str) and model == llm_id.split("/", 1)[-1]


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
