"""Each agent's sensors: today's requests and errors, the last turn's figures.

Turns go through Home Assistant's conversation API to the stand-in; the sensors are
read from the state machine, as a dashboard shows them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.extended_ollama_conversation.agent_stats import (
    RECENT_TURNS,
    SAVE_DELAY,
    storage_key,
)
from custom_components.extended_ollama_conversation.const import DOMAIN

from .conftest import AGENT_OPTIONS
from .helpers import ask, tool_call
from .ollama_stub import OllamaStub, Reply

# The stand-in reports 870 ms of generation for every answer.
EVAL_SECONDS = 0.87
# 23:59:50 on 4 December in the test harness's time zone (US/Pacific).
BEFORE_MIDNIGHT = "2026-12-05 07:59:50+00:00"
KEYS = (
    "requests_today",
    "errors_today",
    "last_response_time",
    "last_prompt_tokens",
    "generation_speed",
)


def agent_subentry_id(entry: MockConfigEntry) -> str:
    """The conversation agent's subentry."""
    return next(
        s.subentry_id
        for s in entry.subentries.values()
        if s.subentry_type == "conversation"
    )


def sensor_ids(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """The agent's sensors' entity ids by figure."""
    registry = er.async_get(hass)
    subentry_id = agent_subentry_id(entry)
    ids = {
        key: registry.async_get_entity_id("sensor", DOMAIN, f"{subentry_id}_{key}")
        for key in KEYS
    }
    assert all(ids.values()), ids
    return {key: str(entity_id) for key, entity_id in ids.items()}


def states(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """What each of the agent's sensors shows now."""
    return {
        key: hass.states.get(entity_id).state  # type: ignore[union-attr]
        for key, entity_id in sensor_ids(hass, entry).items()
    }


async def test_sensors_after_setup(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Counters start at 0; the last turn's figures are unknown, not 0."""
    assert states(hass, agent_entry) == {
        "requests_today": "0",
        "errors_today": "0",
        "last_response_time": STATE_UNAVAILABLE,
        "last_prompt_tokens": STATE_UNAVAILABLE,
        "generation_speed": STATE_UNAVAILABLE,
    }
    ids = sensor_ids(hass, agent_entry)
    requests = hass.states.get(ids["requests_today"])
    assert requests is not None
    assert requests.name == "Ollama Conversation Requests today"
    assert requests.attributes["state_class"] == "total"
    assert requests.attributes["unit_of_measurement"] == "requests"
    assert requests.attributes["last_reset"] == (
        dt_util.start_of_local_day().isoformat()
    )
    # On the agent's own device, next to its conversation entity.
    entity = er.async_get(hass).async_get(ids["generation_speed"])
    assert entity is not None and entity.device_id is not None
    device = dr.async_get(hass).async_get(entity.device_id)
    assert device is not None
    assert (DOMAIN, agent_subentry_id(agent_entry)) in device.identifiers
    assert entity.config_subentry_id == agent_subentry_id(agent_entry)


async def test_a_model_turn_shows_in_the_sensors(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """One request; the prompt tokens the server counted; its generation speed."""
    ollama_stub.reply(Reply("Hello there.", prompt_eval_count=321, eval_count=40))
    await ask(hass, "hello")
    shown = states(hass, agent_entry)
    assert shown["requests_today"] == "1"
    assert shown["errors_today"] == "0"
    assert shown["last_prompt_tokens"] == "321"
    assert float(shown["generation_speed"]) == pytest.approx(40 / EVAL_SECONDS, 0.01)
    assert 0 <= float(shown["last_response_time"]) < 5
    speed = hass.states.get(sensor_ids(hass, agent_entry)["generation_speed"])
    assert speed is not None
    assert speed.attributes["unit_of_measurement"] == "tokens/s"


async def test_a_turn_with_tools_counts_its_rounds(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Two requests in one turn: one request today, both rounds' tokens."""
    ollama_stub.reply(
        Reply(
            tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")],
            prompt_eval_count=500,
            eval_count=10,
        ),
        Reply("The kitchen lights are off.", prompt_eval_count=520, eval_count=30),
    )
    await ask(hass, "turn off the kitchen light")
    shown = states(hass, agent_entry)
    assert shown["requests_today"] == "1"
    assert shown["last_prompt_tokens"] == "1020"
    assert float(shown["generation_speed"]) == pytest.approx(
        40 / (2 * EVAL_SECONDS), 0.01
    )
    [turn] = agent_entry.runtime_data.stats.recent_turns()
    assert turn["tools"] == ["intent__HassTurnOff"]
    assert (turn["prompt_tokens"], turn["generated_tokens"]) == (1020, 40)


async def test_an_error_turn_counts_an_error(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The server stopped: a request and an error; no figures of a model answer."""
    await ollama_stub.stop()
    await ask(hass, "hello")
    shown = states(hass, agent_entry)
    assert shown["requests_today"] == "1"
    assert shown["errors_today"] == "1"
    assert shown["last_prompt_tokens"] == STATE_UNAVAILABLE
    assert float(shown["last_response_time"]) >= 0


@pytest.mark.parametrize("agent_options", [{**AGENT_OPTIONS, "prefer_local": True}])
async def test_a_local_turn_is_a_request_without_model_figures(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_options: dict[str, Any],
    agent_entry: MockConfigEntry,
) -> None:
    """Answered by Home Assistant's matcher: counted; tokens and speed stay unknown."""
    await ask(hass, "turn off the kitchen lights")
    shown = states(hass, agent_entry)
    assert shown["requests_today"] == "1"
    assert shown["last_response_time"] != STATE_UNAVAILABLE
    assert shown["generation_speed"] == STATE_UNAVAILABLE


async def test_counters_survive_a_restart(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Saved a few seconds after a turn, and on unload; read back at the next setup."""
    ollama_stub.reply(Reply("One.", prompt_eval_count=111), "Two.")
    await ask(hass, "one")
    key = storage_key(agent_entry.entry_id)
    assert key not in hass_storage  # the save waits
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY + 1))
    await hass.async_block_till_done()
    saved = hass_storage[key]["data"]["agents"][agent_subentry_id(agent_entry)]
    assert (saved["requests"], saved["errors"]) == (1, 0)

    await ollama_stub.stop()
    await ask(hass, "two")
    await ollama_stub.start(int(ollama_stub.url.rsplit(":", 1)[1]))
    assert await hass.config_entries.async_reload(agent_entry.entry_id)
    await hass.async_block_till_done()
    shown = states(hass, agent_entry)
    assert (shown["requests_today"], shown["errors_today"]) == ("2", "1")
    assert shown["last_prompt_tokens"] == "111"  # from the last turn that had a model


async def test_deleting_the_server_deletes_its_figures(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Nothing of a deleted server entry stays in Home Assistant's storage."""
    ollama_stub.reply("Hi.")
    await ask(hass, "hello")
    await hass.config_entries.async_unload(agent_entry.entry_id)
    key = storage_key(agent_entry.entry_id)
    assert hass_storage[key]["data"]["agents"]  # saved when it unloaded
    await hass.config_entries.async_remove(agent_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


@pytest.mark.parametrize(
    ("days_ago", "requests"), [(1, "0"), (0, "7")], ids=["yesterday", "today"]
)
async def test_stored_counters_count_only_for_their_day(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    entry_data: dict[str, Any],
    hass_storage: dict[str, Any],
    days_ago: int,
    requests: str,
) -> None:
    """A start after midnight begins today's counters at 0; the last turn's stay."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=entry_data,
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id="agent1",
                subentry_type="conversation",
                data=dict(AGENT_OPTIONS),
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    key = storage_key(entry.entry_id)
    day = dt_util.now().date() - timedelta(days=days_ago)
    stored = {"requests": 7, "errors": 2, "response_time": 1.5}
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "day": day.isoformat(),
            "agents": {"agent1": stored, "removed-agent": {"requests": 3}},
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    shown = states(hass, entry)
    assert shown["requests_today"] == requests
    assert shown["errors_today"] == ("0" if days_ago else "2")
    assert shown["last_response_time"] == "1.5"
    assert shown["generation_speed"] == STATE_UNAVAILABLE
    assert set(entry.runtime_data.stats.counters()) == {"agent1"}


@pytest.mark.freeze_time(BEFORE_MIDNIGHT)
async def test_counters_reset_at_local_midnight(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At 00:00 local time today's counters go to 0; the last turn's figures stay."""
    await ollama_stub.stop()
    await ask(hass, "hello")
    assert states(hass, agent_entry)["errors_today"] == "1"
    freezer.move_to("2026-12-05 08:00:01+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    shown = states(hass, agent_entry)
    assert (shown["requests_today"], shown["errors_today"]) == ("0", "0")
    assert shown["last_response_time"] != STATE_UNAVAILABLE
    requests = hass.states.get(sensor_ids(hass, agent_entry)["requests_today"])
    assert requests is not None
    assert requests.attributes["last_reset"] == "2026-12-05T00:00:00-08:00"


async def test_the_last_turns_are_kept_for_the_diagnostics(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The last ten turns' figures, newest last, without what was said."""
    for number in range(RECENT_TURNS + 2):
        ollama_stub.reply(Reply(f"Answer {number}.", prompt_eval_count=100 + number))
        await ask(hass, f"question {number}")
    turns = agent_entry.runtime_data.stats.recent_turns()
    assert len(turns) == RECENT_TURNS
    assert [t["prompt_tokens"] for t in turns] == [
        100 + n for n in range(2, RECENT_TURNS + 2)
    ]
    last = turns[-1]
    assert last["model"] == AGENT_OPTIONS["model"]
    assert last["outcome"] == "answered"
    assert last["local"] is False
    assert dt_util.parse_datetime(last["started"]) is not None
    assert "text" not in last and "answer" not in last
    assert "question" not in repr(turns)


async def test_unavailable_while_the_server_is_down(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """With the server unreachable, the agent's figures are unavailable; then back."""
    ollama_stub.reply("Hello.")
    await ask(hass, "hello")
    coordinator = agent_entry.runtime_data.coordinator
    assert coordinator is not None
    await ollama_stub.stop()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert set(states(hass, agent_entry).values()) == {STATE_UNAVAILABLE}

    await ollama_stub.start()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    back = states(hass, agent_entry)
    assert back["requests_today"] == "1"
    assert STATE_UNAVAILABLE not in back.values()
