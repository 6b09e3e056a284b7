"""Deployments on catalog entries: the record, the implicit one, validation, merging, the
validated-content cache, and the two dict shapes (`list --json` and export)."""

from __future__ import annotations

import json

import pytest

from conftest import entry, write_json
from llmctl.catalog.entry import LLM, Deployment
from llmctl.catalog.load import load_catalog
from llmctl.errors import FileError
from llmctl.paths import Home

GPT5 = {
    "id": "openai/gpt-5",
    "valid_groups": ["writer"],
    "input_cost_per_mtok": 1.25,
    "output_cost_per_mtok": 10.0,
    "deployments": [
        {"id": "openai", "provider": "openai"},
        {"id": "openrouter", "provider": "openrouter", "weight": 0.5, "input_cost_per_mtok": 1.5},
        {"id": "azure-eu", "provider": "azure", "model": "gpt5-eu", "order": 2, "enabled": False},
    ],
}


def load(home, **kw):
    return load_catalog(Home.resolve(home), **kw)


def catalog_file(tmp_path, *entries, name="team.json"):
    return write_json(tmp_path / name, {"llms": list(entries)})


# --- the record and the implicit deployment ---------------------------------------------------


def test_an_entry_without_deployments_has_one_made_from_its_own_fields(home, tmp_path):
    path = catalog_file(
        tmp_path,
        entry(
            "acme/a",
            provider="openai",
            model="a-1",
            api_base="https://llm.example.com/v1",
            auth={"api_key_env": "ACME_KEY"},
            rate_limit={"requests_per_minute": 60},
        ),
    )
    a = load(home, catalog=path).get("acme/a")
    assert a.deployments == []  # nothing written
    (only,) = a.routes()
    assert (only.id, only.provider, only.model) == ("openai", "openai", "a-1")
    assert only.api_base == "https://llm.example.com/v1"
    assert only.auth == {"api_key_env": "ACME_KEY"}
    assert only.rate_limit == {"requests_per_minute": 60}
    assert (only.weight, only.order, only.enabled) == (1.0, 1, True)
    assert a.via(only) is a  # reaching it through its implicit deployment is the entry itself


def test_written_deployments_give_the_entry_its_provider_and_model(home, tmp_path):
    gpt = load(home, catalog=catalog_file(tmp_path, GPT5)).get("openai/gpt-5")
    assert gpt.provider == "openai"  # the first deployment's
    assert gpt.model == "gpt-5"  # by the default rule, for the first deployment's provider
    assert [d.id for d in gpt.routes()] == ["openai", "openrouter", "azure-eu"]
    openai, openrouter, azure = gpt.routes()
    # A deployment's model follows the entry's default rule for its own provider.
    assert (openai.model, openrouter.model, azure.model) == ("gpt-5", "openai/gpt-5", "gpt5-eu")
    assert (openrouter.weight, azure.order, azure.enabled) == (0.5, 2, False)
    assert openrouter.input_cost_per_mtok == 1.5 and openrouter.output_cost_per_mtok is None


def test_the_first_deployment_model_is_the_entry_model_unless_it_has_its_own(home, tmp_path):
    first = {"id": "azure", "provider": "azure", "model": "my-gpt5"}
    inherits = {"id": "x/one", "deployments": [first]}
    own = {"id": "x/two", "model": "gpt-5", "deployments": [first]}
    catalog = load(home, catalog=catalog_file(tmp_path, inherits, own))
    assert catalog.get("x/one").model == "my-gpt5"
    assert catalog.get("x/two").model == "gpt-5"


def test_via_a_deployment_gives_its_provider_key_and_prices_with_the_entrys_as_fallback(home, tmp_path):
    gpt = load(home, catalog=catalog_file(tmp_path, GPT5)).get("openai/gpt-5")
    openrouter = gpt.routes()[1]
    seen = gpt.via(openrouter)
    assert (seen.id, seen.provider, seen.model) == ("openai/gpt-5", "openrouter", "openai/gpt-5")
    assert seen.input_cost_per_mtok == 1.5  # its own
    assert seen.output_cost_per_mtok == 10.0  # the entry's
    assert seen.routes() == [openrouter]
    assert gpt.provider == "openai" and gpt.input_cost_per_mtok == 1.25  # the entry is unchanged


# --- the two dict shapes -----------------------------------------------------------------------


def test_to_dict_always_lists_deployments_and_export_never_writes_the_implicit_one(home, tmp_path):
    catalog = load(home, catalog=catalog_file(tmp_path, GPT5, entry("acme/plain")))
    plain = catalog.get("acme/plain")
    shown = plain.to_dict()["deployments"]
    assert [(d["id"], d["provider"], d["model"], d["weight"], d["order"]) for d in shown] == [
        (
            "openai",
            "openai",
            "plain",
            1.0,
            1,
        )
    ]
    assert "deployments" not in plain.to_catalog_dict()
    written = catalog.get("openai/gpt-5").to_catalog_dict()
    assert written["deployments"] == [  # no defaults, no derived model
        {"id": "openai", "provider": "openai"},
        {"id": "openrouter", "provider": "openrouter", "weight": 0.5, "input_cost_per_mtok": 1.5},
        {"id": "azure-eu", "provider": "azure", "model": "gpt5-eu", "order": 2, "enabled": False},
    ]
    assert "model" not in written


def test_list_and_show_json_include_deployments(cli, home, tmp_path):
    path = catalog_file(tmp_path, GPT5, entry("acme/plain"))
    listed = json.loads(cli("--catalog", str(path), "list", "--all", "--json").stdout)
    by_id = {e["id"]: e for e in listed}
    assert [d["id"] for d in by_id["acme/plain"]["deployments"]] == ["openai"]
    assert [d["id"] for d in by_id["openai/gpt-5"]["deployments"]] == ["openai", "openrouter", "azure-eu"]
    shown = json.loads(cli("--catalog", str(path), "show", "openai/gpt-5", "--json").stdout)
    assert shown["deployments"][1]["model"] == "openai/gpt-5"


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_export_round_trips_deployments(cli, home, tmp_path, fmt):
    path = catalog_file(tmp_path, GPT5, entry("acme/plain"))
    exported = cli("--catalog", str(path), "catalog", "export", "--format", fmt)
    assert exported.exit_code == 0, exported.stderr
    again = tmp_path / f"again.{fmt}"
    again.write_text(exported.stdout)
    before = load(home, catalog=path)
    after = load(home, catalog=again)
    assert [e.to_dict() for e in after] == [e.to_dict() for e in before]
    assert cli("catalog", "diff", str(path), str(again), "--json").stdout.count('"field"') == 0


def test_catalog_diff_names_a_changed_deployment(cli, home, tmp_path):
    old = catalog_file(tmp_path, GPT5, name="old.json")
    changed = json.loads(json.dumps(GPT5))
    changed["deployments"][1]["weight"] = 2
    new = catalog_file(tmp_path, changed, name="new.json")
    result = json.loads(cli("catalog", "diff", str(old), str(new), "--json").stdout)
    assert [c["field"] for c in result["changed"]] == ["deployments"]


# --- merging and the cache ----------------------------------------------------------------------


def test_a_user_file_sets_deployments_on_a_bundled_entry_replacing_them_whole(home, tmp_path):
    base = catalog_file(tmp_path, GPT5)
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text(
        '[[llms]]\nid = "openai/gpt-5"\nquality_score = 9.0\n\n'
        '[[llms.deployments]]\nid = "groq"\nprovider = "groq"\n\n'
        '[[llms.deployments]]\nid = "openai"\nprovider = "openai"\nweight = 3\n'
    )
    gpt = load(home, catalog=base).get("openai/gpt-5")
    assert [(d.id, d.weight) for d in gpt.routes()] == [("groq", 1.0), ("openai", 3.0)]
    assert gpt.provider == "groq"  # the first deployment's, now the user's
    assert gpt.quality_score == 9.0 and gpt.input_cost_per_mtok == 1.25  # other fields merge as ever
    assert set(gpt.patched) == {"quality_score", "deployments"}


def test_a_user_patch_of_other_fields_keeps_the_base_deployments(home, tmp_path):
    base = catalog_file(tmp_path, GPT5)
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text('[[llms]]\nid = "openai/gpt-5"\nenabled = false\n')
    gpt = load(home, catalog=base).get("openai/gpt-5")
    assert gpt.enabled is False
    assert [d.id for d in gpt.routes()] == ["openai", "openrouter", "azure-eu"]


def test_a_user_file_adds_an_entry_with_deployments_and_no_provider(home, tmp_path):
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text(
        '[[llms]]\nid = "acme/new"\n\n[[llms.deployments]]\nid = "groq"\nprovider = "groq"\n'
    )
    catalog = load(home)
    assert catalog.orphans == []
    new = catalog.get("acme/new")
    assert (new.provider, new.model, new.origin) == ("groq", "new", "user catalog")


def test_deployments_survive_the_validated_content_cache(home, tmp_path, monkeypatch):
    import llmctl.catalog.load as load_module

    path = catalog_file(tmp_path, GPT5, entry("acme/plain"))
    first = load(home, catalog=path)
    assert list((home / "cache" / "validated").glob("*.json"))

    def not_again(*args, **kwargs):
        raise AssertionError("merged again: the cached catalog was not used")

    monkeypatch.setattr(load_module, "_merge_files", not_again)
    second = load(home, catalog=path)  # from the cache, as plain JSON rows
    assert [e.to_dict(provenance=True) for e in second] == [e.to_dict(provenance=True) for e in first]
    gpt = second.get("openai/gpt-5")
    assert all(isinstance(d, Deployment) for d in gpt.deployments)
    assert gpt.routes()[2].model == "gpt5-eu"
    assert second.get("acme/plain").deployments == []


def test_the_bundled_catalog_loads_unchanged(home):
    for e in load(home):
        (only,) = e.routes()
        assert (only.id, only.provider, only.model) == (e.provider, e.provider, e.model)


# --- bad input: exit 3 naming file, entry and field --------------------------------------------


def _with(**deployment):
    base = {"id": "openai", "provider": "openai"}
    return {"id": "openai/gpt-5", "deployments": [{**base, **deployment}]}


BAD = [
    (
        {
            "id": "openai/gpt-5",
            "deployments": [{"id": "a", "provider": "openai"}, {"id": "a", "provider": "groq"}],
        },
        "deployments",
        "duplicate deployment id 'a'",
    ),
    (_with(weight=-1), "deployments.0.weight", "greater than or equal to 0"),
    (_with(order=0), "deployments.0.order", "greater than or equal to 1"),
    (_with(order=1.5), "deployments.0.order", "whole number"),
    (_with(api_key="hunter2"), "deployments.0", "literal secret ('api_key')"),
    (_with(auth={"api_key_env": "abc-123"}), "deployments.0.auth", "must name an environment variable"),
    (_with(api_base="https://u:p@llm.example.com/v1"), "deployments.0.api_base", "must not hold credentials"),
    (_with(id="azure@eu"), "deployments.0.id", "letters, digits"),
    (_with(wieght=2), "deployments.0.wieght", "unknown field; did you mean 'weight'?"),
    (
        {"id": "openai/gpt-5", "provider": "groq", "deployments": [{"id": "a", "provider": "openai"}]},
        "deployments",
        "not its first deployment's",
    ),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD)
def test_a_bad_deployment_is_exit_3_naming_file_entry_and_field(cli, home, tmp_path, bad, field, message):
    path = catalog_file(tmp_path, bad)
    for args in (("catalog", "validate", str(path)), ("--catalog", str(path), "list")):
        result = cli(*args)
        assert result.exit_code == 3, result.stdout
        line = result.stderr.strip().splitlines()[0]
        assert str(path) in line and "'openai/gpt-5'" in line and f"field '{field}'" in line, line
        assert message in line, line
        assert "hunter2" not in result.stderr


def test_a_key_shaped_value_in_a_deployment_is_refused_and_not_echoed(cli, home, tmp_path):
    key = "sk-proj-" + "a1b2c3d4e5f6g7h8i9j0" * 2
    path = catalog_file(tmp_path, _with(model=key))
    result = cli("catalog", "validate", str(path))
    assert result.exit_code == 3
    assert "deployments" in result.stderr and "looks like an API key" in result.stderr
    assert key not in result.stderr


def test_loading_raises_file_error_for_a_bad_deployment(home, tmp_path):
    path = catalog_file(tmp_path, _with(weight=-0.5))
    with pytest.raises(FileError) as err:
        load(home, catalog=path)
    assert err.value.exit_code == 3


def test_weight_zero_and_order_above_one_are_valid(home, tmp_path):
    path = catalog_file(tmp_path, _with(weight=0, order=3))
    (only,) = load(home, catalog=path).get("openai/gpt-5").routes()
    assert (only.weight, only.order) == (0.0, 3)


def test_a_hand_built_entry_has_its_implicit_deployment():
    llm = LLM("acme/x", "groq", "x")
    assert [(d.id, d.provider, d.model) for d in llm.routes()] == [("groq", "groq", "x")]
