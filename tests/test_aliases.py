"""Calls to tools a model knows from training, or under a wrong prefix, are mapped."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .conftest import AGENT_OPTIONS
from .helpers import ask, messages_of, tool_call
from .ollama_stub import OllamaStub, Reply

COMPACT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN]}
ASSIST = {
    "model": "qwen2.5:3b",
    "llm_hass_api": [llm.LLM_API_ASSIST],
    "prefer_local": False,
}


def tool_results(stub: OllamaStub) -> list[dict[str, Any]]:
    """The tool results the model read in the last request."""
    last = stub.requests_to("/api/chat")[-1].body
    return [json.loads(m["content"]) for m in messages_of(last, "tool")]


@pytest.mark.parametrize("agent_options", [COMPACT])
async def test_intent_names_reach_the_compact_tools(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """HassTurnOff, HassLightSet, HassGetState and a text call all do what they say."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call("HassTurnOff", name="Kitchen Lights"),
                tool_call("intent__HassLightSet", name="Bed Light", brightness=40),
                tool_call("HassTurnOn", area="no area", domain=["vacuum"]),
                tool_call("HassGetState", name="Front Door", domain="lock"),
            ]
        ),
        Reply(
            '```json\n{"name": "HassClimateSetTemperature", '
            '"arguments": {"name": "Hvac", "temperature": 19}}\n```'
        ),
        "Done.",
    )
    await ask(hass, "turn things off and tell me about the door")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert hass.states.get("light.bed_light").attributes["brightness"] == 102
    assert hass.states.get("climate.hvac").attributes["temperature"] == 19
    off, dim, vague, state, warmth = tool_results(ollama_stub)
    assert dim["done"][0]["state"].startswith("on 40%")
    assert off["done"][0]["name"] == "Kitchen Lights"
    assert vague["error"] == "NotFound"  # an area that does not exist names nothing
    assert state["devices"][0] == {
        "name": "Front Door",
        "aliases": [],
        "kind": "lock",
        "area": None,
        "state": "locked",
    }
    assert warmth["done"][0]["state"].startswith("cool")


@pytest.mark.parametrize("agent_options", [COMPACT])
async def test_action_spellings_and_unknown_tools(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A spelling such as Turn Off is turn_off; a tool nobody offers is refused."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call("control", name="Kitchen Lights", action="Turn Off"),
                tool_call("HassOrderPizza", size="large"),
            ]
        ),
        "Done.",
    )
    await ask(hass, "lights off and order a pizza")
    assert hass.states.get("light.kitchen_lights").state == "off"
    done, pizza = tool_results(ollama_stub)
    assert done["done"][0]["state"] == "off"
    assert pizza["error"] == "UnknownTool"
    assert "control" in pizza["error_text"]


@pytest.mark.parametrize("agent_options", [COMPACT])
async def test_an_action_word_as_the_tool(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """`set` as the tool's name, as the 1.5B model wrote it, is the control tool's set."""
    ollama_stub.reply(
        Reply(
            '```json\n{"name": "set", "arguments": '
            '{"name": "Hvac", "action": "set", "value": "22"}}\n```'
        ),
        "It is set to 22.",
    )
    await ask(hass, "warm the hvac up to 22")
    assert hass.states.get("climate.hvac").attributes["temperature"] == 22


@pytest.mark.parametrize("agent_options", [ASSIST])
async def test_assist_names_under_a_wrong_prefix_and_kind_verbs(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """With Assist's tools: a wrong prefix, a vacuum's turn on, and HassGetState."""
    async_expose_entity(hass, "conversation", "media_player.bedroom", True)
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call("intent__HassSetVolume", name="Bedroom", volume_level=30),
                tool_call("HassTurnOn", name="Demo vacuum 0 ground floor"),
                tool_call("HassGetState", name="Front Door"),
            ]
        ),
        "Done.",
    )
    await ask(hass, "volume down, start cleaning, and is the door locked?")
    assert hass.states.get("media_player.bedroom").attributes["volume_level"] == 0.3
    assert hass.states.get("vacuum.demo_vacuum_0_ground_floor").state == "cleaning"
    *_, live = tool_results(ollama_stub)
    assert "Front Door" in live["result"]
    calls = [
        call["function"]["name"]
        for m in messages_of(ollama_stub.requests_to("/api/chat")[-1].body, "assistant")
        for call in m.get("tool_calls", [])
    ]
    assert calls == [
        "media_player__HassSetVolume",
        "vacuum__HassVacuumStart",
        "homeassistant__GetLiveContext",
    ]
