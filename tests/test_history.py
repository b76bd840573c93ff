"""The history tool: when an exposed device last changed, from the recorder."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.extended_ollama_conversation.const import DOMAIN
from custom_components.extended_ollama_conversation.tools.home_api import HISTORY

from .conftest import AGENT_OPTIONS
from .helpers import ask, messages_of, tool_call
from .ollama_stub import OllamaStub, Reply

COMPACT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN]}
GARAGE = "binary_sensor.garage_door_contact"


@pytest.fixture(autouse=True)
async def setup_home_assistant(
    recorder_mock: Recorder, hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """As the suite's own, with the recorder made before Home Assistant starts."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.mark.parametrize("agent_options", [COMPACT])
async def test_when_the_garage_last_opened(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The last opening, the last change, and nothing for an unexposed sensor."""
    attributes = {"friendly_name": "Garage Door Contact", "device_class": "garage_door"}
    hass.states.async_set(GARAGE, "off", attributes)
    async_expose_entity(hass, "conversation", GARAGE, True)
    hass.states.async_set("binary_sensor.hidden", "on", {"friendly_name": "Hidden"})
    async_expose_entity(hass, "conversation", "binary_sensor.hidden", False)
    freezer.tick(timedelta(minutes=5))
    hass.states.async_set(GARAGE, "on", attributes)
    opened = hass.states.get(GARAGE)
    assert opened is not None
    freezer.tick(timedelta(minutes=30))
    hass.states.async_set(GARAGE, "off", attributes)
    freezer.tick(timedelta(minutes=10))
    await async_wait_recording_done(hass)
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(HISTORY, name="garage door contact", state="open"),
                tool_call(HISTORY, name="Garage Door Contact"),
                tool_call(HISTORY, name="Garage Door Contact", state="on fire"),
                tool_call(HISTORY, name="Hidden"),
            ]
        ),
        "It opened 40 minutes ago.",
    )
    await ask(hass, "when did the garage last open?")
    last = ollama_stub.requests_to("/api/chat")[-1].body
    opening, change, never, hidden = (
        json.loads(m["content"]) for m in messages_of(last, "tool")
    )
    assert opening["became"] == "open"
    assert opening["last_changed"].endswith("(40 minutes ago)")
    assert change["became"] == "closed"
    assert change["last_changed"].endswith("(10 minutes ago)")
    assert never["last_changed"] is None
    assert hidden["error"] == "NotFound"
    tools = [t["function"]["name"] for t in last["tools"]]
    assert HISTORY in tools
