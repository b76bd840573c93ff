"""Answers from the results, satellites that confirm, and requests the matcher misreads.

With the default `direct_answers`, a command whose calls all worked and a question
whose reads found a few devices end with the results' own words: one request to the
model, not two, and a true answer however the small model would have put it.
"""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import (
    CONF_DIRECT_ANSWERS,
    CONF_PREFER_LOCAL,
    DOMAIN,
)
from custom_components.extended_ollama_conversation.tools.answers import spoken_state
from custom_components.extended_ollama_conversation.tools.home_api import (
    CONTROL,
    FIND_DEVICES,
)

from .conftest import AGENT_ID, AGENT_OPTIONS
from .helpers import say, speech, tool_call
from .ollama_stub import OllamaStub, Reply

DIRECT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN], CONF_DIRECT_ANSWERS: True}


@pytest.fixture
def agent_options() -> dict[str, Any]:
    """The compact API, with answers from the results (the default) on."""
    return dict(DIRECT)


def model_requests(stub: OllamaStub) -> int:
    return len(stub.requests_to("/api/chat"))


def control(name: str, action: str) -> Reply:
    return Reply(tool_calls=[tool_call(CONTROL, name=name, action=action)])


def read(**arguments: Any) -> Reply:
    return Reply(tool_calls=[tool_call(FIND_DEVICES, **arguments)])


async def test_a_command_that_worked_is_answered_without_another_round(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The model's next words are never asked for: the result says it all."""
    ollama_stub.reply(control("Kitchen Lights", "turn_off"), "I want to be a hippy")
    result = await say(hass, "kill the kitchen lights")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == "The kitchen lights are now off."
    assert model_requests(ollama_stub) == 1
    assert ollama_stub.pending_replies == 1


async def test_a_request_with_two_clauses_gets_its_second_round(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Two clauses need two calls: the model is asked again after the first."""
    ollama_stub.reply(
        control("Kitchen Lights", "turn_off"),
        control("Bed Light", "turn_on"),
    )
    result = await say(hass, "kill the kitchen lights and switch the bed light on")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert hass.states.get("light.bed_light").state == "on"
    assert model_requests(ollama_stub) == 2
    assert speech(result) == "The kitchen lights are now off. The bed light is now on."


async def test_a_failed_call_goes_back_to_the_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A device the model got wrong: it reads the error and may try again."""
    ollama_stub.reply(
        control("Kitchen Lamp", "turn_off"),
        control("Kitchen Lights", "turn_off"),
    )
    result = await say(hass, "kill the kitchen lights")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert model_requests(ollama_stub) == 2
    assert speech(result) == "The kitchen lights are now off."


async def test_a_question_is_answered_from_the_state_read(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The echo a small model gives ("Is the front door locked?") is never heard."""
    ollama_stub.reply(read(name="Front Door"), "Is the front door locked?")
    result = await say(hass, "is the front door locked?")
    assert speech(result) == "The front door is locked."
    assert model_requests(ollama_stub) == 1


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("Hvac", "The hvac is cool, set to 21 °C, 22 °C now."),
        ("Ecobee", "The ecobee is heat cool, set to 21 to 24 °C, 23 °C now."),
    ],
)
async def test_a_thermostat_question_gets_its_setting(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    name: str,
    answer: str,
) -> None:
    """A climate's answer holds its mode, its target and the room's temperature."""
    ollama_stub.reply(read(name=name))
    result = await say(hass, f"what is the {name} set to?")
    assert speech(result) == answer


async def test_a_question_about_many_devices_is_left_to_the_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A list of every light is no answer; the model words that one."""
    ollama_stub.reply(read(kind="light"), "Three lights are on.")
    result = await say(hass, "which lights are on?")
    assert speech(result) == "Three lights are on."
    assert model_requests(ollama_stub) == 2


@pytest.mark.parametrize("agent_options", [{**DIRECT, CONF_DIRECT_ANSWERS: False}])
async def test_with_the_option_off_the_model_words_every_answer(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Off: a second round, whose words (checked) are the answer."""
    ollama_stub.reply(control("Kitchen Lights", "turn_off"), "Lights out.")
    result = await say(hass, "kill the kitchen lights")
    assert speech(result) == "Lights out."
    assert model_requests(ollama_stub) == 2


@pytest.mark.parametrize(
    # The kind in words, and its domain as the 1.5B model wrote it.
    "name",
    ["Alarm Control Panel", "alarm_control_panel"],
)
async def test_the_only_alarm_panel_is_the_alarm(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
    name: str,
) -> None:
    """The one alarm panel is "the alarm control panel"; disarming it asks first."""
    async_expose_entity(hass, "conversation", "alarm_control_panel.security", True)
    ollama_stub.reply(control(name, "disarm"))
    result = await say(hass, "disarm the alarm", hass_admin_user)
    assert speech(result) == "Do you want me to disarm the security?"
    assert result.continue_conversation


async def _from_satellite(
    hass: HomeAssistant, text: str, device_id: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    """A request as a voice satellite's pipeline sends it: a device, no user."""
    return await conversation.async_converse(
        hass,
        text,
        conversation_id,
        Context(),
        language="en",
        agent_id=AGENT_ID,
        device_id=device_id,
    )


async def test_a_voice_satellite_can_confirm_an_unlock(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    config_entry: MockConfigEntry,
) -> None:
    """Someone at a satellite is a person: asked, and only that satellite's yes counts."""
    devices = dr.async_get(hass)
    hallway, kitchen = (
        devices.async_get_or_create(
            config_entry_id=config_entry.entry_id, identifiers={("test", name)}
        )
        for name in ("hallway", "kitchen")
    )
    ollama_stub.reply(control("Front Door", "unlock"))
    asked = await _from_satellite(hass, "unlock the front door", hallway.id)
    assert speech(asked) == "Do you want me to unlock the front door?"
    assert asked.continue_conversation
    other = await _from_satellite(hass, "yes", kitchen.id, asked.conversation_id)
    assert speech(other) == "Okay, I won't unlock the front door."
    assert hass.states.get("lock.front_door").state == "locked"

    ollama_stub.reply(control("Front Door", "unlock"))
    asked = await _from_satellite(hass, "unlock the front door", hallway.id)
    done = await _from_satellite(hass, "yes", hallway.id, asked.conversation_id)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert "unlocked" in speech(done)


@pytest.mark.parametrize("agent_options", [{**DIRECT, CONF_PREFER_LOCAL: True}])
async def test_a_question_the_matcher_takes_for_a_command_goes_to_the_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A question the matcher reads as a delayed command is the model's to answer."""
    ollama_stub.reply("180 minutes.")
    result = await say(hass, "how many minutes are in three hours?")
    assert speech(result) == "180 minutes."
    assert model_requests(ollama_stub) == 1


@pytest.mark.parametrize(
    ("entity_id", "value", "attributes", "said"),
    [
        ("lock.back_door", "unlocked", {}, "The back door is unlocked."),
        (
            "media_player.kitchen",
            "playing",
            {"volume_level": 0.4, "media_title": "Hippy"},
            "The kitchen is playing Hippy, volume 40%.",
        ),
        (
            "binary_sensor.garage",
            "off",
            {"device_class": "garage_door"},
            "The garage is closed.",
        ),
        (
            "cover.blinds",
            "open",
            {"current_position": 30},
            "The blinds are open at 30%.",
        ),
        (
            "sensor.outside",
            "15.6",
            {"unit_of_measurement": "°C", "friendly_name": "Outside Temperature"},
            "The outside temperature is 15.6 °C.",
        ),
        ("light.desk", "on", {"brightness": 128}, "The desk is on at 50%."),
        ("alarm_control_panel.home", "armed_away", {}, "The home is armed away."),
    ],
)
def test_states_as_a_person_says_them(
    hass: HomeAssistant,
    entity_id: str,
    value: str,
    attributes: dict[str, Any],
    said: str,
) -> None:
    """The words of each kind's state, with the value that matters for it."""
    assert spoken_state(hass, State(entity_id, value, attributes)) == said


async def test_a_device_read_in_another_room_goes_back_to_the_model(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    area_registry: ar.AreaRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The bedroom asked about, the kitchen's light read: the model reads again."""
    for entity_id, area in (
        ("light.kitchen_lights", "Kitchen"),
        ("light.bed_light", "Bedroom"),
    ):
        area_id = area_registry.async_get_or_create(area).id
        device_id = entity_registry.async_get(entity_id).device_id
        dr.async_get(hass).async_update_device(device_id, area_id=area_id)
    await hass.async_block_till_done()
    ollama_stub.reply(read(name="Kitchen Lights"), read(name="Bed Light"))
    result = await say(hass, "is the light in the bedroom on?")
    assert model_requests(ollama_stub) == 2
    assert speech(result) == "The bed light is off."


async def test_a_call_that_changed_nothing_goes_back_to_the_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Off on a light that was off: maybe the wrong light, so the model reads it."""
    assert hass.states.get("light.bed_light").state == "off"
    ollama_stub.reply(
        control("Bed Light", "turn_off"), control("Kitchen Lights", "turn_off")
    )
    result = await say(hass, "switch off the kitchen lights")
    assert model_requests(ollama_stub) == 2
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == "The kitchen lights are now off."


async def test_a_read_the_question_does_not_speak_of_is_no_answer(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A general question and a stray read: the model answers the question."""
    ollama_stub.reply(read(name="Kitchen Lights"), "The capital of France is Paris.")
    result = await say(hass, "what is the capital of France?")
    assert speech(result) == "The capital of France is Paris."
    assert model_requests(ollama_stub) == 2


@pytest.mark.parametrize(
    "words",
    [
        # Both seen with the 1.5B model after a call it made in a question turn.
        "<tools>\n</tools>\n",
        "Error: Refused; reason: question; error text: The user asked a question.",
    ],
)
async def test_words_meant_for_a_program_are_never_spoken(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    words: str,
) -> None:
    """After a call, tags or a tool's error read back are not the answer."""
    ollama_stub.reply(control("Kitchen Lights", "turn_off"), words)
    result = await say(hass, "what is 12 times 12?")
    assert "tools>" not in speech(result)
    assert "error text" not in speech(result)
    assert hass.states.get("light.kitchen_lights").state == "on"


async def test_a_device_that_reports_its_state_late_is_answered_at_once(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The demo's ceiling fan writes its state from a worker thread, after the call.

    The answer waits a moment for it: "now on", not "still off" and another round.
    """
    assert hass.states.get("fan.ceiling_fan").state == "off"
    ollama_stub.reply(control("Ceiling Fan", "turn_on"), "It is still off.")
    result = await say(hass, "spin up the ceiling fan")
    assert hass.states.get("fan.ceiling_fan").state == "on"
    assert speech(result) == "The ceiling fan is now on."
    assert model_requests(ollama_stub) == 1
