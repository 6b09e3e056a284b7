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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.errors import COOL_ENDPOINT, COOL_LLM, ProviderError
from llmctl.files.io import atomic_write, locked
from llmctl.paths import Home
from llmctl.providers import resolve
from llmctl.providers.table import Provider
from llmctl.selection.decision import COOLDOWN, Skip

# (failures before a cooldown, its first period in seconds) by what failed
RULES = {COOL_ENDPOINT: (1, 15.0), COOL_LLM: (3, 60.0)}
THRESHOLD = RULES[COOL_LLM][0]
MAX_PERIOD = 600.0


@dataclass
class Cooldown:
    """Reads and updates the cooldown state file. `clock` is wall time (seconds)."""

    path: Path
    lock_path: Path
    providers: Mapping[str, Provider]
    clock: Callable[[], float] = time.time

    @classmethod
    def for_home(cls, home: Home, providers: Mapping[str, Provider] | None = None) -> Cooldown:
        return cls(
            home.data_dir / "state" / "cooldown.json",
            home.data_dir / "state" / ".cooldown.lock",
            providers or {},
        )

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # a missing or damaged state file only forgets cooldowns

    def keys_for(self, entry: LLM) -> tuple[str, str]:
        base, _source = resolve.base_url(entry, self.providers)
        return f"endpoint:{base}", f"llm:{entry.id}"

    def reason(self, entry: LLM, state: dict[str, dict[str, float]] | None = None) -> Skip | None:
        """Why `entry` is in cooldown now, or None."""
        state = self._read() if state is None else state
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

    def hook(self) -> Callable[[LLM], Skip | None]:
        """A picker `unavailable` hook that reads the state file once."""
        state = self._read()
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

    def succeeded(self, entry: LLM) -> None:
        keys = self.keys_for(entry)
        if not self.path.exists():
            return
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
        except OSError:
            pass  # a read-only data dir only loses the memory of failures
