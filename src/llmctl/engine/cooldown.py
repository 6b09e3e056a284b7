"""Cooldown remembered across runs: an endpoint or an LLM that keeps failing is skipped,
without a request, until its cooldown ends.

What a failure counts against is the error class's `cools`. A connection-level failure
(refused, DNS, TLS) cools the endpoint (base URL) down at once, for every LLM on it: 15 s,
doubling while it keeps failing, at most 10 minutes; when that ends, one request probes
it. Failures of one model (read timeouts, 404, 429, 5xx) count against that LLM only: 3
failed runs in a row, then 60 s, doubling, at most 10 minutes.
Default: 3 consecutive failures, then 60 s, doubling while failures continue, capped at
10 minutes. Kept in a small JSON file in the data dir, changed under a lock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.engine.statefiles import set_aside, state_problem, state_trouble
from llmctl.errors import COOL_ENDPOINT, COOL_LLM, LlmctlError, ProviderError
from llmctl.files.cache import identity
from llmctl.files.io import atomic_write, json_value, locked
from llmctl.paths import Home
from llmctl.providers import resolve
from llmctl.providers.table import Provider
from llmctl.selection.decision import COOLDOWN, Skip

# (failures before a cooldown, its first period in seconds) by what failed
RULES = {COOL_ENDPOINT: (1, 15.0), COOL_LLM: (3, 60.0)}
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

    def keys_for(self, entry: LLM) -> tuple[str, str]:
        base, _source = resolve.base_url(entry, self.providers)
        return f"endpoint:{base}", f"llm:{entry.id}"

    def reason(self, entry: LLM, state: dict[str, dict[str, float]] | None = None) -> Skip | None:
        """Why `entry` is in cooldown now, or None."""
        state = self._seen() if state is None else state
        now = self.clock()
        for key in self.keys_for(entry):
            item = state.get(key)
            if item and item.get("until", 0) > now:
                what = "endpoint " + key[9:] if key.startswith("endpoint:") else "this LLM"
                return Skip(
                    COOLDOWN,
                    f"in cooldown for {item['until'] - now:.0f}s more ({what} failed "
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

    def failed(self, entry: LLM, error: ProviderError) -> None:
        """Count a failure against the endpoint or the LLM, as the error's class says."""
        if error.cools == COOL_ENDPOINT:
            key = self.keys_for(entry)[0]
        elif error.cools == COOL_LLM:
            key = self.keys_for(entry)[1]
        else:
            return  # bad requests, auth and context errors say nothing about health
        threshold, first = RULES[error.cools]
        self._update(lambda state: self._count(state, key, threshold, first))

    def listing(self) -> list[dict[str, Any]]:
        """Every LLM or endpoint with a failure on record (`cooldown list --json`):
        `{"key", "kind": "llm"|"endpoint", "failures", "until", "reason"}`, `until` (ISO, UTC)
        null when it is not cooling down yet."""
        now = self.clock()
        out = []
        for key, item in sorted(self._read().items()):
            until = item.get("until")
            cooling = bool(until and until > now)
            kind = "endpoint" if key.startswith("endpoint:") else "llm"
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

    def _count(self, state: dict[str, dict[str, float]], key: str, threshold: int, first: float) -> None:
        item = state.setdefault(key, {"failures": 0})
        item["failures"] = item.get("failures", 0) + 1
        over = int(item["failures"]) - threshold
        if over >= 0:
            item["until"] = self.clock() + min(first * (2 ** min(over, 16)), MAX_PERIOD)

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
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


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
