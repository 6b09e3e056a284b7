"""Job types: the bundled set, patched or extended by the home's jobs.toml. A job names the
LLM it needs and, optionally, what it sends: its system prompt and prompt template (inline or
`prompt_file`), its parameters, its variables and the shape of its answer (`output`, `schema`
or `schema_file`). Templates are only declared here; `llmctl.compose` renders them."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from llmctl.catalog.entry import PositiveInt
from llmctl.errors import FileError, UnknownNameError
from llmctl.files.cache import cached
from llmctl.files.io import load, no_directory, table_line
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


OUTPUTS = ("text", "json")
TEMPLATE_FIELDS = ("system", "prompt")


@dataclass(slots=True)
class JobVar:
    """A variable of a job's templates (`[jobs.NAME.vars.VAR]`). With `file`, a value is a
    path (relative to the home in files of the home) whose text is used."""

    required: Annotated[bool, Check(strict=True)] = False
    default: str | None = None
    description: str | None = None
    file: Annotated[bool, Check(strict=True)] = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "required": self.required,
            "default": self.default,
            "description": self.description,
            "file": self.file,
        }


@dataclass(slots=True)
class JobParams:
    """The sampling parameters a job passes to the provider (command-line options win)."""

    temperature: Annotated[float, Check(ge=0, le=2)] | None = None
    max_tokens: PositiveInt | None = None
    top_p: Annotated[float, Check(ge=0, le=1)] | None = None
    stop: str | list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The parameters set, by name (those left unset are absent)."""
        return {k: v for k, v in _record_items(self) if v is not None}


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
    system: str | None = None
    prompt: str | None = None
    prompt_file: str | None = None  # relative to the home
    params: JobParams = field(default_factory=JobParams)
    vars: dict[str, JobVar] = field(default_factory=dict)
    output: Literal["text", "json"] | None = None
    # `schema` in the file (a pydantic model cannot have a field of that name)
    json_schema: Annotated[dict[str, Any] | None, Check(alias="schema")] = None
    schema_file: str | None = None  # relative to the home
    origin: str = field(default=ORIGIN_BUNDLED_JOBS, metadata=NOT_IN_FILE)
    patched: tuple[str, ...] = field(default=(), metadata=NOT_IN_FILE)
    path: Path | None = field(default=None, metadata=NOT_IN_FILE)  # the file that sets its work

    @property
    def answers_json(self) -> bool:
        """True when the job asks for JSON: `output = "json"`, or a schema."""
        return self.output == "json" or self.json_schema is not None or self.schema_file is not None

    @property
    def has_work(self) -> bool:
        """True when the job carries a template, parameters, variables or an answer shape."""
        return (
            bool(self.system or self.prompt or self.prompt_file or self.params.to_dict() or self.vars)
            or self.answers_json
        )

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
    bundled_path = bundled_jobs_path()
    bundled = _read(bundled_path, home.cache_dir, groups)
    no_directory(home.jobs_file)
    user = _read(home.jobs_file, home.cache_dir, groups) if home.jobs_file.exists() else {}
    jobs: dict[str, Job] = {}
    for name in sorted({*bundled, *user}):
        data = {**bundled.get(name, {}), **user.get(name, {})}
        if "group" not in data:
            raise FileError(home.jobs_file, "a new job needs `group`", entry=name, field="group")
        origin = ORIGIN_BUNDLED_JOBS if name in bundled else ORIGIN_JOBS_FILE
        patched = tuple(user.get(name, {})) if name in bundled else ()
        path = home.jobs_file if name in user else bundled_path
        jobs[name] = _job(name, data, origin=origin, patched=patched, path=path)
    return jobs


def _job(name: str, data: dict[str, Any], **where: Any) -> Job:
    """A Job from its validated, JSON-able fields (nested tables made records again)."""
    fields = dict(data)
    fields["params"] = JobParams(**(fields.get("params") or {}))
    fields["vars"] = {var: JobVar(**spec) for var, spec in (fields.get("vars") or {}).items()}
    return Job(name=name, **fields, **where)


def field_origin(job: Job, name: str) -> str:
    """Where a job's field comes from: the bundled jobs, or the home's jobs file."""
    return ORIGIN_JOBS_FILE if job.origin == ORIGIN_JOBS_FILE or name in job.patched else ORIGIN_BUNDLED_JOBS


def _first_bad_name(data: Any, loc: list[str]) -> list[str]:
    """[NAME] of the first bad variable name when the error is about a job's `vars`, else []."""
    from llmctl.prefs.specs import bad_var_names

    if len(loc) != 3 or loc[2] != "vars":
        return []
    try:
        return [name for name, _why in bad_var_names(data["jobs"][loc[1]]["vars"])[:1]]
    except (KeyError, TypeError):
        return []


def _record_items(record: Any) -> list[tuple[str, Any]]:
    return [(f.name, getattr(record, f.name)) for f in dataclasses.fields(record)]


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

    nested = {JobVar: specs.JobVarChecks, JobParams: specs.Strict}
    return specs.jobs_file_spec(spec_of(Job, specs.JobChecks, patch=True, name="JobSpec", nested=nested))


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
            line=table_line(text, loc + _first_bad_name(data, loc)) if job else None,
            entry=job,
            field=field_name or fld,
            more=[f"{path}: {f}: {m}" for _e, (f, m) in problems[1:]],
        ) from None
    return {name: job.model_dump(mode="json", exclude_unset=True) for name, job in spec.jobs.items()}
