"""Where a literal secret may hide in a file's content: llmctl refuses any it finds.

Keys live in environment variables; files hold only the variables' names. A secret is
looked for by name (a header or parameter whose name says credential, in any case and
separator), in URLs (`user:pass@`, or a query parameter named like one), and by shape
(values that look like the known key formats), wherever it stands.
"""

from __future__ import annotations

import re
from typing import Any

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"  # an environment variable's name, capitalised
# Words that make a name a credential's: `openai_api_key`, `X-Auth-Token`, `Cookie`...
CREDENTIAL_WORDS = {
    "key",
    "apikey",
    "token",
    "secret",
    "auth",
    "authorization",
    "password",
    "passwd",
    "cookie",
    "signature",
    "sig",  # Azure SAS and signed URLs: `?sv=...&sig=...`
    "credential",
    "credentials",
    "bearer",
}
# Top-level catalog-entry keys that would hold a key itself.
SECRET_KEYS = {"api_key", "key", "token", "secret", "password", "apikey", "access_token"}
# Known key formats: 20 or more characters with one of these beginnings.
KEY_PREFIXES = ("sk-", "sk-ant-", "AIza", "gsk_", "xai-", "hf_", "AKIA", "ghp_", "github_pat_")


def secret_name(name: str) -> bool:
    """True when a header's or parameter's name says it holds a credential."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))  # camelCase counts too
    return any(word in CREDENTIAL_WORDS for word in re.split(r"[^a-z0-9]+", spaced.lower()))


_TOKEN = r"[A-Za-z0-9_-]"
_PREFIXED = r"(?<![A-Za-z0-9_-])(?:" + "|".join(re.escape(p) for p in KEY_PREFIXES) + ")"
_KEY = re.compile(_PREFIXED + _TOKEN + "{14,}")
# What is left of a key where a text was cut: a known beginning running into the cut.
_KEY_HEAD = re.compile(_PREFIXED + _TOKEN + "*$")


def key_shaped(value: Any) -> bool:
    """True for a string that holds what looks like an API key of a known format (20 or more
    characters with a known beginning and a long random run), alone or inside other text."""
    if not isinstance(value, str):
        return False
    return any(_is_key(m.group()) for m in _KEY.finditer(value))


def _is_key(text: str) -> bool:
    if re.fullmatch(r"AKIA[A-Z2-7]{16}", text):  # AWS key ids are base32: often no digit
        return True
    return len(text) >= 20 and _random_part(text)


def _random_part(text: str) -> bool:
    """Keys have a long random run of letters with digits or both cases (`hf_` keys are
    letters only); model names have short words."""
    return any(
        len(part) >= 12
        and any(c.isalpha() for c in part)
        and (any(c.isdigit() for c in part) or (part.lower() != part and part.upper() != part))
        for part in re.split(r"[-_]", text)
    )


def redact_key_shaped(text: str) -> str:
    """`text` with every key-shaped part replaced by `***` (keys llmctl was never told of:
    a proxy may echo any key it saw)."""
    return _KEY.sub(lambda m: "***" if _is_key(m.group()) else m.group(), text)


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, dropping a known key beginning that runs into
    the cut (the head of a key too short to be recognised as one any more). Redact first:
    a key straddling the cut is not whole after it."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if re.match(_TOKEN, text[limit]):
        head = _KEY_HEAD.sub("***", head)
    return head


def url_secret(url: Any) -> str | None:
    """Why `url` holds a credential (`user:pass@`, a `?key=` parameter), or None."""
    if not isinstance(url, str):
        return None
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.netloc:
        return "a URL must not hold credentials (user:password@)"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if secret_name(name) or key_shaped(value):
            return f"a URL must not hold credentials (query parameter {name!r})"
    return None


def find_secret(value: Any, where: str) -> str | None:
    """The path of a credential-like name or value nested anywhere in `value`: a name that
    says credential, a `Bearer ...` value, a key-shaped value or a URL with credentials."""
    if isinstance(value, dict):
        for key, item in value.items():
            if secret_name(key):
                return f"{where}.{key}"
            found = find_secret(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = find_secret(item, f"{where}[{n}]")
            if found:
                return found
    elif isinstance(value, str):
        lowered = value.lower()
        if lowered.startswith(("bearer ", "basic ")) or key_shaped(value) or url_secret(value):
            return where
    return None


def find_key_shaped(value: Any, where: str = "") -> str | None:
    """The path of a key-shaped string anywhere in `value` (any field: a key pasted into a
    description is a key in a file all the same), or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_key_shaped(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = find_key_shaped(item, f"{where}[{n}]")
            if found:
                return found
    elif key_shaped(value):
        return where or "value"
    return None


# Programs that print their arguments: a key command made of one prints a literal key.
_PRINTERS = {"echo", "printf"}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish"}


def literal_command(command: Any) -> str | None:
    """Why a key command (`api_key_cmd`) holds its key literally (`echo sk-...`, `printf %s
    abc`, `sh -c 'echo ...'`), or None: the key would then sit in the file as plainly as
    a key written there."""
    import shlex
    from pathlib import PurePath

    if not isinstance(command, str):
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    while argv and (PurePath(argv[0]).name in ("env", "command", "exec") or "=" in argv[0]):
        argv = argv[1:]  # `env X=1 echo ...` runs echo all the same
    if not argv:
        return None
    program = PurePath(argv[0]).name
    if program in _SHELLS and "-c" in argv[1:-1]:
        script = argv[argv.index("-c") + 1]
        # `sh -c 'echo "$TOKEN"'` prints what the shell computes, not a literal
        return None if any(c in script for c in "$`") else literal_command(script)
    if program in _PRINTERS:
        return f"api_key_cmd runs {program!r}, which prints a key written in the file"
    return None
