"""The sending options: one value, checked once, sorted into bundles by name."""

from __future__ import annotations

import pytest

from llmctl.engine.options import DEFAULT_RETRIES, Labels, SendOptions, Services, bundled
from llmctl.errors import UsageError


def test_send_options_check_their_values_and_none_means_the_default():
    assert SendOptions.of(retries=None, timeout=None, simulate=None) == SendOptions()
    assert SendOptions().retries == DEFAULT_RETRIES
    assert SendOptions(timeout=3).timeout == 3.0
    for bad in ({"timeout": 0}, {"timeout": float("nan")}, {"retries": -1}, {"retries": True}):
        with pytest.raises(UsageError):
            SendOptions(**bad)


def test_loose_fields_go_to_their_bundle():
    services, options, labels = bundled(env={}, retries=0, book="moby", max_wait=1.0)
    assert isinstance(services, Services) and services.env == {} and services.max_wait == 1.0
    assert options == SendOptions(retries=0) and labels == Labels(book="moby")
    with pytest.raises(TypeError, match="colour"):
        bundled(colour="red")
