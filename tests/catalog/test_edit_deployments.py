"""The deployment changes of `llmctl.catalog.edit`, called directly: what the user catalog
holds after each, against a base catalog that writes deployments of its own."""

from __future__ import annotations

import json

import pytest

from conftest import entry, write_json
from llmctl.catalog.edit import add_deployment, change_catalog, edit_deployment, remove_deployment
from llmctl.catalog.load import load_catalog
from llmctl.errors import UnknownNameError, UsageError
from llmctl.paths import Home

GPT5 = entry(
    "openai/gpt-5",
    model="gpt-5",
    deployments=[
        {"id": "openai", "provider": "openai"},
        {"id": "openrouter", "provider": "openrouter", "weight": 0.5},
    ],
)
MINI = entry("openai/gpt-5-mini", model="gpt-5-mini")


@pytest.fixture
def base(tmp_path):
    return write_json(tmp_path / "base.json", {"llms": [GPT5, MINI]})


def change(home, base, mutation):
    return change_catalog(Home.resolve(str(home)), base, "deployment", mutation)


def user_file(home) -> dict:
    return {e["id"]: e for e in json.loads((home / "catalog.json").read_text())["llms"]}


def loaded(home, base, llm_id):
    return load_catalog(Home.resolve(str(home)), base).get(llm_id)


@pytest.fixture
def json_user(home):
    home.mkdir(parents=True)
    (home / "catalog.json").write_text('{"llms": []}\n')


def test_add_copies_the_bases_deployments_then_appends(home, base, json_user):
    result = change(home, base, add_deployment("openai/gpt-5", {"id": "groq", "provider": "groq"}))
    assert [c.target for c in result.changes] == ["openai/gpt-5"]
    patch = user_file(home)["openai/gpt-5"]
    # A file's list replaces the base's whole: the base's two come along.
    assert [d["id"] for d in patch["deployments"]] == ["openai", "openrouter", "groq"]
    assert patch["deployments"][1] == {"id": "openrouter", "provider": "openrouter", "weight": 0.5}
    assert "model" not in patch and "provider" not in patch  # the base's are right already
    assert [d.id for d in loaded(home, base, "openai/gpt-5").routes()] == ["openai", "openrouter", "groq"]


def test_the_implicit_deployment_takes_the_entrys_model_base_and_key(home, base, json_user, tmp_path):
    own = entry(
        "acme/x",
        provider="openai",
        model="x-1",
        api_base="https://x.example.com/v1",
        auth={"api_key_env": "X_KEY"},
    )
    write_json(home / "catalog.json", {"llms": [own]})
    change(home, base, add_deployment("acme/x", {"id": "or", "provider": "openrouter"}))
    first, second = user_file(home)["acme/x"]["deployments"]
    assert first == {
        "id": "openai",
        "provider": "openai",
        "model": "x-1",
        "api_base": "https://x.example.com/v1",
        "auth": {"api_key_env": "X_KEY"},
    }
    assert second == {"id": "or", "provider": "openrouter"}
    x = loaded(home, base, "acme/x")
    assert (x.provider, x.model, x.api_base, x.auth) == (
        "openai",
        "x-1",
        "https://x.example.com/v1",
        {"api_key_env": "X_KEY"},
    )


def test_removing_the_first_makes_the_entry_reach_the_new_first(home, base, json_user):
    result = change(home, base, remove_deployment("openai/gpt-5", "openai"))
    assert "provider is now openrouter" in result.notes[0]
    patch = user_file(home)["openai/gpt-5"]
    assert patch["deployments"] == [{"id": "openrouter", "provider": "openrouter", "weight": 0.5}]
    assert patch["model"] == "openai/gpt-5"  # the base writes "gpt-5": the patch overrides it
    gpt5 = loaded(home, base, "openai/gpt-5")
    assert (gpt5.provider, gpt5.model) == ("openrouter", "openai/gpt-5")
    (change_,) = result.changes
    assert change_.before["provider"] == "openai" and change_.after["provider"] == "openrouter"


def test_a_first_deployment_with_its_own_key_and_base_gives_them_to_the_entry(home, base, json_user):
    fields = {"api_base": "https://eu.example.com/v1", "auth": {"api_key_env": "EU_KEY"}}
    change(home, base, edit_deployment("openai/gpt-5", "openai", fields))
    patch = user_file(home)["openai/gpt-5"]
    assert patch["api_base"] == "https://eu.example.com/v1" and patch["auth"] == {"api_key_env": "EU_KEY"}
    change(home, base, remove_deployment("openai/gpt-5", "openai"))
    patch = user_file(home)["openai/gpt-5"]
    assert "api_base" not in patch and "auth" not in patch
    gpt5 = loaded(home, base, "openai/gpt-5")
    assert (gpt5.api_base, gpt5.auth) == (None, {})


def test_an_entry_written_with_router_keeps_that_name(home, base):
    home.mkdir(parents=True)
    write_json(
        home / "catalog.json", {"llms": [{"id": "acme/r", "router": "openai", "valid_groups": ["writer"]}]}
    )
    change(home, base, add_deployment("acme/r", {"id": "groq", "provider": "groq"}))
    change(home, base, remove_deployment("acme/r", "openai"))
    patch = user_file(home)["acme/r"]
    assert patch["router"] == "groq" and "provider" not in patch
    assert loaded(home, base, "acme/r").provider == "groq"


def test_an_edit_to_the_same_values_changes_nothing(home, base, json_user):
    before = (home / "catalog.json").read_text()
    result = change(home, base, edit_deployment("openai/gpt-5", "openrouter", {"weight": 0.5}))
    assert result.changes == []
    assert (home / "catalog.json").read_text() == before
    assert not (home / "audit.jsonl").exists()


def test_unknown_names_and_the_last_deployment_are_refused_before_anything_is_written(home, base, json_user):
    with pytest.raises(UnknownNameError) as exc:
        change(home, base, remove_deployment("openai/gpt-5", "open-router"))
    assert exc.value.suggestions == ["openrouter"]
    with pytest.raises(UnknownNameError):
        change(home, base, add_deployment("openai/gpt-6", {"id": "x", "provider": "openai"}))
    with pytest.raises(UsageError, match="only deployment"):
        change(home, base, remove_deployment("openai/gpt-5-mini", "openai"))
    with pytest.raises(UsageError, match="needs an id"):
        change(home, base, add_deployment("openai/gpt-5", {"provider": "openai"}))
    assert user_file(home) == {} and not (home / "audit.jsonl").exists()
