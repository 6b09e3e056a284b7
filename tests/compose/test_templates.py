"""Templates: the sandbox, undefined names, values as data, and the placeholder-only way
giving what Jinja2 gives."""

from __future__ import annotations

import pytest

from compose.homes import TRICKY
from llmctl.compose import templates
from llmctl.compose.templates import TemplateFault, render

PLACEHOLDER_ONLY = [
    "Hello {{ name }}",
    "{{name}}{{ other }}\n",
    "a\r\nb {{ name }}\r\n\r\n",
    "}} stray {{ name }} }}",
    "",
    "no syntax at all\n",
]


def jinja_render(source: str, values: dict) -> str:
    """What Jinja2's sandbox makes of the template, without the placeholder way."""
    return templates._render_jinja(templates._environment().from_string(source), values)


@pytest.mark.parametrize("source", PLACEHOLDER_ONLY)
def test_placeholder_templates_render_as_jinja_does(source):
    values = {"name": TRICKY, "other": "x\r\ny"}
    assert templates.compile_template(source).pieces is not None
    assert render(source, values) == jinja_render(source, values)


@pytest.mark.parametrize(
    "source",
    ["{{ name|upper }}", "{{- name }}", "{% if name %}x{% endif %}", "{# c #}{{ name }}", "{{ true }}"],
)
def test_other_syntax_goes_to_jinja(source):
    assert templates.compile_template(source).pieces is None
    assert render(source, {"name": "n"}) == jinja_render(source, {"name": "n"})


@pytest.mark.parametrize("source", ["{{ v }}", "{% if v %}[{{ v }}]{% endif %}"])
def test_values_are_data_never_templates(source):
    out = render(source, {"v": TRICKY})
    assert TRICKY in out


def test_a_template_keeps_its_trailing_newline():
    assert render("x {{ a }}\n", {"a": "1"}) == "x 1\n"
    assert render("{% if a %}x{% endif %}\n\n", {"a": "1"}) == "x\n\n"


def test_an_undefined_name_is_an_error_naming_it():
    with pytest.raises(TemplateFault) as caught:
        render("Hi {{ who }}", {})
    assert (caught.value.kind, caught.value.variable) == (templates.UNDEFINED, "who")
    assert caught.value.line == 1
    with pytest.raises(TemplateFault) as caught:
        render("a\n{% if x %}\n{{ who }}{% endif %}", {"x": "1"})
    assert (caught.value.variable, caught.value.line) == ("who", 3)
    with pytest.raises(TemplateFault) as caught:
        render("a\nb {{ x }}\n\n{{ who }}", {"x": "1"})
    assert (caught.value.variable, caught.value.line) == ("who", 4)


def test_a_syntax_error_names_its_line():
    with pytest.raises(TemplateFault) as caught:
        render("line one\nline two\n{% if %}\n", {})
    assert (caught.value.kind, caught.value.line) == (templates.SYNTAX, 3)


def test_reaching_into_python_internals_is_refused():
    for source in ("{{ ''.__class__.__mro__ }}", "{{ v.__class__.__init__.__globals__ }}"):
        with pytest.raises(TemplateFault) as caught:
            render(source, {"v": "x"})
        assert caught.value.kind == templates.UNSAFE
        assert "Python internals" in caught.value.message


def test_an_expression_that_would_exhaust_memory_fails():
    for source in ("{{ 'a' * 10**9 }}", "{{ 2 ** 100000 }}", "{{ [1] * 10**9 }}"):
        with pytest.raises(TemplateFault) as caught:
            render(source, {})
        assert caught.value.kind == templates.RUNTIME


def test_a_runtime_error_names_its_line():
    with pytest.raises(TemplateFault) as caught:
        render("a\nb\n{{ 1 / 0 }}", {})
    assert (caught.value.kind, caught.value.line) == (templates.RUNTIME, 3)


def test_names_used_knows_input_and_ignores_jinja_globals():
    assert templates.names_used("{% for i in range(2) %}{{ i }}{% endfor %}{{ input }}{{ a }}") == {
        "input",
        "a",
    }
    assert templates.names_used("{{ a }} {{ input }}") == {"a", "input"}
