"""What a prompt will do, decided before anything is sent: the chain to walk, the LLMs the
picker passed over, and what the records are tagged with; and the `--no-fallback` rule for
an LLM named with `--llm`."""

from __future__ import annotations

from dataclasses import dataclass, field

from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.engine.records import Attempt
from llmctl.errors import NoMatchError, UsageError
from llmctl.selection.decision import Decision
from llmctl.selection.request import Selection


@dataclass
class Plan:
    """What a prompt will do: the decision, the chain to walk and the LLMs the picker
    passed over (reported as skipped attempts), with the warnings to show first."""

    decision: Decision
    warnings: list[str]
    chain: list[LLM]
    passed_over: list[Attempt] = field(default_factory=list)
    book: str | None = None
    job: str | None = None
    scope: str | None = None
    cache: bool | None = None  # the job's own word on the response cache
    template_hash: str | None = None  # the version of the job's work the request was rendered from

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        selection: Selection,
        decision: Decision,
        warnings: list[str],
        *,
        no_fallback: bool = False,
    ) -> Plan:
        """The plan of `decision` (its first LLM only with `no_fallback`), the LLMs the
        picker passed over as skipped attempts."""
        chain = decision.chain[:1] if no_fallback else list(decision.chain)
        passed = []
        for llm_id, why in decision.passed_over:
            entry = catalog.entries.get(llm_id)
            passed.append(Attempt.passed_over(llm_id, entry.provider if entry else None, why))
        job = decision.request.job
        return cls(
            decision,
            warnings,
            chain,
            passed,
            selection.book,
            job.name if job else None,
            selection.scope,
            getattr(job, "cache", None),
        )


def check_named(catalog: Catalog, decision: Decision) -> None:
    """With --no-fallback, an LLM named with --llm is sent to or nothing is. Raises
    UsageError when a book override wins, NoMatchError (with why) when it was skipped."""
    named = decision.request.llm
    if named is None:
        return
    llm_id, chosen = catalog.resolve_id(named), decision.llm
    if chosen is not None and chosen.id == llm_id:
        return
    why = next((skip for skipped, skip in decision.passed_over if skipped == llm_id), None)
    if why is None and chosen is None:
        return  # nothing fits at all: the picker's own error says why
    if why is None:
        raise UsageError(
            f"--no-fallback: this request gets {chosen.id if chosen else None} (rule {decision.rule}), "
            f"not {llm_id}; "
            "nothing was sent",
            hint="the book's override comes before --llm",
        )
    raise NoMatchError(f"{llm_id} was skipped: {why}; nothing was sent (--no-fallback)", runtime=why.runtime)
