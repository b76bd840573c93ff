"""The integration's own LLM API: a compact, stable tool set over the exposed devices."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    llm,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN
from custom_components.extended_ollama_conversation.tools.effects import (
    READ,
    Effect,
    EffectfulTool,
)
from custom_components.extended_ollama_conversation.tools.home_api import (
    CONTROL,
    FIND_DEVICES,
    HISTORY,
)

from .conftest import AGENT_OPTIONS
from .helpers import ask, messages_of, speech, tool_call
from .ollama_stub import OllamaStub, Reply

COMPACT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN]}
pytestmark = pytest.mark.parametrize("agent_options", [COMPACT])
LLM_CONTEXT = llm.LLMContext(
    platform=DOMAIN,
    context=None,
    language="en",
    assistant="conversation",
    device_id=None,
)


def tool_results(stub: OllamaStub) -> list[dict[str, Any]]:
    """The tool results the model read in the last request."""
    last = stub.requests_to("/api/chat")[-1].body
    return [json.loads(m["content"]) for m in messages_of(last, "tool")]


async def compact_tools(hass: HomeAssistant) -> dict[str, llm.Tool]:
    """The compact API's tools, by name, as a request would get them."""
    api = await llm.async_get_api(hass, DOMAIN, LLM_CONTEXT)
    return {tool.name: tool for tool in api.tools}


async def test_compact_context_and_tool_set(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The directory ends the system prompt; a few general tools replace Assist's."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(CONTROL, name="Kitchen Lights", action="turn_off"),
            ]
        ),
        "Off.",
    )
    result = await ask(hass, "turn off the kitchen lights")
    assert speech(result) == "Off."
    assert hass.states.get("light.kitchen_lights").state == "off"
    body = ollama_stub.requests_to("/api/chat")[0].body
    names = [tool["function"]["name"] for tool in body["tools"]]
    assert names[:2] == [CONTROL, FIND_DEVICES]
    assert not [n for n in names if n.startswith(("intent__", "light__", "homeass"))]
    assert HISTORY not in names  # no recorder in this home
    control = body["tools"][0]["function"]["parameters"]["properties"]
    # The actions of the exposed kinds: lights, locks, covers, vacuums, climates...
    assert {
        "turn_on",
        "lock",
        "unlock",
        "open",
        "close",
        "start",
        "return_home",
    } <= set(control["action"]["enum"])
    assert len(json.dumps(body["tools"])) < 1600
    system = body["messages"][0]["content"]
    assert "Static Context" not in system
    assert system.rstrip().splitlines()[-1].startswith("no area: light: ")
    request = messages_of(body, "user")[-1]["content"]
    assert request.startswith("turn off the kitchen lights\n\n")
    assert "Kitchen Lights: on 71% hs" in request
    assert tool_results(ollama_stub) == [
        {"done": [{"name": "Kitchen Lights", "state": "off", "changed": True}]}
    ]


async def test_tool_set_is_the_same_for_every_request(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Different requests and a state change between them: identical tools and system."""
    ollama_stub.reply("It is on.", "Locked.")
    first = await ask(hass, "is the kitchen light on?")
    hass.states.async_set(
        "light.kitchen_lights", "off", {"friendly_name": "Kitchen Lights"}
    )
    await ask(hass, "what about the front door lock?", first.conversation_id)
    before, after = (r.body for r in ollama_stub.requests_to("/api/chat"))
    assert after["tools"] == before["tools"]
    assert after["messages"][0] == before["messages"][0]
    assert "Kitchen Lights: off" in after["messages"][-1]["content"]


async def test_locks_take_lock_and_unlock_never_a_generic_off(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Turn off on a lock is refused with the right verbs; lock then locks it."""
    async_expose_entity(hass, "conversation", "lock.kitchen_door", True)
    assert hass.states.get("lock.kitchen_door").state == "unlocked"
    ollama_stub.reply(
        Reply(tool_calls=[tool_call(CONTROL, name="kitchen door", action="turn_off")]),
        Reply(tool_calls=[tool_call(CONTROL, name="Kitchen Door", action="lock")]),
        "Locked.",
    )
    await ask(hass, "lock the kitchen door")
    refused, locked = tool_results(ollama_stub)
    assert refused["error"] == "UnsupportedAction"
    assert "use lock or unlock" in refused["error_text"]
    assert locked["done"][0]["state"] == "locked"
    assert hass.states.get("lock.kitchen_door").state == "locked"


async def test_values_and_kinds_with_verbs_of_their_own(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A temperature, a brightness, a vacuum's turn on, a cover's close: all take effect."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(CONTROL, name="Hvac", action="set", value="23 °"),
                tool_call(CONTROL, name="Bed Light", action="set", value=30),
                tool_call(CONTROL, name="Demo vacuum 0 ground floor", action="on"),
                tool_call(CONTROL, name="Kitchen Window", action="turn_off"),
                tool_call(CONTROL, name="Bed Light", action="set"),
            ]
        ),
        "Done.",
    )
    await ask(hass, "make it warmer, dim the bed light, clean and close the window")
    assert hass.states.get("climate.hvac").attributes["temperature"] == 23
    assert hass.states.get("light.bed_light").attributes["brightness"] == 76
    assert hass.states.get("vacuum.demo_vacuum_0_ground_floor").state == "cleaning"
    assert hass.states.get("cover.kitchen_window").state in ("closing", "closed")
    *_, no_value = tool_results(ollama_stub)
    assert no_value["error"] == "MissingValue"


async def test_unexposed_and_unknown_devices_are_answered_alike(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """An unexposed light is not touched, and the answer does not tell it exists."""
    async_expose_entity(hass, "conversation", "light.kitchen_lights", False)
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(CONTROL, name="Kitchen Lights", action="turn_off"),
                tool_call(CONTROL, name="Moon Light", action="turn_off"),
            ]
        ),
        "Sorry.",
    )
    await ask(hass, "turn off the kitchen lights and the moon light")
    hidden, unknown = tool_results(ollama_stub)
    assert hass.states.get("light.kitchen_lights").state == "on"
    assert hidden["error"] == unknown["error"] == "NotFound"
    first_sentence = "No device matches {!r}: it is not found or not exposed."
    assert hidden["error_text"].startswith(first_sentence.format("Kitchen Lights"))
    assert unknown["error_text"].startswith(first_sentence.format("Moon Light"))
    assert "Kitchen Lights" not in hidden["error_text"].partition("Similar")[2]


async def test_an_area_with_a_kind_acts_on_that_kind_only(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Two lights and a switch in the pantry: "pantry lamps" are the two lights."""
    pantry = ar.async_get(hass).async_create("Pantry").id
    entities, devices = er.async_get(hass), dr.async_get(hass)
    for entity_id in (
        "light.bed_light",
        "light.ceiling_lights",
        "switch.decorative_lights",
    ):
        entry = entities.async_get(entity_id)
        assert entry is not None and entry.device_id is not None
        devices.async_update_device(entry.device_id, area_id=pantry)
    ollama_stub.reply(
        Reply(tool_calls=[tool_call(CONTROL, name="pantry lamps", action="off")]),
        Reply(tool_calls=[tool_call(CONTROL, name="pantry", action="turn_off")]),
        "Done.",
    )
    await ask(hass, "turn off the lights in the pantry")
    lights, whole_room = tool_results(ollama_stub)
    assert {d["name"] for d in lights["done"]} == {"Bed Light", "Ceiling Lights"}
    assert hass.states.get("light.ceiling_lights").state == "off"
    assert hass.states.get("switch.decorative_lights").state == "on"
    assert whole_room["error"] == "NotFound"


async def test_find_devices_is_fuzzy_and_exposed_only(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A sloppy name finds the device with its state; unexposed devices are never found."""
    async_expose_entity(hass, "conversation", "light.bed_light", False)
    living_room = ar.async_get(hass).async_create("Living Room").id
    ecobee = er.async_get(hass).async_get("climate.ecobee")
    assert ecobee is not None and ecobee.device_id is not None
    dr.async_get(hass).async_update_device(ecobee.device_id, area_id=living_room)
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(
                    FIND_DEVICES, name="Living Room", area="living room", kind="climate"
                )
            ]
        ),
        Reply(tool_calls=[tool_call(FIND_DEVICES, name="kichen light")]),
        Reply(tool_calls=[tool_call(FIND_DEVICES, name="bed light")]),
        Reply(tool_calls=[tool_call(FIND_DEVICES, kind="locks")]),
        # The very name wins over an area and a kind that contradict it.
        Reply(
            tool_calls=[
                tool_call(
                    FIND_DEVICES,
                    name="Kitchen Lights",
                    area="Living Room",
                    kind="cover",
                )
            ]
        ),
        "Done.",
    )
    await ask(hass, "what lights are on?")
    room, kitchen, bed, locks, named = tool_results(ollama_stub)
    assert [d["name"] for d in named["devices"]] == ["Kitchen Lights"]
    assert [(d["name"], d["area"]) for d in room["devices"]] == [
        ("Ecobee", "Living Room")
    ]
    assert room["devices"][0]["state"].startswith("heat_cool now 23")
    assert kitchen["devices"][0] == {
        "name": "Kitchen Lights",
        "aliases": [],
        "kind": "light",
        "area": None,
        "state": "on 71% hs",
    }
    assert bed["error"] == "NoMatch"
    assert "Bed Light" not in json.dumps([kitchen, bed, locks])
    assert [d["name"] for d in locks["devices"]] == ["Front Door"]


async def test_scripts_scenes_and_automations(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A script runs with its fields, a scene activates, an automation is triggered."""
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "announce": {
                    "alias": "Announce",
                    "fields": {"message": {"required": True, "selector": {"text": {}}}},
                    "sequence": [
                        {"event": "announced", "event_data": {"said": "{{ message }}"}}
                    ],
                }
            }
        },
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "greet",
                "alias": "Greet",
                "triggers": [],
                "actions": [{"event": "greeted"}],
            }
        },
    )
    await hass.async_block_till_done()
    for entity_id in ("script.announce", "automation.greet"):
        async_expose_entity(hass, "conversation", entity_id, True)
    events: list[str] = []
    hass.bus.async_listen("announced", lambda e: events.append(e.data["said"]))
    hass.bus.async_listen("greeted", lambda e: events.append("greeted"))
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(
                    CONTROL, name="Announce", action="run", fields={"message": "hi"}
                ),
                tool_call(CONTROL, name="Greet", action="trigger"),
            ]
        ),
        "Done.",
    )
    await ask(hass, "announce hi and greet")
    await hass.async_block_till_done()
    assert events == ["hi", "greeted"]
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert (
        'Scripts for control run, with their fields: {"Announce": ["message"]}'
        in (body["messages"][0]["content"])
    )
    fields = body["tools"][0]["function"]["parameters"]["properties"]["fields"]
    assert fields["type"] == "object"


async def test_tools_say_what_they_would_do(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Effects name the exposed entities and services; nothing for an unexposed one."""
    tools = await compact_tools(hass)
    control, finder = tools[CONTROL], tools[FIND_DEVICES]
    assert isinstance(control, EffectfulTool)
    assert isinstance(finder, EffectfulTool)
    assert control.effects(
        hass, {"name": "front door", "action": "unlock"}, LLM_CONTEXT
    ) == [Effect("lock.front_door", "unlock")]
    assert control.effects(
        hass, {"name": "Hvac", "action": "set", "value": "21"}, LLM_CONTEXT
    ) == [Effect("climate.hvac", "set_temperature", (("temperature", 21),))]
    assert (
        control.effects(hass, {"name": "Kitchen Door", "action": "unlock"}, LLM_CONTEXT)
        == []
    )  # not exposed
    assert (
        control.effects(hass, {"name": "Front Door", "action": "turn_off"}, LLM_CONTEXT)
        == []
    )  # not an action of a lock
    assert await async_setup_component(
        hass,
        "script",
        {"script": {"say": {"fields": {"text": {}}, "sequence": []}}},
    )
    async_expose_entity(hass, "conversation", "script.say", True)
    run = control.effects(
        hass, {"name": "say", "action": "run", "fields": {"text": "hi"}}, LLM_CONTEXT
    )
    assert run == [Effect("script.say", "turn_on", (("variables", (("text", "hi"),)),))]
    assert len(set(run)) == 1  # effects can be kept in a set
    reads = finder.effects(hass, {"name": "front door"}, LLM_CONTEXT)
    assert reads[0] == Effect("lock.front_door", READ)
    assert all(not effect.changes_home for effect in reads)
    assert control.annotations.read_only is False
    assert finder.annotations.read_only is True
