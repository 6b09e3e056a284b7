"""Job types: the bundled set, patched or extended by the home's jobs.toml."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from llmctl.catalog.entry import PositiveInt
from llmctl.errors import FileError, UnknownNameError
from llmctl.files.cache import cached
from llmctl.files.io import line_in_table, load, no_directory
from llmctl.files.validation import Check, describe_error, spec_of
from llmctl.paths import Home
from llmctl.prefs.config import Config

if TYPE_CHECKING:
    from pydantic import BaseModel

ORIGIN_BUNDLED_JOBS = "bundled jobs"
ORIGIN_JOBS_FILE = "jobs file"


NOT_IN_FILE = {"file": False}


def bundled_jobs_path() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "jobs.toml"


@dataclass(slots=True)
class Job:
    """A job type: the group its LLM must be valid for, and what the LLM must offer
    (the one definition of a jobs.toml table's fields; the seed calls `group`
    `allowed_llm_group`)."""

    name: str = field(metadata=NOT_IN_FILE)
    group: Annotated[str, Check(alias="allowed_llm_group")]
    tier: str | None = None
    capabilities: list[str] = field(default_factory=list)
    min_context: PositiveInt | None = None
    description: str | None = None
    cache: Annotated[bool, Check(strict=True)] | None = None  # use the response cache for this job
    origin: str = field(default=ORIGIN_BUNDLED_JOBS, metadata=NOT_IN_FILE)
    patched: tuple[str, ...] = field(default=(), metadata=NOT_IN_FILE)

    def to_dict(self) -> dict[str, Any]:
        """The `job list --json` shape."""
        return {
            "name": self.name,
            "group": self.group,
            "tier": self.tier,
            "capabilities": list(self.capabilities),
            "min_context": self.min_context,
            "description": self.description,
            "origin": self.origin,
        }


def load_jobs(home: Home, config: Config) -> dict[str, Job]:
    """Return every job type by name. Raises FileError for a jobs file with problems."""
    groups = config.extra_groups
    bundled = _read(bundled_jobs_path(), home.cache_dir, groups)
    no_directory(home.jobs_file)
    user = _read(home.jobs_file, home.cache_dir, groups) if home.jobs_file.exists() else {}
    jobs: dict[str, Job] = {}
    for name in sorted({*bundled, *user}):
        data = {**bundled.get(name, {}), **user.get(name, {})}
        if "group" not in data:
            raise FileError(home.jobs_file, "a new job needs `group`", entry=name, field="group")
        origin = ORIGIN_BUNDLED_JOBS if name in bundled else ORIGIN_JOBS_FILE
        patched = tuple(user.get(name, {})) if name in bundled else ()
        jobs[name] = Job(name=name, origin=origin, patched=patched, **data)
    return jobs


def get_job(jobs: dict[str, Job], name: str) -> Job:
    """Return the job type called `name`. Raises UnknownNameError with the closest names."""
    try:
        return jobs[name]
    except KeyError:
        raise UnknownNameError("job", name, jobs, hint=f"jobs: {', '.join(jobs)}") from None


@functools.cache
def jobs_file_spec() -> type[BaseModel]:
    """The pydantic model of jobs.toml; each job's is derived from `Job` (every field optional:
    a table patches a bundled job or adds one)."""
    from llmctl.prefs import specs

    return specs.jobs_file_spec(spec_of(Job, specs.JobChecks, patch=True, name="JobSpec"))


def _read(path: Path, cache_dir: Path | None, groups: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    salt = "jobs:" + ",".join(groups)
    return cached(path, cache_dir, salt, lambda: _validate(path, groups))


def _validate(path: Path, groups: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    from pydantic import ValidationError

    JobsFileSpec = jobs_file_spec()

    data, text = load(path)
    spec: Any  # a model built at run time: the checker does not know its `jobs` field
    try:
        spec = JobsFileSpec.model_validate(data, context={"extra_groups": groups})
    except ValidationError as exc:
        problems = [(err, describe_error(err, JobsFileSpec)) for err in exc.errors()]
        err, (fld, message) = problems[0]
        loc = [str(p) for p in err.get("loc", ())]
        job = loc[1] if len(loc) > 1 and loc[0] == "jobs" else None
        field_name = ".".join(loc[2:]) or None
        raise FileError(
            path,
            message,
            line=line_in_table(text, f"jobs.{job}", loc[2] if len(loc) > 2 else None) if job else None,
            entry=job,
            field=field_name or fld,
            more=[f"{path}: {f}: {m}" for _e, (f, m) in problems[1:]],
        ) from None
    return {name: job.model_dump(mode="json", exclude_unset=True) for name, job in spec.jobs.items()}
