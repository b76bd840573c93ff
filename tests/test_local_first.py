"""Local first: exact commands run without the model; risky ones always reach it."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
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


def _put_device_in_area(hass: HomeAssistant, entity_id: str, area_name: str) -> None:
    """Move an entity's device into an area (created if needed)."""
    areas = ar.async_get(hass)
    area = areas.async_get_area_by_name(area_name) or areas.async_create(area_name)
    device_id = er.async_get(hass).async_get(entity_id).device_id
    dr.async_get(hass).async_update_device(device_id, area_id=area.id)


def _rename(hass: HomeAssistant, entity_id: str, name: str) -> None:
    er.async_get(hass).async_update_entity(entity_id, name=name)


@pytest.mark.parametrize(
    ("request_text", "arrange", "matcher_words"),
    [
        # The matcher takes "lights in the garage" and finds none there.
        (
            "turn on the garage lights",
            lambda hass: _put_device_in_area(hass, "cover.garage_door", "Garage"),
            "not aware",
        ),
        # "garage door" read as a door in the Garage: the cover there is a garage door.
        (
            "close the garage door",
            lambda hass: _put_device_in_area(hass, "cover.garage_door", "Garage"),
            "not aware",
        ),
        # Two lights of one name: the matcher cannot choose.
        (
            "turn on the desk lamp",
            lambda hass: (
                _rename(hass, "light.bed_light", "Desk Lamp"),
                _rename(hass, "light.ceiling_lights", "Desk Lamp"),
            ),
            "Desk Lamp",
        ),
    ],
)
async def test_failed_match_hands_over_without_its_attempt(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    request_text: str,
    arrange: Any,
    matcher_words: str,
) -> None:
    """The model gets the request alone, and its answer is what the person hears."""
    arrange(hass)
    await hass.async_block_till_done()
    lights_before = {s.entity_id: s.state for s in hass.states.async_all("light")}
    ollama_stub.reply("Which one do you mean?")
    result = await ask(hass, request_text)
    assert speech(result) == "Which one do you mean?"
    assert agent_entry.runtime_data.usage.local_turns == 0
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"].startswith(request_text)
    assert matcher_words not in json.dumps(body["messages"][1:])
    assert {s.entity_id: s.state for s in hass.states.async_all("light")} == (
        lights_before
    )


async def test_two_commands_joined_by_and_run_locally(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Both commands run, as Home Assistant's own agent runs them, with no model.

    Measured with the 1.5B model: it carried out only the first of the two.
    """
    assert hass.states.get("light.bed_light").state == "off"
    result = await ask(hass, "turn off the kitchen lights and turn on the bed light")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert hass.states.get("light.bed_light").state == "on"
    assert speech(result) == "Turned off the light. Turned on the light."
    assert ollama_stub.requests_to("/api/chat") == []


@pytest.mark.parametrize(
    "request_text",
    [
        # One of them is risky: the whole request is the model's, nothing runs first.
        "turn off the kitchen lights and lock the front door",
        # One of them the matcher does not know.
        "turn off the kitchen lights and tell me a joke",
    ],
)
async def test_joined_commands_go_to_the_model_unless_all_run_locally(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    request_text: str,
) -> None:
    """Nothing runs locally when any one of the commands cannot."""
    ollama_stub.reply("Alright.")
    result = await ask(hass, request_text)
    assert speech(result) == "Alright."
    assert len(ollama_stub.requests_to("/api/chat")) == 1
    assert hass.states.get("light.kitchen_lights").state == "on"
