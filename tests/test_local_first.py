"""Local first: exact commands run without the model; risky ones always reach it."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import AGENT_OPTIONS
from .helpers import ask, messages_of, speech
from .ollama_stub import OllamaStub

LOCAL_FIRST = {**AGENT_OPTIONS, "prefer_local": True}

pytestmark = pytest.mark.parametrize("agent_options", [LOCAL_FIRST])


async def test_plain_command_runs_without_the_model(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """'Turn off the kitchen lights' is matched by Home Assistant: no request to Ollama."""
    result = await ask(hass, "turn off the kitchen lights")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result)
    assert ollama_stub.requests_to("/api/chat") == []
    assert agent_entry.runtime_data.usage.local_turns == 1


async def test_unmatched_request_goes_to_the_model(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Anything the matcher does not know is the model's, with the local turn in history."""
    local = await ask(hass, "turn off the kitchen lights")
    ollama_stub.reply("Why did the lamp go to school? To get brighter.")
    result = await ask(hass, "tell me a joke about lights", local.conversation_id)
    assert speech(result).startswith("Why did the lamp")
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert [m["content"] for m in messages_of(body, "user")] == [
        "turn off the kitchen lights",
        "tell me a joke about lights",
    ]
    # Home Assistant records the local command as a tool call, its result and the speech.
    assert [m.get("content") for m in messages_of(body, "assistant")] == [
        None,
        speech(local),
    ]
    assert messages_of(body, "tool")[0]["tool_name"] == "HassTurnOff"


@pytest.mark.parametrize(
    ("request_text", "entity_id", "state"),
    [
        ("unlock the front door", "lock.front_door", "locked"),
        ("open the garage door", "cover.garage_door", "closed"),
    ],
)
async def test_risky_devices_always_reach_the_model(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    request_text: str,
    entity_id: str,
    state: str,
) -> None:
    """Locks and garage doors are never acted on by the local matcher."""
    assert hass.states.get(entity_id).state == state
    ollama_stub.reply("Are you sure?")
    result = await ask(hass, request_text)
    assert speech(result) == "Are you sure?"
    assert len(ollama_stub.requests_to("/api/chat")) == 1
    assert hass.states.get(entity_id).state == state
