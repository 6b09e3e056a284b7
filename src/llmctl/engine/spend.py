"""The spending rules of one chain run: --max-cost, and the budgets' reservation held for
the LLM being sent to (renewed while it runs, released when its run is over)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmctl.catalog.costs import request_cost, usd
from llmctl.catalog.entry import LLM
from llmctl.engine.options import Labels
from llmctl.providers.table import is_local
from llmctl.selection.decision import BUDGET, MAX_COST, Skip

if TYPE_CHECKING:
    from llmctl.engine.budget import Ledger

RENEW_EVERY = 60.0  # seconds: a running attempt renews its budget reservation at most this often


@dataclass
class Spending:
    """What a run may spend, and the reservation it holds for the LLM being sent to."""

    ledger: Ledger | None
    max_cost: float | None
    labels: Labels
    _reservation: int | None = None
    _renewed: float = 0.0  # when the reservation was last made or renewed (ledger clock)

    def check(
        self,
        entry: LLM,
        prompt_tokens: int,
        prompt_bound: int | None,
        max_tokens: int | None,
        *,
        hold: bool = True,
    ) -> Skip | None:
        """Why the worst case of sending to `entry` may not be spent (--max-cost, a budget);
        reserves it against the budgets when it may (unless `hold` is False: a dry run).
        The reservation takes the prompt at its upper bound (`prompt_bound`), so that no
        script (CJK, emoji) can take a budget past its limit; --max-cost the contract's
        worst case."""
        costs = request_cost(entry, prompt_tokens, max_tokens)
        if costs is None:
            # An unknown price cannot be held to a limit: it is not taken for free (unless
            # the LLM runs on this machine).
            if is_local(entry.provider):
                return None
            if self.max_cost is not None:
                return Skip(MAX_COST, "its price is unknown, so --max-cost cannot be kept")
            if self.ledger is not None and self.ledger.applicable(self.labels.book, self.labels.scope):
                return Skip(BUDGET, "its price is unknown, so the budget cannot be kept")
            return None
        worst = sum(costs)
        if self.max_cost is not None and worst > self.max_cost:
            return Skip(MAX_COST, f"worst case ${usd(worst)} is over --max-cost ${usd(self.max_cost)}")
        if self.ledger is not None:
            bound = prompt_tokens if prompt_bound is None else prompt_bound
            held = sum(request_cost(entry, max(bound, prompt_tokens), max_tokens) or costs)
            reservation, why = self.ledger.reserve(
                entry, held, self.labels.book, self.labels.scope, hold=hold
            )
            if hold:
                self._reservation, self._renewed = reservation, self.ledger.clock()
            return None if why is None else Skip(BUDGET, why)
        return None

    def still_sending(self) -> None:
        """The attempt is still streaming: its reservation is renewed, at most once every
        RENEW_EVERY seconds."""
        if self.ledger is None or self._reservation is None:
            return
        if self.ledger.clock() - self._renewed >= RENEW_EVERY:
            self.renew()

    def renew(self) -> None:
        """Hold the reservation another 10 minutes."""
        reservation = self._reservation
        if self.ledger is None or reservation is None:
            return
        self.ledger.extend(reservation)
        self._renewed = self.ledger.clock()

    def holds(self) -> bool:
        """Whether a reservation is held."""
        return self._reservation is not None

    def settle(self) -> None:
        """The LLM's run is over: its reservation gives way to the recorded cost."""
        if self.ledger is not None and self._reservation is not None:
            self.ledger.release(self._reservation)
        self._reservation = None

    def forget(self) -> None:
        """Drop the reservation without releasing it (it expires on its own)."""
        self._reservation = None
