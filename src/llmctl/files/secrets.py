"""Where a literal secret may hide in a file's content: llmctl refuses any it finds.

Keys live in environment variables; files hold only the variables' names.
"""

from __future__ import annotations

from typing import Any

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"  # an environment variable's name, capitalised
# Header and parameter names that carry credentials: a file must never hold one.
SECRET_NAMES = {
    "authorization",
    "api-key",
    "x-api-key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "secret",
    "password",
    "proxy-authorization",
    "key",
}
# Top-level catalog-entry keys that would hold a key itself.
SECRET_KEYS = {"api_key", "key", "token", "secret", "password", "apikey", "access_token"}


def find_secret(value: Any, where: str) -> str | None:
    """The path of a credential-like key or value (`Bearer ...`) nested anywhere in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in SECRET_NAMES:
                return f"{where}.{key}"
            found = find_secret(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = find_secret(item, f"{where}[{n}]")
            if found:
                return found
    elif isinstance(value, str) and value.lower().startswith(("bearer ", "basic ")):
        return where
    return None
