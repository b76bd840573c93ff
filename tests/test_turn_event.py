"""The turn event: one `extended_ollama_conversation_turn` per conversation turn.

An automation listening to it learns what each turn did (model, time, tokens, tools,
outcome) and, only when the agent allows it, what was said.
"""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.extended_ollama_conversation.const import (
    CONF_EVENT_INCLUDE_TEXT,
    CONF_PREFER_LOCAL,
    CONF_RATE_PER_MINUTE,
    EVENT_TURN,
)

from .conftest import AGENT_ID, AGENT_OPTIONS
from .helpers import ask, say, speech, tool_call
from .ollama_stub import OllamaStub, Reply

FIGURES = {
    "agent",
    "model",
    "duration",
    "prompt_tokens",
    "generated_tokens",
    "tools",
    "local",
    "user_id",
    "device_id",
    "outcome",
}
UNLOCK_FRONT_DOOR = Reply(
    tool_calls=[tool_call("intent__HassTurnOff", name="Front Door")]
)


async def test_a_model_turn(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """Its model, tokens, tools, who asked from where; no words."""
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply(
        Reply(
            tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")],
            prompt_eval_count=400,
            eval_count=12,
        ),
        Reply("The kitchen lights are off.", prompt_eval_count=450, eval_count=8),
    )
    await conversation.async_converse(
        hass,
        "turn off the kitchen light",
        None,
        Context(user_id=hass_admin_user.id),
        language="en",
        agent_id=AGENT_ID,
        device_id="satellite-1",
    )
    [event] = events
    data = event.data
    assert set(data) >= FIGURES
    assert data["agent"] == AGENT_ID
    assert data["model"] == AGENT_OPTIONS["model"]
    assert (data["prompt_tokens"], data["generated_tokens"]) == (850, 20)
    assert data["tools"] == ["intent__HassTurnOff"]
    assert data["local"] is False
    assert data["outcome"] == "answered"
    assert (data["user_id"], data["device_id"]) == (hass_admin_user.id, "satellite-1")
    assert isinstance(data["duration"], float) and 0 <= data["duration"] < 5
    assert data["rounds"] == 2
    assert event.context.user_id == hass_admin_user.id
    assert "text" not in data and "answer" not in data
    assert "kitchen" not in repr(data).lower()


@pytest.mark.parametrize(
    "agent_options", [{**AGENT_OPTIONS, CONF_EVENT_INCLUDE_TEXT: True}]
)
async def test_words_only_when_the_agent_allows_them(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_options: dict[str, Any],
    agent_entry: MockConfigEntry,
) -> None:
    """With the option on: the request and the answer, in the event and diagnostics."""
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply("Hello to you.")
    await ask(hass, "hello there")
    assert events[-1].data["text"] == "hello there"
    assert events[-1].data["answer"] == "Hello to you."
    [turn] = agent_entry.runtime_data.stats.recent_turns()
    assert (turn["text"], turn["answer"]) == ("hello there", "Hello to you.")


@pytest.mark.parametrize("agent_options", [{**AGENT_OPTIONS, CONF_PREFER_LOCAL: True}])
async def test_a_local_first_turn(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_options: dict[str, Any],
    agent_entry: MockConfigEntry,
) -> None:
    """Answered by Home Assistant's matcher: local, no model, no tokens."""
    events = async_capture_events(hass, EVENT_TURN)
    await ask(hass, "turn off the kitchen lights")
    assert ollama_stub.requests_to("/api/chat") == []
    [event] = events
    data = event.data
    assert data["local"] is True
    assert data["outcome"] == "local"
    assert data["model"] is None
    assert (data["prompt_tokens"], data["generated_tokens"]) == (0, 0)
    assert data["tools"] == []
    assert data["rounds"] == 0


async def test_an_error_turn(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The server stopped: one event, outcome error, with what failed."""
    events = async_capture_events(hass, EVENT_TURN)
    await ollama_stub.stop()
    result = await ask(hass, "hello")
    assert "reach" in speech(result)
    [event] = events
    data = event.data
    assert data["outcome"] == "error"
    assert data["error"]
    assert data["model"] == AGENT_OPTIONS["model"]
    assert data["prompt_tokens"] == 0


async def test_a_rate_limited_turn(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A request over the limit is a turn too, and says so."""
    hass.config_entries.async_update_entry(
        agent_entry, options={CONF_RATE_PER_MINUTE: 1}
    )
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply("One.")
    await ask(hass, "one")
    await ask(hass, "two")
    assert [e.data["outcome"] for e in events] == ["answered", "rate_limited"]
    assert events[-1].data["model"] is None


async def test_a_confirmation_answer(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """The model asks before unlocking; the yes is its own turn, without the model."""
    events = async_capture_events(hass, EVENT_TURN)
    ollama_stub.reply(UNLOCK_FRONT_DOOR)
    asked = await say(hass, "unlock the front door", hass_admin_user)
    assert "?" in speech(asked)
    await say(hass, "yes", hass_admin_user, asked.conversation_id)
    assert hass.states.get("lock.front_door").state == "unlocked"  # type: ignore[union-attr]
    assert [e.data["outcome"] for e in events] == ["answered", "confirmation"]
    assert events[-1].data["rounds"] == 0
