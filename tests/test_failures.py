"""Failures during a turn: one spoken sentence, one log line, and the next turn works."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .helpers import ask, messages_of, speech
from .ollama_stub import Fault, OllamaStub, Reply


async def _server_down(stub: OllamaStub) -> Callable[[], Awaitable[None]]:
    await stub.stop()
    return stub.start


async def _fault(
    stub: OllamaStub, fault: Fault, **kwargs: float
) -> Callable[[], Awaitable[None]]:
    stub.fail(fault, path="/api/chat", **kwargs)
    if fault in (Fault.CUT_STREAM, Fault.MALFORMED_LINE, Fault.STALL_AFTER_FIRST_LINE):
        stub.reply(Reply(["The lights ", "are ", "on."]))  # broken in the middle

    async def nothing() -> None:
        return None

    return nothing


async def _token_required(stub: OllamaStub) -> Callable[[], Awaitable[None]]:
    stub.token = "new-key"

    async def accept_again() -> None:
        stub.token = None

    return accept_again


@pytest.mark.parametrize(
    ("break_server", "sentence"),
    [
        pytest.param(
            _server_down,
            "I couldn't reach the Ollama server at {host}.",
            id="server-down",
        ),
        pytest.param(
            lambda stub: _fault(stub, Fault.STALL_AFTER_FIRST_LINE, delay=5),
            "The Ollama server at {host} did not answer in time.",
            id="timeout",
        ),
        pytest.param(
            lambda stub: _fault(stub, Fault.CUT_STREAM),
            "The connection to the Ollama server at {host} was lost.",
            id="stream-cut",
        ),
        pytest.param(
            lambda stub: _fault(stub, Fault.MALFORMED_LINE),
            "The Ollama server at {host} sent an invalid response.",
            id="malformed-line",
        ),
        pytest.param(
            lambda stub: _fault(stub, Fault.MODEL_NOT_FOUND),
            "The model qwen2.5:3b is not on the Ollama server at {host}.",
            id="model-deleted",
        ),
        pytest.param(
            lambda stub: _fault(stub, Fault.SERVER_ERROR),
            "The Ollama server at {host} answered with an error.",
            id="server-error",
        ),
        pytest.param(
            _token_required,
            "The Ollama server at {host} refused my API key.",
            id="unauthorized",
        ),
    ],
)
async def test_failure_is_one_sentence_and_the_next_turn_works(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    break_server: Callable[[OllamaStub], Awaitable[Callable[[], Awaitable[None]]]],
    sentence: str,
) -> None:
    """The person hears what went wrong; nothing is raised; the log has one clean line."""
    host = f"127.0.0.1:{ollama_stub.port}"
    # Capabilities are already known when a failure strikes mid-conversation.
    await agent_entry.runtime_data.client.model_info("qwen2.5:3b")
    repair = await break_server(ollama_stub)
    caplog.clear()

    failed = await ask(hass, "are the lights on?")

    assert speech(failed) == sentence.format(host=host)
    assert failed.response.response_type is intent.IntentResponseType.ERROR
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "extended_ollama" in r.name
    ]
    assert len(errors) == 1
    assert errors[0].exc_info is None
    assert "Traceback" not in caplog.text

    await repair()
    ollama_stub.reply("Yes, they are on.")
    recovered = await ask(hass, "and now?", failed.conversation_id)
    assert speech(recovered) == "Yes, they are on."
    history = ollama_stub.requests_to("/api/chat")[-1].body
    assert [m["content"] for m in messages_of(history, "user")] == [
        "are the lights on?",
        "and now?",
    ]
    assert messages_of(history, "assistant")[0]["content"] == sentence.format(host=host)


async def test_refused_key_starts_reauthentication(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A 401 during a turn asks the user for a new key; with it, the agent answers."""
    ollama_stub.token = "rotated"
    await ask(hass, "hello")
    flows = hass.config_entries.flow.async_progress_by_handler(
        "extended_ollama_conversation"
    )
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"api_key": "rotated"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert agent_entry.state is ConfigEntryState.LOADED
    ollama_stub.reply("Hello again.")
    assert speech(await ask(hass, "hello")) == "Hello again."
    assert (
        ollama_stub.requests_to("/api/chat")[-1].headers["Authorization"]
        == "Bearer rotated"
    )
