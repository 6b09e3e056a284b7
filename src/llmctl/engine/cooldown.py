"""Cooldown remembered across runs: an endpoint, a deployment or a key that keeps failing
is skipped, without a request, until its cooldown ends.

What a failure counts against is the error class's `cools`, under one of three keys:
- `endpoint:<base URL>`: a connection-level failure (refused, DNS, TLS, connect) cools the
  endpoint at once, for every LLM on it: 15 s, doubling while it keeps failing;
- `deployment:<llm>@<id>`: failures of one model through one deployment (read timeouts,
  408, 404, 429, 5xx): 3 failed runs in a row, then 60 s, doubling;
- `key:<ENV VAR NAME>`: a 401/403 cools the key at once, for every deployment using it.
Every period is at most 10 minutes, except a 429 whose Retry-After is longer than the
wait allowed for a slot (`rate_limit_wait`): its deployment then cools that long. A
cooldown is only ever extended, never shortened by a later, shorter one. (`llm:<id>`
keys, from before deployments, are still honoured and cleared.) Kept in a small JSON file
in the data dir, changed under a lock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.engine.records import deployment_id
from llmctl.engine.statefiles import set_aside, state_problem, state_trouble
from llmctl.errors import COOL_ENDPOINT, COOL_KEY, COOL_LLM, LlmctlError, ProviderError
from llmctl.files.cache import identity
from llmctl.files.io import atomic_write, json_value, locked
from llmctl.paths import Home
from llmctl.providers import resolve
from llmctl.providers.table import Provider
from llmctl.selection.decision import COOLDOWN, Skip

# (failures before a cooldown, its first period in seconds) by what failed
RULES = {COOL_ENDPOINT: (1, 15.0), COOL_LLM: (3, 60.0), COOL_KEY: (1, 60.0)}
THRESHOLD = RULES[COOL_LLM][0]
MAX_PERIOD = 600.0
WHAT = "the cooldown state"
__all__ = ["Cooldown", "state_problem"]  # state_problem: where other modules have found it


@dataclass
class Cooldown:
    """Reads and updates the cooldown state file. `clock` is wall time (seconds)."""

    path: Path
    lock_path: Path
    providers: Mapping[str, Provider]
    clock: Callable[[], float] = time.time
    _memo: tuple[Any, dict[str, dict[str, float]]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_home(cls, home: Home, providers: Mapping[str, Provider] | None = None) -> Cooldown:
        return cls(
            home.data_dir / "state" / "cooldown.json",
            home.data_dir / "state" / ".cooldown.lock",
            providers or {},
        )

    def _seen(self) -> dict[str, dict[str, float]]:
        """The state for reading only (never changed by the caller): the last one read while
        the file is unchanged, so a long-lived sender (`llmctl serve`) pays one stat a request."""
        key = identity(self.path)
        if key is None:
            return self._read()  # absent: nothing; unreadable: says why
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        state = self._read()
        self._memo = (key, state)
        return state

    def _read(self) -> dict[str, dict[str, float]]:
        """The state; a state file that cannot be read only forgets cooldowns (with a
        warning), and a damaged one is set aside, named in the warning."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError:
            text = ""  # damaged: set aside below
        except OSError as exc:
            state_trouble(self.path, WHAT, f"cannot be read ({_why(exc)}): it is forgotten for now")
            return {}
        try:
            data = json_value(text)
        except ValueError:  # not JSON, or nested too deeply to read
            data = None
        if not _well_formed(data):
            set_aside(self.path, WHAT)
            return {}
        return data

    def keys_for(self, entry: LLM) -> list[str]:
        """The keys that hold `entry` (as reached through one deployment) back: its
        endpoint's, its deployment's, its key's (when it has one) and the legacy `llm:`."""
        base, _source = resolve.base_url(entry, self.providers)
        keys = [f"endpoint:{base}"]
        dep = deployment_id(entry)
        if dep is not None:
            keys.append(f"deployment:{entry.id}@{dep}")
        name = resolve.key_env(entry, self.providers)
        if name:
            keys.append(f"key:{name}")
        keys.append(f"llm:{entry.id}")
        return keys

    def _counted_key(self, entry: LLM, cools: str) -> str:
        """The key a failure of class `cools` counts against."""
        if cools == COOL_ENDPOINT:
            return self.keys_for(entry)[0]
        if cools == COOL_KEY:
            name = resolve.key_env(entry, self.providers)
            if name:
                return f"key:{name}"
        return f"deployment:{entry.id}@{deployment_id(entry) or entry.provider}"

    def reason(self, entry: LLM, state: dict[str, dict[str, float]] | None = None) -> Skip | None:
        """Why `entry` is in cooldown now, or None."""
        state = self._seen() if state is None else state
        now = self.clock()
        for key in self.keys_for(entry):
            item = state.get(key)
            if item and item.get("until", 0) > now:
                kind, _, what = key.partition(":")
                noun = "this LLM" if kind == "llm" else f"{kind} {what}"
                return Skip(
                    COOLDOWN,
                    f"in cooldown for {item['until'] - now:.0f}s more ({noun} failed "
                    f"{int(item.get('failures', 0))} times in a row)",
                )
        return None

    def remaining(self, entry: LLM) -> float:
        """Seconds until `entry` is out of cooldown (0 when it is not cooling down)."""
        state = self._seen()
        ends = [float((state.get(key) or {}).get("until", 0)) for key in self.keys_for(entry)]
        return max(0.0, max(ends) - self.clock())

    def hook(self) -> Callable[[LLM], Skip | None]:
        """A picker `unavailable` hook that reads the state file once."""
        state = self._seen()
        return lambda entry: self.reason(entry, state) if state else None

    def failed(self, entry: LLM, error: ProviderError, *, hold: float | None = None) -> None:
        """Count a failure against the endpoint, the deployment or the key, as the error's
        class says; `hold`: cool it at least that many seconds now (a long Retry-After)."""
        if error.cools not in RULES:
            return  # bad requests and context errors say nothing about health
        key = self._counted_key(entry, error.cools)
        threshold, first = RULES[error.cools]
        self._update(lambda state: self._count(state, key, threshold, first, hold))

    def listing(self) -> list[dict[str, Any]]:
        """Every endpoint, deployment or key with a failure on record (`cooldown list --json`):
        `{"key", "kind": "endpoint"|"deployment"|"key"|"llm", "failures", "until", "reason"}`,
        `until` (ISO, UTC) null when it is not cooling down yet."""
        now = self.clock()
        out = []
        for key, item in sorted(self._read().items()):
            until = item.get("until")
            cooling = bool(until and until > now)
            kind = key.partition(":")[0]
            failures = int(item.get("failures", 0))
            out.append(
                {
                    "key": key,
                    "kind": kind,
                    "failures": failures,
                    "until": _iso(until) if cooling else None,
                    "reason": (
                        f"{failures} failures in a row; {until - now:.0f}s of cooldown left"
                        if cooling
                        else f"{failures} failures in a row; not cooling down yet"
                    ),
                }
            )
        return out

    def clear(self, keys: list[str] | None) -> list[str]:
        """Forget the given keys (all with None); return the keys forgotten."""
        cleared: list[str] = []

        def change(state: dict[str, dict[str, float]]) -> None:
            for key in list(state) if keys is None else keys:
                if state.pop(key, None) is not None:
                    cleared.append(key)

        self._update(change)
        return cleared

    def succeeded(self, entry: LLM) -> None:
        keys = self.keys_for(entry)
        if not any(key in self._seen() for key in keys):
            return  # the common case, read without the lock: nothing to forget
        self._update(lambda state: [state.pop(k, None) for k in keys])

    def _count(
        self,
        state: dict[str, dict[str, float]],
        key: str,
        threshold: int,
        first: float,
        hold: float | None = None,
    ) -> None:
        """One more failure against `key`; past the threshold (or with `hold`) it cools,
        never ending sooner than a cooldown already set."""
        item = state.setdefault(key, {"failures": 0})
        item["failures"] = item.get("failures", 0) + 1
        over = int(item["failures"]) - threshold
        ends = [float(item.get("until", 0))]
        if over >= 0:
            ends.append(self.clock() + min(first * (2 ** min(over, 16)), MAX_PERIOD))
        if hold:
            ends.append(self.clock() + hold)
        if max(ends) > 0:
            item["until"] = max(ends)

    def _update(self, change: Callable[[dict[str, dict[str, float]]], Any]) -> None:
        try:
            with locked(self.lock_path, timeout=10):
                state = self._read()
                before = json.dumps(state, sort_keys=True)
                change(state)
                if json.dumps(state, sort_keys=True) != before:
                    atomic_write(self.path, json.dumps(state, indent=1, sort_keys=True))
        except (OSError, LlmctlError) as exc:  # the answer matters more than this memory
            state_trouble(self.path, WHAT, f"cannot be written ({_why(exc)}): it is not remembered")


def _iso(seconds: float) -> str:
    """The time as ISO 8601 UTC; a time past the calendar's end (a hand-edited or damaged
    state file) reads as its last second, never a traceback."""
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):
        return dt.datetime.max.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")


def _well_formed(data: Any) -> bool:
    """A dict of keys to {"failures": number, "until": number (optional)}."""
    if not isinstance(data, dict):
        return False
    for key, item in data.items():
        if not isinstance(key, str) or not isinstance(item, dict):
            return False
        for name in ("failures", "until"):
            value = item.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
    return True


def _why(exc: BaseException) -> str:
    return getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc)
