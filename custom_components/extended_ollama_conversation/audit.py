"""The audit trail: one event per judged tool call, a logbook line per changed entity.

Automations can watch `extended_ollama_conversation_tool_call`; the logbook shows on
each entity what the assistant did to it ("unlocked by the assistant after
confirmation"), so a person can always tell the assistant's actions from their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from homeassistant.components.logbook import async_log_entry
from homeassistant.core import Context, HomeAssistant, callback

from .const import DOMAIN, EVENT_TOOL_CALL
from .tools.effects import Effect
from .tools.wording import name_of, past


class Outcome(StrEnum):
    """What became of a call (the event's `outcome`)."""

    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class AuditedCall:
    """A call as the audit event records it."""

    tool: str
    arguments: dict[str, Any]
    effects: tuple[Effect, ...]
    user_id: str | None
    conversation_id: str | None


@callback
def async_audit(
    hass: HomeAssistant,
    call: AuditedCall,
    outcome: Outcome,
    reason: str | None = None,
    *,
    changed: Iterable[Effect] = (),
) -> None:
    """Fire the event; write a logbook entry on each entity the call changed."""
    context = Context(user_id=call.user_id)
    hass.bus.async_fire(
        EVENT_TOOL_CALL,
        {
            "tool": call.tool,
            "arguments": call.arguments,
            "entities": [effect.entity_id for effect in call.effects],
            "user_id": call.user_id,
            "conversation_id": call.conversation_id,
            "outcome": outcome.value,
            "reason": reason,
        },
        context=context,
    )
    suffix = " after confirmation" if outcome is Outcome.CONFIRMED else ""
    for effect in changed:
        async_log_entry(
            hass,
            name_of(hass, effect.entity_id),
            f"{past(effect.action)} by the assistant{suffix}",
            domain=DOMAIN,
            entity_id=effect.entity_id,
            context=context,
        )
