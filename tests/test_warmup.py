"""The warm-up sends each agent's stable prefix once per change, in the background."""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_LLM_HASS_API, CONF_PROMPT, CONF_TIMEOUT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.extended_ollama_conversation.const import (
    CONF_WARM_UP,
    DOMAIN,
    WARM_UP_COOLDOWN,
)

from .conftest import AGENT_OPTIONS
from .helpers import ask
from .ollama_stub import Fault, OllamaStub, RecordedRequest, Reply

WARM = {**AGENT_OPTIONS, CONF_WARM_UP: True}


def warm_ups(stub: OllamaStub) -> list[RecordedRequest]:
    """The requests that asked for a single token: the warm-ups."""
    return [
        request
        for request in stub.requests_to("/api/chat")
        if request.body["options"].get("num_predict") == 1
    ]


def turns(stub: OllamaStub) -> list[RecordedRequest]:
    """The requests of real turns."""
    return [r for r in stub.requests_to("/api/chat") if r not in warm_ups(stub)]


async def settle(hass: HomeAssistant) -> None:
    """Let debounced changes fire and the warm-up finish."""
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=WARM_UP_COOLDOWN + 1)
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def set_up(
    hass: HomeAssistant, stub: OllamaStub, options: dict[str, Any]
) -> MockConfigEntry:
    """A server entry with one agent, the stand-in answering every request 'ok'."""
    stub.responder = lambda path, body: Reply("ok")
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"url": stub.url, CONF_TIMEOUT: 5},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation",
                data=options,
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


@pytest.mark.parametrize("api", [llm.LLM_API_ASSIST, DOMAIN])
async def test_prefix_is_byte_identical_to_a_real_turn(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None, api: str
) -> None:
    """The warm-up's instructions, directory and tools start every real turn."""
    await set_up(hass, ollama_stub, {**WARM, CONF_LLM_HASS_API: [api]})
    [warm] = warm_ups(ollama_stub)
    await ask(hass, "turn on the kitchen lights")
    [turn] = turns(ollama_stub)
    assert json.dumps(warm.body["messages"][0]) == json.dumps(turn.body["messages"][0])
    assert json.dumps(warm.body["tools"]) == json.dumps(turn.body["tools"])
    # The home's control tools are in it, not just an empty list that trivially matches.
    names = {tool["function"]["name"] for tool in warm.body["tools"]}
    assert names & {"control", "homeassistant__GetLiveContext"}
    for same in ("model", "keep_alive"):
        assert warm.body[same] == turn.body[same]
    assert warm.body["options"] == {**turn.body["options"], "num_predict": 1}


async def test_sent_once_per_change(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> None:
    """Options and exposure changes send the new prefix once; a no-op change nothing."""
    entry = await set_up(hass, ollama_stub, WARM)
    assert len(warm_ups(ollama_stub)) == 1

    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**WARM, CONF_PROMPT: "You are the house. Be brief."}
    )
    await settle(hass)
    assert len(warm_ups(ollama_stub)) == 2
    assert (
        "You are the house" in warm_ups(ollama_stub)[-1].body["messages"][0]["content"]
    )

    # Exposing the back door lock changes the Assist API's overview of the home.
    hass.states.async_set("lock.back_door", "locked", {"friendly_name": "Back Door"})
    async_expose_entity(hass, "conversation", "lock.back_door", True)
    await settle(hass)
    assert len(warm_ups(ollama_stub)) == 3
    assert "Back Door" in warm_ups(ollama_stub)[-1].body["messages"][0]["content"]

    # Nothing the prompt holds changed: nothing is sent.
    async_expose_entity(hass, "conversation", "lock.back_door", True)
    hass.config_entries.async_update_subentry(entry, subentry, title="Renamed agent")
    await settle(hass)
    assert len(warm_ups(ollama_stub)) == 3


async def test_not_sent_while_the_server_is_down(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> None:
    """A change while the server is down is not retried in a loop; the next one is sent."""
    await set_up(hass, ollama_stub, WARM)
    assert len(warm_ups(ollama_stub)) == 1
    await ollama_stub.stop()
    hass.states.async_set("lock.back_door", "locked", {"friendly_name": "Back Door"})
    async_expose_entity(hass, "conversation", "lock.back_door", True)
    await settle(hass)
    await ollama_stub.start()
    for _ in range(3):
        await settle(hass)
    assert len(warm_ups(ollama_stub)) == 1

    async_expose_entity(hass, "conversation", "lock.back_door", False)
    async_expose_entity(hass, "conversation", "lock.back_door", True)
    await settle(hass)
    assert len(warm_ups(ollama_stub)) == 2
    assert "Back Door" in warm_ups(ollama_stub)[-1].body["messages"][0]["content"]


async def test_never_delays_start_up_and_can_be_turned_off(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> None:
    """Set-up returns while the server still reads the prefix; the option stops it."""
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=3)
    started = time.monotonic()
    ollama_stub.responder = lambda path, body: Reply("ok")
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"url": ollama_stub.url, CONF_TIMEOUT: 5},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation",
                data=WARM,
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert time.monotonic() - started < 2
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(warm_ups(ollama_stub)) == 1

    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**WARM, CONF_WARM_UP: False, CONF_PROMPT: "Be brief."}
    )
    await settle(hass)
    assert len(warm_ups(ollama_stub)) == 1
