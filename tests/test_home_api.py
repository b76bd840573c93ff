"""The integration's own LLM API: compact home context and the FindDevices lookup."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN
from custom_components.extended_ollama_conversation.tools.home_api import FIND_DEVICES

from .helpers import ask, messages_of, speech, tool_call
from .ollama_stub import OllamaStub, Reply

COMPACT = {"model": "qwen2.5:3b", "llm_hass_api": [DOMAIN], "prefer_local": False}
pytestmark = pytest.mark.parametrize("agent_options", [COMPACT])


async def test_compact_context_replaces_the_yaml_overview(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The directory ends the system prompt, states follow the request, tools still work."""
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")]),
        "Off.",
    )
    result = await ask(hass, "turn off the kitchen lights")
    assert speech(result) == "Off."
    assert hass.states.get("light.kitchen_lights").state == "off"
    body = ollama_stub.requests_to("/api/chat")[0].body
    names = {tool["function"]["name"] for tool in body["tools"]}
    assert FIND_DEVICES in names
    assert "intent__HassTurnOff" in names
    assert "homeassistant__GetLiveContext" not in names
    system = body["messages"][0]["content"]
    assert "Static Context" not in system
    assert system.rstrip().splitlines()[-1].startswith("no area: light: ")
    request = messages_of(body, "user")[-1]["content"]
    assert request.startswith("turn off the kitchen lights\n\n")
    assert "Kitchen Lights: on 71% hs" in request


async def test_find_devices_is_fuzzy_and_exposed_only(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A sloppy name finds the device with its state; unexposed devices are never found."""
    async_expose_entity(hass, "conversation", "light.bed_light", False)
    ollama_stub.reply(
        Reply(tool_calls=[tool_call(FIND_DEVICES, name="kichen light")]),
        Reply(tool_calls=[tool_call(FIND_DEVICES, name="bed light")]),
        Reply(tool_calls=[tool_call(FIND_DEVICES, domain="locks")]),
        "Done.",
    )
    await ask(hass, "what lights are on?")
    results = [
        json.loads(m["content"])
        for m in messages_of(ollama_stub.requests_to("/api/chat")[-1].body, "tool")
    ]
    kitchen, bed, locks = results
    assert kitchen["devices"][0] == {
        "name": "Kitchen Lights",
        "aliases": [],
        "kind": "light",
        "area": None,
        "state": "on 71% hs",
    }
    assert bed["error"] == "NoMatch"
    assert "Bed Light" not in json.dumps(results)
    assert [d["name"] for d in locks["devices"]] == ["Front Door"]


async def test_prefix_is_stable_across_turns(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """After a state change, the next turn's system prompt is the same to the character."""
    ollama_stub.reply("It is on.", "It is off now.")
    first = await ask(hass, "is the kitchen light on?")
    hass.states.async_set(
        "light.kitchen_lights", "off", {"friendly_name": "Kitchen Lights"}
    )
    await ask(hass, "and now?", first.conversation_id)
    before, after = (r.body["messages"] for r in ollama_stub.requests_to("/api/chat"))
    assert after[0] == before[0]
    assert after[1]["content"] == "is the kitchen light on?"
    assert "Kitchen Lights: off" in after[-1]["content"]
