"""Risky actions wait for a yes: end to end through Home Assistant's conversation API."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.components.logbook.const import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.extended_ollama_conversation.confirmation import is_yes
from custom_components.extended_ollama_conversation.const import (
    CONF_ALLOW_RISKY_WITHOUT_USER,
    CONF_CONFIRM_DOMAINS,
    CONF_CONFIRM_ENTITIES,
    EVENT_TOOL_CALL,
)

from .conftest import AGENT_OPTIONS
from .helpers import say, speech, tool_call
from .ollama_stub import OllamaStub, Reply

UNLOCK_FRONT_DOOR = Reply(
    tool_calls=[tool_call("intent__HassTurnOff", name="Front Door")]
)


def front_door(hass: HomeAssistant) -> str:
    return hass.states.get("lock.front_door").state


def outcomes(events: list[Event[Any]]) -> list[str]:
    return [event.data["outcome"] for event in events]


async def test_unlock_asks_and_a_yes_unlocks(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """Unlock → a question that keeps the microphone open; yes → unlocked, audited."""
    audit = async_capture_events(hass, EVENT_TOOL_CALL)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    assert speech(asked) == "Do you want me to unlock the front door?"
    assert asked.continue_conversation
    assert front_door(hass) == "locked"
    assert outcomes(audit) == ["awaiting_confirmation"]

    done = await say(hass, "yes", hass_admin_user, asked.conversation_id)
    await hass.async_block_till_done()
    assert front_door(hass) == "unlocked"
    assert speech(done) == "The front door is now unlocked."
    assert not done.continue_conversation
    assert outcomes(audit) == ["awaiting_confirmation", "confirmed"]
    confirmed = audit[-1].data
    assert confirmed["entities"] == ["lock.front_door"]
    assert confirmed["user_id"] == hass_admin_user.id
    assert confirmed["conversation_id"] == asked.conversation_id
    assert confirmed["tool"] == "intent__HassTurnOff"
    assert [e.data["message"] for e in logbook] == [
        "unlocked by the assistant after confirmation"
    ]
    assert logbook[0].data["entity_id"] == "lock.front_door"
    # The yes was answered without the model.
    assert len(ollama_stub.requests_to("/api/chat")) == 1


@pytest.mark.parametrize(
    "reply", ["no", "what's the weather like?", "unlock it now please"]
)
async def test_anything_but_yes_cancels_and_says_so(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
    reply: str,
) -> None:
    """A no, or an unrelated reply, cancels: the door stays locked."""
    audit = async_capture_events(hass, EVENT_TOOL_CALL)
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    answer = await say(hass, reply, hass_admin_user, asked.conversation_id)
    assert speech(answer) == "Okay, I won't unlock the front door."
    assert front_door(hass) == "locked"
    assert outcomes(audit)[-1] == "cancelled"
    # A later yes has nothing left to confirm.
    ollama_stub.reply("Yes to what?")
    await say(hass, "yes", hass_admin_user, asked.conversation_id)
    assert front_door(hass) == "locked"


async def test_a_yes_in_another_conversation_does_nothing(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """The pending action belongs to its conversation only."""
    ollama_stub.reply(UNLOCK_FRONT_DOOR, "Yes to what?")
    await say(hass, "unlock the front door", hass_admin_user)
    other = await say(hass, "yes", hass_admin_user)
    assert speech(other) == "Yes to what?"
    assert front_door(hass) == "locked"


async def test_a_late_yes_is_refused(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
    freezer: FrozenDateTimeFactory,
) -> None:
    """61 seconds later a yes no longer counts, and the person is told so."""
    audit = async_capture_events(hass, EVENT_TOOL_CALL)
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    late = await say(hass, "yes", hass_admin_user, asked.conversation_id)
    assert "too late" in speech(late)
    assert front_door(hass) == "locked"
    assert audit[-1].data["outcome"] == "cancelled"
    assert audit[-1].data["reason"] == "expired"


async def test_a_yes_just_in_time_counts(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
    freezer: FrozenDateTimeFactory,
) -> None:
    """59 seconds is still within the minute."""
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    freezer.tick(timedelta(seconds=59))
    answer = hass.async_create_task(
        say(hass, "yes", hass_admin_user, asked.conversation_id)
    )
    while not answer.done():  # the demo lock takes 2 s to unlock
        freezer.tick(timedelta(milliseconds=100))
        await asyncio.sleep(0)
    assert speech(answer.result()) == "The front door is now unlocked."


async def test_only_the_person_who_asked_can_confirm(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
    hass_read_only_user: User,
) -> None:
    """A yes from someone else in the same conversation cancels."""
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    await say(hass, "yes", hass_read_only_user, asked.conversation_id)
    assert front_door(hass) == "locked"


async def test_rewording_in_the_yes_turn_changes_nothing(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """What is confirmed is what was stored, not what a model says next."""
    async_expose_entity(hass, "conversation", "lock.openable_lock", True)
    ollama_stub.reply(
        UNLOCK_FRONT_DOOR,
        # Were the model asked again, it would unlock another door instead.
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Openable Lock")]),
        "Done.",
    )
    asked = await say(hass, "unlock the front door", hass_admin_user)
    await say(hass, "yes", hass_admin_user, asked.conversation_id)
    assert front_door(hass) == "unlocked"
    assert hass.states.get("lock.openable_lock").state == "locked"
    assert len(ollama_stub.requests_to("/api/chat")) == 1


async def test_a_request_without_a_user_never_unlocks(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An automation cannot unlock; the answer says it needs a person."""
    ollama_stub.reply(UNLOCK_FRONT_DOOR, "The front door is now unlocked.")
    result = await say(hass, "unlock the front door", None)
    assert front_door(hass) == "locked"
    assert speech(result) == "That action needs a person to ask for it."
    tool_result = ollama_stub.requests_to("/api/chat")[1].body["messages"][-1]
    assert "needs a person" in tool_result["content"]


@pytest.mark.parametrize(
    "agent_options",
    [
        {
            **AGENT_OPTIONS,
            CONF_ALLOW_RISKY_WITHOUT_USER: True,
        }
    ],
)
async def test_the_option_lets_automations_unlock(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """With the option on, a request without a user unlocks at once (no one to ask)."""
    ollama_stub.reply(UNLOCK_FRONT_DOOR, "Unlocked.")
    result = await say(hass, "unlock the front door", None)
    await hass.async_block_till_done()
    assert front_door(hass) in {"unlocking", "unlocked"}
    assert speech(result) == "Unlocked."


async def test_locking_needs_no_confirmation(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """Making the home safer is never held back."""
    async_expose_entity(hass, "conversation", "lock.kitchen_door", True)
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOn", name="Kitchen Door")]),
        "The kitchen door is locking.",
    )
    result = await say(hass, "lock the kitchen door", hass_admin_user)
    await hass.async_block_till_done()
    assert hass.states.get("lock.kitchen_door").state == "locked"
    assert speech(result) == "The kitchen door is locking."


async def test_opening_the_garage_asks_closing_does_not(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """A garage door's opening is risky; its closing is not."""
    async_expose_entity(hass, "conversation", "cover.garage_door", True)
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOn", name="Garage Door")]),
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Garage Door")]),
        "Closing.",
    )
    before = hass.states.get("cover.garage_door").state
    asked = await say(hass, "open the garage", hass_admin_user)
    assert speech(asked) == "Do you want me to open the garage door?"
    assert hass.states.get("cover.garage_door").state == before
    closed = await say(hass, "close the garage", hass_admin_user)
    assert speech(closed) == "Closing."


@pytest.mark.parametrize(
    "agent_options",
    [
        {
            **AGENT_OPTIONS,
            CONF_CONFIRM_DOMAINS: ["light"],
            CONF_CONFIRM_ENTITIES: "switch.decorative_lights",
        }
    ],
)
async def test_domains_and_entities_from_the_options_ask(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """The person's own additions need a yes as well."""
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")]),
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Decorative Lights")]),
    )
    first = await say(hass, "kitchen lights off", hass_admin_user)
    assert speech(first) == "Do you want me to turn off the kitchen lights?"
    assert hass.states.get("light.kitchen_lights").state == "on"
    second = await say(hass, "decorative lights off", hass_admin_user)
    assert speech(second) == "Do you want me to turn off the decorative lights?"
    done = await say(hass, "sure", hass_admin_user, second.conversation_id)
    assert hass.states.get("switch.decorative_lights").state == "off"
    assert speech(done) == "The decorative lights are now off."


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Yes", "en", True),
        ("yeah!", "en", True),
        ("Yep.", "en", True),
        ("sure", "en", True),
        ("Do it", "en", True),
        ("confirm", "en", True),
        ("OK", "en", True),
        ("okay, thanks", "en", True),
        ("yes please", "en", True),
        ("Ja", "de", True),
        ("ja, bitte", "de", True),
        ("Oui", "fr", True),
        ("d'accord", "fr", True),
        ("Sí", "es", True),
        ("claro", "es", True),
        ("Ja", "nl", True),
        ("doe maar", "nl", True),
        ("no", "en", False),
        ("yes, and turn on the light", "en", False),
        ("nein", "de", False),
        ("what?", "en", False),
        ("", "en", False),
    ],
)
def test_yes_words(text: str, language: str, expected: bool) -> None:
    """Only a plain yes counts, in several languages."""
    assert is_yes(text, language) is expected
