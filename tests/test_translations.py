"""The UI text a user reads: every flow step, error and exception has English text."""

from __future__ import annotations

import json
from pathlib import Path

PACKAGE = (
    Path(__file__).parent.parent / "custom_components" / "extended_ollama_conversation"
)


def test_english_translation_matches_strings() -> None:
    """Home Assistant shows translations/en.json; strings.json is its source."""
    strings = json.loads((PACKAGE / "strings.json").read_text())
    english = json.loads((PACKAGE / "translations" / "en.json").read_text())
    assert english == strings


def test_flow_errors_and_steps_have_text() -> None:
    """Every error key the config flow can show has a message."""
    strings = json.loads((PACKAGE / "strings.json").read_text())
    flow_source = (PACKAGE / "config_flow.py").read_text()
    errors = strings["config"]["error"]
    for key in (
        "cannot_connect",
        "invalid_auth",
        "invalid_url",
        "timeout",
        "bad_response",
    ):
        assert f'"{key}"' in flow_source
        assert errors[key]
    assert set(strings["config"]["step"]) == {"user", "reconfigure", "reauth_confirm"}
