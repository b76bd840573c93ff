"""Chat log content as the messages Ollama's /api/chat takes."""

from __future__ import annotations

import base64
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_dumps

from .const import DOMAIN

type Message = dict[str, Any]


async def async_chat_messages(
    hass: HomeAssistant, content: list[conversation.Content]
) -> list[Message]:
    """Convert the whole chat log; images are read in the executor."""
    return [await async_chat_message(hass, item) for item in content]


async def async_chat_message(
    hass: HomeAssistant, item: conversation.Content
) -> Message:
    """Convert one piece of chat log content."""
    if isinstance(item, conversation.SystemContent):
        return {"role": "system", "content": item.content}
    if isinstance(item, conversation.UserContent):
        message: Message = {"role": "user", "content": item.content}
        if item.attachments:
            message["images"] = [await _async_image(hass, a) for a in item.attachments]
        return message
    if isinstance(item, conversation.AssistantContent):
        message = {"role": "assistant", "content": item.content or ""}
        if item.thinking_content:
            message["thinking"] = item.thinking_content
        if item.tool_calls:
            message["tool_calls"] = [
                {"function": {"name": call.tool_name, "arguments": call.tool_args}}
                for call in item.tool_calls
            ]
        return message
    return {
        "role": "tool",
        "tool_name": item.tool_name,
        "content": json_dumps(item.result.data),
    }


async def _async_image(hass: HomeAssistant, attachment: conversation.Attachment) -> str:
    """Return an image attachment base64-encoded, as Ollama wants it."""
    if not attachment.mime_type.startswith("image/"):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="unsupported_attachment",
            translation_placeholders={"mime_type": attachment.mime_type},
        )
    data = await hass.async_add_executor_job(attachment.path.read_bytes)
    return base64.b64encode(data).decode()
