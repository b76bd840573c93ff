"""How the logbook shows the assistant's audit events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_CONTEXT_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_TOOL_CALL

_MESSAGES = {
    "done": "ran {tool}",
    "refused": "refused {tool} ({reason})",
    "failed": "could not run {tool} ({reason})",
    "awaiting_confirmation": "asked for confirmation of {tool}",
    "confirmed": "ran {tool} after confirmation",
    "cancelled": "cancelled {tool} ({reason})",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe the tool call event in one line."""

    @callback
    def describe(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        template = _MESSAGES.get(str(data.get("outcome")), "judged {tool}")
        return {
            LOGBOOK_ENTRY_NAME: "Assistant",
            LOGBOOK_ENTRY_MESSAGE: template.format(
                tool=data.get("tool"), reason=data.get("reason") or "no reason"
            ),
            LOGBOOK_ENTRY_CONTEXT_ID: event.context_id,
        }

    async_describe_event(DOMAIN, EVENT_TOOL_CALL, describe)
