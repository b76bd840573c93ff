"""Model routing: the rules pick a kind, the kind picks a model, a missing one gives way."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components import conversation
from homeassistant.const import CONF_MODEL
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.extended_ollama_conversation.answer_mark import AnsweredBy
from custom_components.extended_ollama_conversation.const import (
    CONF_PREFER_LOCAL,
    CONF_RATE_PER_MINUTE,
    CONF_ROUTE_CODE,
    CONF_ROUTE_CREATIVE,
    CONF_ROUTE_FAST,
    CONF_ROUTE_GENERAL,
    EVENT_TURN,
)
from custom_components.extended_ollama_conversation.routing import (
    CLASSIFY_INSTRUCTIONS,
    Kind,
    route,
)

from .conftest import AGENT_ID, AGENT_OPTIONS
from .helpers import ask, speech
from .ollama_stub import Fault, OllamaStub
from .test_warmup import WARM, set_up, warm_ups

DEFAULT = AGENT_OPTIONS[CONF_MODEL]
ROUTES = {
    CONF_ROUTE_FAST: "fast:1b",
    CONF_ROUTE_GENERAL: "general:7b",
    CONF_ROUTE_CODE: "coder:7b",
    CONF_ROUTE_CREATIVE: "writer:7b",
}
MODEL_OF = {
    Kind.FAST: "fast:1b",
    Kind.GENERAL: "general:7b",
    Kind.CODE: "coder:7b",
    Kind.CREATIVE: "writer:7b",
    None: DEFAULT,  # the fast model is asked; the stand-in answers "nothing useful"
}

# (request, language, kind the rules give)
REQUESTS: list[tuple[str, str, Kind | None]] = [
    ("turn off the kitchen light", "en", Kind.FAST),
    ("set the thermostat to 21 degrees", "en", Kind.FAST),
    ("could you please close the blinds", "en", Kind.FAST),
    ("dim the living room lamps to 30 percent", "en", Kind.FAST),
    ("run the bedtime script", "en", Kind.FAST),
    ("play some jazz in the kitchen", "en", Kind.FAST),
    ("schalte das Licht im Flur aus", "de", Kind.FAST),
    ("éteins la lumière du salon", "fr", Kind.FAST),
    ("what is the capital of Peru?", "en", Kind.GENERAL),
    ("how far away is the moon", "en", Kind.GENERAL),
    ("who wrote Pride and Prejudice?", "en", Kind.GENERAL),
    ("is the front door locked?", "en", Kind.GENERAL),
    ("wie spät ist es in Tokio?", "de", Kind.GENERAL),
    ("¿cuántos días tiene febrero?", "es", Kind.GENERAL),
    ("write a python function that reverses a string", "en", Kind.CODE),
    ("what does this yaml error mean", "en", Kind.CODE),
    ("give me a regex for email addresses", "en", Kind.CODE),
    ("write a script that backs up my files", "en", Kind.CODE),
    ("why does my script give an error?", "en", Kind.CODE),
    ("explain this traceback to me", "en", Kind.CODE),
    ("is c++ faster than java?", "en", Kind.CODE),
    ("tell me a joke", "en", Kind.CREATIVE),
    ("write me a poem about autumn", "en", Kind.CREATIVE),
    ("make up a bedtime story for my daughter", "en", Kind.CREATIVE),
    ("erzähl mir eine Geschichte", "de", Kind.CREATIVE),
    ("raconte-moi une blague", "fr", Kind.CREATIVE),
    ("good morning", "en", None),
    ("the weather in Paris", "en", None),
]


@pytest.mark.parametrize(("text", "language", "kind"), REQUESTS)
def test_rules(text: str, language: str, kind: Kind | None) -> None:
    """Each request gets the kind its words say, or none when they cannot tell."""
    assert route(text, local_matched_device=False, language=language) is kind


def test_a_recognised_device_sentence_is_fast() -> None:
    """What Home Assistant's matcher recognised is about a device, whatever its words."""
    assert (
        route(
            "what is the temperature inside", local_matched_device=True, language="en"
        )
        is Kind.FAST
    )


def _models_asked(stub: OllamaStub) -> list[str]:
    return [request.body["model"] for request in stub.requests_to("/api/chat")]


def _is_classification(body: dict[str, Any]) -> bool:
    return body["messages"][0]["content"] == CLASSIFY_INSTRUCTIONS


def _install_routes(stub: OllamaStub) -> None:
    for model in ROUTES.values():
        stub.add_model(model)


@pytest.fixture
def agent_options() -> dict[str, Any]:
    """An agent with a model for each kind."""
    return {**AGENT_OPTIONS, **ROUTES}


async def test_each_request_goes_to_its_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """All the requests above, through the agent: the chat request names the model."""
    _install_routes(ollama_stub)
    hass.config_entries.async_update_entry(
        agent_entry, options={CONF_RATE_PER_MINUTE: 100}
    )
    events = async_capture_events(hass, EVENT_TURN)
    for text, language, kind in REQUESTS:
        ollama_stub.requests.clear()
        if kind is None:
            ollama_stub.reply("no idea")  # the fast model's unusable one-word answer
        ollama_stub.reply("Done.")
        result = await conversation.async_converse(
            hass, text, None, Context(), language=language, agent_id=AGENT_ID
        )
        assert speech(result) == "Done.", text
        asked = _models_asked(ollama_stub)
        assert asked[-1] == MODEL_OF[kind], text
        assert len(asked) == (2 if kind is None else 1), text
        event = events[-1].data
        assert event["model"] == MODEL_OF[kind]
        assert event["kind"] == (kind.value if kind else None)
        assert event["routed_by"] == ("rules" if kind else None)
    assert ollama_stub.pending_replies == 0


async def test_the_fast_model_sorts_what_the_rules_cannot(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """One short request to the fast model, with the agent's num_ctx; then its choice."""
    _install_routes(ollama_stub)
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply("Creative.", "Once upon a time, the moon went to sleep.")
    result = await ask(hass, "the moon and the sleepy owl")
    assert speech(result) == "Once upon a time, the moon went to sleep."
    first, second = (r.body for r in ollama_stub.requests_to("/api/chat"))
    assert _is_classification(first)
    assert first["model"] == "fast:1b"
    assert first["messages"][1]["content"] == "the moon and the sleepy owl"
    assert first["options"]["num_ctx"] == AGENT_OPTIONS["num_ctx"]
    assert first["keep_alive"] == second["keep_alive"]
    assert second["model"] == "writer:7b"
    assert events[-1].data["kind"] == "creative"
    assert events[-1].data["routed_by"] == "model"


async def test_the_chat_log_says_which_model_answered(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The assistant message carries the model and server as its native content."""
    _install_routes(ollama_stub)
    ollama_stub.reply("Here is one: def reverse(s): return s[::-1]")
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        await conversation.async_converse(
            hass,
            "write a python function that reverses a string",
            session.conversation_id,
            Context(),
            agent_id=AGENT_ID,
        )
        [answer] = [
            c for c in chat_log.content if isinstance(c, conversation.AssistantContent)
        ]
    host = ollama_stub.url.removeprefix("http://")
    assert answer.native == AnsweredBy("coder:7b", host)
    assert answer.content == "Here is one: def reverse(s): return s[::-1]"


async def test_a_missing_routed_model_gives_way_once(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A routed model not on the server: the agent's model answers, with a log line."""
    ollama_stub.add_model("fast:1b")  # coder:7b is not installed
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply("def reverse(s): return s[::-1]")
    with caplog.at_level(logging.WARNING):
        result = await ask(hass, "write a python function that reverses a string")
    assert speech(result) == "def reverse(s): return s[::-1]"
    assert _models_asked(ollama_stub) == [DEFAULT]
    lines = [r for r in caplog.records if "instead" in r.getMessage()]
    assert len(lines) == 1
    assert "coder:7b" in lines[0].getMessage()
    assert DEFAULT in lines[0].getMessage()
    assert events[-1].data["model"] == DEFAULT
    assert events[-1].data["model_fell_back"] is True

    # Once per turn: when the agent's model is gone too, that is said, not retried.
    ollama_stub.requests.clear()
    ollama_stub.fail(Fault.MODEL_NOT_FOUND, path="/api/chat")
    result = await ask(hass, "write a python function that reverses a string")
    assert speech(result).startswith(f"The model {DEFAULT} is not on")
    shown = [r.body["model"] for r in ollama_stub.requests_to("/api/show")]
    assert shown.count("coder:7b") == 1
    assert _models_asked(ollama_stub) == [DEFAULT]
    assert events[-1].data["error"]


@pytest.mark.parametrize(
    "agent_options", [{**AGENT_OPTIONS, CONF_PREFER_LOCAL: True, **ROUTES}]
)
async def test_a_sentence_the_matcher_recognised_goes_to_the_fast_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Unlocking is left to the model by local first, and it is a device command."""
    _install_routes(ollama_stub)
    ollama_stub.reply("Do you want me to unlock the front door?")
    await ask(hass, "unlock the front door")
    assert _models_asked(ollama_stub) == ["fast:1b"]


@pytest.mark.parametrize("agent_options", [dict(AGENT_OPTIONS)])
async def test_without_routes_nothing_changes(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """No routes: the agent's model answers everything, one request, no question."""
    _install_routes(ollama_stub)
    events = async_capture_events(hass, EVENT_TURN)
    for text in ("write a python function", "tell me a joke", "good morning"):
        ollama_stub.reply("Sure.")
        assert speech(await ask(hass, text)) == "Sure."
    assert _models_asked(ollama_stub) == [DEFAULT] * 3
    assert all(
        not _is_classification(r.body) for r in ollama_stub.requests_to("/api/chat")
    )
    assert [e.data["kind"] for e in events] == [None] * 3
    assert events[-1].data["fell_back"] is False
    assert events[-1].data["rounds"] == 1


async def test_the_warm_up_warms_the_fast_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> None:
    """With a fast model, its prompt cache is the one filled; the others are not."""
    _install_routes(ollama_stub)
    await set_up(hass, ollama_stub, {**WARM, **ROUTES})
    assert [r.body["model"] for r in warm_ups(ollama_stub)] == ["fast:1b"]
