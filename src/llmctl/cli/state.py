"""Per-invocation state shared by commands: the resolved home and catalog (loaded once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from llmctl.catalog.load import Catalog
    from llmctl.paths import Home


@dataclass
class State:
    home_arg: str | None = None
    catalog_arg: str | None = None
    _home: Home | None = field(default=None, repr=False)
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def home(self) -> Home:
        if self._home is None:
            from llmctl.paths import Home

            self._home = Home.resolve(self.home_arg)
        return self._home

    def catalog(self) -> Catalog:
        if self._catalog is None:
            from llmctl.catalog.load import load_catalog

            self._catalog = load_catalog(self.home, self.catalog_arg)
            if self._catalog.orphans:
                from llmctl.cli.output import warn

                ids = ", ".join(self._catalog.orphans)
                warn(
                    f"{self._catalog.user_path} patches {ids}, not in the base catalog: ignored "
                    f"(`llmctl remove {self._catalog.orphans[0]}` deletes the patch)"
                )
        return self._catalog


def state(ctx: typer.Context) -> State:
    """Return the State the top-level callback stored (a fresh one when called bare)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()
