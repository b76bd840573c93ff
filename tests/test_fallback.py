"""The fallback server: it answers while the agent's own server cannot be reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import logging
from pathlib import Path
from typing import Any

from homeassistant.const import CONF_MODEL, CONF_NAME, CONF_TIMEOUT, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.extended_ollama_conversation.const import (
    CONF_FALLBACK_ENTRY,
    CONF_FALLBACK_MODEL,
    CONF_ROUTE_FAST,
    DOMAIN,
    EVENT_TURN,
)
from custom_components.extended_ollama_conversation.routing import ROUTE_OPTIONS

from .conftest import AGENT_OPTIONS, _finalize_abandoned_streams
from .helpers import ask, speech
from .ollama_stub import Fault, OllamaStub, Reply

PACKAGE = (
    Path(__file__).parent.parent / "custom_components" / "extended_ollama_conversation"
)


@pytest.fixture
async def fallback_stub(socket_enabled: None) -> AsyncIterator[OllamaStub]:
    """A second stand-in, on its own port: the fallback server."""
    stub = OllamaStub()
    await stub.start()
    yield stub
    await _finalize_abandoned_streams()
    await stub.stop()


@pytest.fixture
async def fallback_entry(
    hass: HomeAssistant, fallback_stub: OllamaStub
) -> MockConfigEntry:
    """A loaded server entry for the fallback stand-in, with no agents of its own."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="fallback",
        data={CONF_URL: fallback_stub.url, CONF_TIMEOUT: 2},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def agent_options(fallback_entry: MockConfigEntry) -> dict[str, Any]:
    """The agent names the fallback entry."""
    return {**AGENT_OPTIONS, CONF_FALLBACK_ENTRY: fallback_entry.entry_id}


def _chats(stub: OllamaStub) -> int:
    return len(stub.requests_to("/api/chat"))


async def test_the_fallback_answers_while_the_primary_is_down(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    fallback_entry: MockConfigEntry,
    agent_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped: the fallback answers, every turn; back: the primary answers again."""
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply("From the primary.")
    assert speech(await ask(hass, "hello")) == "From the primary."

    await ollama_stub.stop()
    fallback_stub.reply("From the fallback.", "Still the fallback.")
    with caplog.at_level(logging.INFO):
        result = await ask(hass, "hello")
        assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
        assert speech(result) == "From the fallback."
        assert speech(await ask(hass, "hello again")) == "Still the fallback."
        data = events[-1].data
        assert data["fell_back"] is True
        assert data["entry_id"] == fallback_entry.entry_id
        assert data["server"] == fallback_stub.url.removeprefix("http://")
        assert data["model"] == AGENT_OPTIONS["model"]
        assert _chats(fallback_stub) == 2

        await ollama_stub.start()
        ollama_stub.reply("The primary is back.")
        assert speech(await ask(hass, "hello")) == "The primary is back."
    assert _chats(fallback_stub) == 2
    assert events[-1].data["fell_back"] is False
    assert events[-1].data["entry_id"] == agent_entry.entry_id
    unreached = [r for r in caplog.records if "answers until it is back" in r.message]
    assert len(unreached) == 1  # said once, not at every turn
    assert unreached[0].levelno == logging.WARNING
    assert any("answers again" in r.message for r in caplog.records)


async def test_the_fallback_model_is_used_there(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """A fallback model, when set, is the one the fallback server is asked for."""
    subentry = next(
        s for s in agent_entry.subentries.values() if s.subentry_type == "conversation"
    )
    hass.config_entries.async_update_subentry(
        agent_entry,
        subentry,
        data={**subentry.data, CONF_FALLBACK_MODEL: "llama3.2:1b"},
    )
    await hass.async_block_till_done()
    fallback_stub.add_model("llama3.2:1b")
    await ollama_stub.stop()
    fallback_stub.reply("Hi from llama.")
    assert speech(await ask(hass, "hello")) == "Hi from llama."
    assert fallback_stub.requests_to("/api/chat")[-1].body["model"] == "llama3.2:1b"


async def test_no_answer_in_time_counts_as_unreachable(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """A server that says nothing before the deadline: the fallback answers."""
    agent_entry.runtime_data.client.forget_model_info()  # read at setup (monitoring)
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/show", delay=5)
    fallback_stub.reply("From the fallback.")
    assert speech(await ask(hass, "hello")) == "From the fallback."
    assert _chats(ollama_stub) == 0


@pytest.mark.parametrize(
    ("fault", "sentence"),
    [
        (Fault.SERVER_ERROR, "answered with an error"),
        (Fault.MODEL_NOT_FOUND, "is not on the Ollama server"),
        (Fault.CUT_STREAM, "was lost"),
        (Fault.STALL_AFTER_FIRST_LINE, "did not answer in time"),
    ],
)
async def test_a_server_that_answered_is_not_replaced(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    fault: Fault,
    sentence: str,
) -> None:
    """An error from the server, or an answer begun, is said; the fallback is not asked."""
    fallback_stub.requests.clear()  # its monitoring read it at setup
    ollama_stub.fail(fault, path="/api/chat", delay=5)
    ollama_stub.reply(Reply(["The lights ", "are ", "on."]))
    result = await ask(hass, "are the lights on?")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert sentence in speech(result)
    assert _chats(fallback_stub) == 0
    assert fallback_stub.requests_to("/api/show") == []


async def test_a_fallback_that_is_not_loaded_is_not_used(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    fallback_entry: MockConfigEntry,
    agent_entry: MockConfigEntry,
) -> None:
    """Unloaded fallback: the agent's own server's sentence is said."""
    await hass.config_entries.async_unload(fallback_entry.entry_id)
    await ollama_stub.stop()
    result = await ask(hass, "hello")
    host = ollama_stub.url.removeprefix("http://")
    assert speech(result) == f"I couldn't reach the Ollama server at {host}."
    assert _chats(fallback_stub) == 0


async def test_when_the_fallback_fails_too_the_primary_is_named(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """Both down: the person hears about the agent's own server."""
    await ollama_stub.stop()
    fallback_stub.fail(Fault.SERVER_ERROR, path="/api/chat")
    result = await ask(hass, "hello")
    host = ollama_stub.url.removeprefix("http://")
    assert speech(result) == f"I couldn't reach the Ollama server at {host}."
    assert _chats(fallback_stub) == 1


async def test_the_agent_form_offers_the_other_servers(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_entry: MockConfigEntry,
    agent_entry: MockConfigEntry,
) -> None:
    """Routes list the server's models; the fallback lists other entries, not its own."""
    strings = json.loads((PACKAGE / "strings.json").read_text())
    step = strings["config_subentries"]["conversation"]["step"]["set_options"]
    ollama_stub.add_model("fast:1b")
    result = await hass.config_entries.subentries.async_init(
        (agent_entry.entry_id, "conversation"), context={"source": "user"}
    )
    fields = {
        str(key): selector for key, selector in result["data_schema"].schema.items()
    }
    servers = [o["value"] for o in fields[CONF_FALLBACK_ENTRY].config["options"]]
    assert servers == [fallback_entry.entry_id]
    for key in (*ROUTE_OPTIONS.values(), CONF_FALLBACK_ENTRY, CONF_FALLBACK_MODEL):
        assert key in step["data"]
        assert key in step["data_description"]
    routes = [o["value"] for o in fields[CONF_ROUTE_FAST].config["options"]]
    assert routes == ["fast:1b", "qwen2.5:3b"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Routed",
            CONF_MODEL: "qwen2.5:3b",
            "num_ctx": 8192,
            "keep_alive": -1,
            "think": False,
            "prefer_local": False,
            "max_history": 10,
            "max_tool_iterations": 4,
            "context_budget": 1200,
            CONF_ROUTE_FAST: "fast:1b",
            CONF_FALLBACK_ENTRY: fallback_entry.entry_id,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ROUTE_FAST] == "fast:1b"
    assert result["data"][CONF_FALLBACK_ENTRY] == fallback_entry.entry_id


async def test_routing_on_a_primary_that_is_down(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    fallback_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """The fast model cannot be asked: the turn goes to the fallback at once."""
    subentry = next(
        s for s in agent_entry.subentries.values() if s.subentry_type == "conversation"
    )
    hass.config_entries.async_update_subentry(
        agent_entry, subentry, data={**subentry.data, CONF_ROUTE_FAST: "fast:1b"}
    )
    await hass.async_block_till_done()
    await ollama_stub.stop()
    fallback_stub.reply("Good morning to you too.")
    assert speech(await ask(hass, "good morning")) == "Good morning to you too."
    [request] = fallback_stub.requests_to("/api/chat")
    assert request.body["model"] == AGENT_OPTIONS["model"]
