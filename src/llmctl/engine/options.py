"""What a send is told and what it uses, each one value handed down whole (as httpx hands
down its `Timeout` and `Limits`):

- `SendOptions`: the sending knobs a caller chooses (`prompt`, `batch`, `compare`, the
  client, `serve`'s `llmctl` object), checked once when built;
- `Labels`: what every usage record of the send is tagged with (book, job, scope, batch);
- `Services`: what the engine sends with: the HTTP pools, the state stores (cooldown,
  usage records, budgets' ledger, rate limiter, response cache), the clock and the sleeps.

A new sending knob is one field of `SendOptions` and its use where it applies; the CLI,
the client, the server, the sender, the router and the policy pass the value along as is.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

from llmctl.engine.keys import KEY_COMMANDS, KeyCommands
from llmctl.errors import UsageError
from llmctl.prefs.config import Config

if TYPE_CHECKING:
    import httpx

    from llmctl.catalog.entry import LLM
    from llmctl.engine.budget import Ledger
    from llmctl.engine.cache import ResponseCache
    from llmctl.engine.http import AsyncPool
    from llmctl.engine.ratelimit import RateLimiter
    from llmctl.engine.usage import AttemptRecord
    from llmctl.errors import ProviderError
    from llmctl.providers.table import Provider
    from llmctl.selection.decision import Skip


class CooldownState(Protocol):
    """What the policy asks of the cooldown memory (`engine.cooldown.Cooldown`)."""

    def reason(self, entry: LLM) -> Skip | None: ...

    def failed(self, entry: LLM, error: ProviderError, *, hold: float | None = None) -> None: ...

    def succeeded(self, entry: LLM) -> None: ...


DEFAULT_RETRIES = 2  # retries per LLM
LONGEST_TIMEOUT = 86_400.0  # a day: longer is a typing slip, not a time limit
MOST_RETRIES = 100
DEFAULT_CONCURRENCY = 8  # requests in flight at once (batch)
DEFAULT_RATE_LIMIT_WAIT = Config.rate_limit_wait  # seconds a try may wait for a slot (config.toml)


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to send, as the caller chose. Raises UsageError (exit 2) for a time limit that
    is not one (inf, NaN, over a day) or retries that are not a whole number from 0 to 100.

    `retries`: per LLM (None: the default, 2); `timeout`: seconds an attempt may take in all;
    `max_cost`: skip LLMs whose worst case costs more (USD); `cache`: use the response cache
    (None: the job's word, then config.toml's); `no_fallback`: send to the chosen LLM only;
    `simulate`: `FAULT@TARGET` specs (answer in process, send nothing); `seed`: makes the
    weighted draws between an LLM's deployments reproducible (`--seed`, `LLMCTL_SEED`)."""

    retries: int = DEFAULT_RETRIES
    timeout: float | None = None
    max_cost: float | None = None
    cache: bool | None = None
    no_fallback: bool = False
    simulate: tuple[str, ...] = ()
    seed: int | None = None

    @classmethod
    def of(cls, **given: Any) -> SendOptions:
        """The options given, None standing for the default (as the CLI's options do)."""
        return cls(**{name: value for name, value in given.items() if value is not None})

    def __post_init__(self) -> None:
        retries = DEFAULT_RETRIES if self.retries is None else retry_count(self.retries)
        object.__setattr__(self, "retries", retries)
        object.__setattr__(self, "timeout", time_limit(self.timeout))
        object.__setattr__(self, "simulate", tuple(self.simulate or ()))


# The options a request to `serve` may give in its `"llmctl"` object, with their JSON kinds
# (`simulate` is the server's own, chosen when it starts).
REQUEST_KINDS: dict[str, type] = {
    "max_cost": float,
    "cache": bool,
    "no_fallback": bool,
    "retries": int,
    "timeout": float,
}


@dataclass(frozen=True, slots=True)
class Labels:
    """What the usage records of a send are tagged with."""

    book: str | None = None
    job: str | None = None
    scope: str | None = None
    batch_id: str | None = None
    template_hash: str | None = None  # the version of the job's work sent (compose)


@dataclass(slots=True)
class Services:
    """What the engine sends with. Every store is optional (None: not kept); `client` and
    `apool` are made on first use when None. Tests pass their own clock, sleeps and pools."""

    client: httpx.Client | None = None
    apool: AsyncPool | None = None
    providers: Mapping[str, Provider] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    sleep: Callable[[float], None] = time.sleep
    asleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    cooldown: CooldownState | None = None
    record: Callable[[AttemptRecord], None] | None = None
    ledger: Ledger | None = None  # budgets: reserve before sending
    limiter: RateLimiter | None = None  # rate limits across processes
    cache: ResponseCache | None = None  # the response cache, when this send uses it
    max_wait: float = DEFAULT_RATE_LIMIT_WAIT  # config.toml's rate_limit_wait
    max_bytes: int | None = None  # the largest answer read (config.toml's max_response_bytes)
    require_key: bool = True
    key_commands: KeyCommands = field(default_factory=lambda: KEY_COMMANDS)  # api_key_cmd
    # Extra headers on every request (the simulator reads which LLM a request is for).
    tag: Callable[[LLM], dict[str, str]] | None = None


def time_limit(seconds: float | None) -> float | None:
    """A time limit in seconds as given (None: none). Raises UsageError (exit 2) for one
    that is not a number of seconds above 0 and at most a day (inf, NaN)."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise UsageError(f"the time limit must be a number of seconds, not {seconds!r}")
    if not 0 < seconds <= LONGEST_TIMEOUT:  # NaN fails every comparison
        raise UsageError(
            f"the time limit must be above 0 and at most {LONGEST_TIMEOUT:g} seconds (a day), not {seconds}"
        )
    return float(seconds)


def retry_count(retries: int) -> int:
    """Retries per LLM as given. Raises UsageError (exit 2) for one that is not a whole
    number from 0 to 100."""
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MOST_RETRIES:
        raise UsageError(f"retries must be a whole number from 0 to {MOST_RETRIES}, not {retries!r}")
    return retries


def bundled(**given: Any) -> tuple[Services, SendOptions, Labels]:
    """Loose fields sorted into their bundles: `bundled(env=..., retries=0, book="moby")`
    (a convenience for tests and scripts). Raises TypeError naming a field of none."""
    parts: list[dict[str, Any]] = [{}, {}, {}]
    names = [{f.name for f in fields(kind)} for kind in (Services, SendOptions, Labels)]
    for name, value in given.items():
        where = next((n for n, known in enumerate(names) if name in known), None)
        if where is None:
            raise TypeError(f"no sending field is called {name!r}")
        parts[where][name] = value
    return Services(**parts[0]), SendOptions(**parts[1]), Labels(**parts[2])
