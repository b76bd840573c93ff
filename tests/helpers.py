"""Small helpers for talking to the agent the way Home Assistant's callers do."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session

from .conftest import AGENT_ID


async def ask(
    hass: HomeAssistant,
    text: str,
    conversation_id: str | None = None,
    *,
    user_id: str | None = None,
) -> conversation.ConversationResult:
    """Send one request through Home Assistant's conversation API (from no one)."""
    return await conversation.async_converse(
        hass,
        text,
        conversation_id,
        Context(user_id=user_id),
        language="en",
        agent_id=AGENT_ID,
    )


async def say(
    hass: HomeAssistant,
    text: str,
    user: User | None = None,
    conversation_id: str | None = None,
) -> conversation.ConversationResult:
    """One request from a person, or from no one (as an automation sends it)."""
    return await ask(hass, text, conversation_id, user_id=user.id if user else None)


async def ask_streaming(
    hass: HomeAssistant, text: str
) -> tuple[conversation.ConversationResult, list[dict[str, Any]]]:
    """Send one request as a voice pipeline does, collecting the streamed deltas."""
    deltas: list[dict[str, Any]] = []
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(
            hass,
            session,
            chat_log_delta_listener=lambda _log, delta: deltas.append(delta),
        ),
    ):
        result = await conversation.async_converse(
            hass, text, session.conversation_id, None, agent_id=AGENT_ID
        )
    return result, deltas


def speech(result: conversation.ConversationResult) -> str:
    """What the person hears."""
    return str(result.response.speech["plain"]["speech"])


def tool_call(tool_name: str, /, **arguments: Any) -> dict[str, Any]:
    """A native tool call, as the stand-in sends it."""
    return {"name": tool_name, "arguments": arguments}


def messages_of(body: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The messages of one role in a recorded /api/chat request."""
    return [m for m in body["messages"] if m["role"] == role]
