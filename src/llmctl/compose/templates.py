"""Templates: Jinja2's syntax, rendered in its sandbox with undefined names an error.

A template is the job's own text; the values put into it are data, never templates: Jinja2
inserts a value as it is (`{{` or `$10` in a value arrive byte for byte). A template keeps
its trailing newline. Jinja2 is imported only when a template that needs it is rendered or
checked: a template whose only syntax is `{{ name }}` placeholders is filled in directly,
with the same result (a test holds the two ways equal), so most jobs never load Jinja2.

Problems are raised as `TemplateFault` (kind, message, line, variable): the caller knows
whether the template is the user's file (exit 3 in `job check`) or a prompt being made
(exit 2), and which job it belongs to.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# `{{ name }}` alone: the form filled in without Jinja2 (no filters, no `-` trimming).
_PLACEHOLDER = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\}\}")
# Names Jinja2 itself gives a meaning (constants and its globals): never a value's name.
JINJA_NAMES = frozenset(
    {"true", "false", "none", "True", "False", "None", "range", "dict", "lipsum", "cycler", "joiner"}
    | {"namespace"}
)
_NEWLINES = re.compile(r"\r\n|\r")  # Jinja2 reads every line ending in a template as "\n"
# The sandbox's limits on what one expression may build (a template is the user's own
# text, but `{{ 'x' * 10**12 }}` should fail as a template error, not exhaust memory).
MAX_REPEAT = 1_000_000
MAX_POWER = 10_000

SYNTAX = "syntax"  # the template does not parse
UNDEFINED = "undefined"  # a name the template uses has no value
UNSAFE = "unsafe"  # the template reaches into Python internals (the sandbox refused)
RUNTIME = "runtime"  # any other failure while rendering (`{{ 1/0 }}`, a bad filter argument)


class TemplateFault(Exception):
    """A template that cannot be rendered. `kind` is one of SYNTAX, UNDEFINED, UNSAFE,
    RUNTIME; `line` is the template's own line (1-based) where known."""

    def __init__(self, kind: str, message: str, *, line: int | None = None, variable: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Compiled:
    """A parsed template: the names it reads, and either its placeholder pieces (literal
    text and names, alternating) or the Jinja2 template object."""

    names: frozenset[str]
    pieces: tuple[str, ...] | None
    jinja: Any = None
    lines: Mapping[str, int] | None = None  # each name's first line

    def line_of(self, name: str) -> int | None:
        """The template line where `name` is first read."""
        if self.pieces is None:
            return (self.lines or {}).get(name)
        index = self.pieces.index(name, 1) if name in self.pieces[1::2] else 0
        return "".join(self.pieces[:index]).count("\n") + 1 if index else None


def names_used(source: str) -> frozenset[str]:
    """Return the names the template reads from its values (`input` included).
    Raises TemplateFault (SYNTAX) when it does not parse."""
    return compile_template(source).names


def render(source: str, values: Mapping[str, Any]) -> str:
    """Return the template filled in with `values` (every name it reads must have one).

    Raises TemplateFault: SYNTAX, UNDEFINED (naming the first missing variable), UNSAFE
    (the sandbox refused an attribute) or RUNTIME."""
    compiled = compile_template(source)
    missing = sorted(compiled.names - values.keys())
    if missing:
        line = compiled.line_of(missing[0])
        raise TemplateFault(UNDEFINED, f"{missing[0]!r} is undefined", line=line, variable=missing[0])
    if compiled.pieces is not None:
        parts = list(compiled.pieces)
        for i in range(1, len(parts), 2):
            parts[i] = str(values[parts[i]])
        return "".join(parts)
    return _render_jinja(compiled.jinja, values)


@functools.lru_cache(maxsize=256)
def compile_template(source: str) -> Compiled:
    """Parse a template once per distinct text. Raises TemplateFault (SYNTAX)."""
    pieces = _placeholder_pieces(source)
    if pieces is not None:
        return Compiled(frozenset(pieces[1::2]), pieces)
    from jinja2 import TemplateSyntaxError, meta, nodes

    env = _environment()
    try:
        tree = env.parse(source)
        template = env.from_string(tree)
    except TemplateSyntaxError as exc:
        raise TemplateFault(SYNTAX, exc.message or "invalid template", line=exc.lineno) from None
    names = frozenset(meta.find_undeclared_variables(tree)) - JINJA_NAMES
    lines: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.name in names:
            lines.setdefault(node.name, node.lineno)
    return Compiled(names, None, template, lines)


def _placeholder_pieces(source: str) -> tuple[str, ...] | None:
    """The template split into literal text and placeholder names, when `{{ name }}` is its
    only syntax (None otherwise: Jinja2 renders it)."""
    if "{%" in source or "{#" in source:
        return None
    pieces = _PLACEHOLDER.split(_NEWLINES.sub("\n", source))
    if any("{{" in text for text in pieces[0::2]) or JINJA_NAMES.intersection(pieces[1::2]):
        return None  # `{{ a|upper }}`, `{{- a }}`, `{{ a.b }}`, `{{ true }}`...
    return tuple(pieces)


def _render_jinja(template: Any, values: Mapping[str, Any]) -> str:
    from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

    try:
        return template.render(values)
    except SecurityError as exc:
        raise TemplateFault(UNSAFE, f"reaches into Python internals ({exc})", line=_line(exc)) from None
    except UndefinedError as exc:
        raise TemplateFault(UNDEFINED, str(exc), line=_line(exc)) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise TemplateFault(RUNTIME, f"{type(exc).__name__}: {exc}", line=_line(exc)) from None


def _line(exc: BaseException) -> int | None:
    """The template line where rendering failed: Jinja2 rewrites the traceback so that the
    template's frames carry its own line numbers."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@functools.cache
def _environment() -> Any:
    """Jinja2's sandbox: undefined names raise, the trailing newline stays, nothing is
    escaped (a prompt is not HTML), and `*`/`**` are bounded."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and abs(right) > MAX_POWER:
                raise OverflowError(f"exponent {right} is over {MAX_POWER}")
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                    if sized and len(seq) * times > MAX_REPEAT:
                        raise OverflowError(f"repeating makes more than {MAX_REPEAT} items")
            return super().call_binop(context, operator, left, right)

    return Sandbox(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
