"""A burst of calls acts only on the devices the request names, when it names one."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN
from custom_components.extended_ollama_conversation.tools.home_api import CONTROL

from .conftest import AGENT_OPTIONS
from .helpers import ask, messages_of, speech
from .ollama_stub import OllamaStub, Reply

COMPACT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN], "prefer_local": False}
pytestmark = pytest.mark.parametrize("agent_options", [COMPACT])


def written_calls(*calls: tuple[str, str]) -> Reply:
    """Calls written as text, one per line, as the 1.5B model writes a burst."""
    return Reply(
        content="\n".join(
            json.dumps({"name": CONTROL, "arguments": {"name": name, "action": action}})
            for name, action in calls
        )
    )


def tool_results(stub: OllamaStub) -> list[dict[str, Any]]:
    """The tool results the model read in the last request."""
    last = stub.requests_to("/api/chat")[-1].body
    return [json.loads(m["content"]) for m in messages_of(last, "tool")]


async def test_calls_on_devices_nobody_named_are_not_run(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """'No need for the kitchen lights': the ceiling lights and the bed light stay."""
    ollama_stub.reply(
        written_calls(
            ("Kitchen Lights", "turn_off"),
            ("Ceiling Lights", "turn_off"),
            ("Bed Light", "turn_on"),
        ),
        "The kitchen lights are off.",
    )
    result = await ask(hass, "no need for the kitchen lights anymore")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert hass.states.get("light.ceiling_lights").state == "on"
    assert hass.states.get("light.bed_light").state == "off"
    done, *unrun = tool_results(ollama_stub)
    assert done["done"][0]["name"] == "Kitchen Lights"
    assert [r["error"] for r in unrun] == ["NotNamed", "NotNamed"]
    assert speech(result) == "The kitchen lights are off."


@pytest.mark.parametrize(
    "request_text",
    [
        # Everything of a kind: the model names each.
        "turn off all the lights",
        # Several things asked for.
        "turn off the kitchen lights and the rest too",
        # No device of the burst is named: nothing to tell the others by.
        "it's bedtime, turn off the lights",
    ],
)
async def test_a_burst_runs_whole_when_the_request_asks_for_more(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    request_text: str,
) -> None:
    """Each call runs when the request asks for all, or names none of them."""
    ollama_stub.reply(
        written_calls(("Kitchen Lights", "turn_off"), ("Ceiling Lights", "turn_off")),
        "The lights are off.",
    )
    await ask(hass, request_text)
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert hass.states.get("light.ceiling_lights").state == "off"
