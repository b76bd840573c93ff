"""When an exposed device last changed, or last changed to a state, from the recorder.

"When did the garage last open?" needs history the prompt does not hold. The recorder's
own history helpers read it, in the recorder's executor (they do database I/O).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import config_validation as cv, llm
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import probatio as vol

from ..const import DOMAIN
from ..context import Device, describe_state
from .device_targets import exposed_devices, named_devices, still_exposed
from .effects import READ, Effect

HISTORY = "history"
# How far back a "last changed to" question looks, and how many changes at most.
LOOK_BACK = timedelta(days=30)
MAX_CHANGES = 500


class HistoryTool(llm.Tool):
    """When an exposed device last changed, or last changed to a given state."""

    name = HISTORY
    title = "Device history"
    description = "When a device last changed, or last became a state."
    annotations = llm.ToolAnnotations(
        read_only=True, destructive=False, idempotent=True, open_world=False
    )
    integration = DOMAIN
    parameters = vol.Schema(
        {
            vol.Required("name"): cv.string,
            vol.Optional("state", description="such as open, on, locked"): cv.string,
        }
    )

    def device(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> Device | None:
        """The one exposed device the call names."""
        found = named_devices(
            exposed_devices(hass, llm_context), str(args["name"]), fuzzy=True
        )
        exposed = still_exposed(hass, llm_context, found[:1])
        return exposed[0] if exposed else None

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """A read of the device it names."""
        device = self.device(hass, args, llm_context)
        return [Effect(device.entity_id, READ)] if device else []

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Look the device's changes up, newest first."""
        args = tool_input.tool_args
        device = self.device(hass, args, llm_context)
        if device is None:
            return llm.ToolResult(
                data={
                    "error": "NotFound",
                    "error_text": f"No device named {args['name']!r} was found, "
                    "or it is not exposed.",
                },
                error=True,
            )
        wanted = str(args.get("state") or "").strip().lower()
        changes = await get_instance(hass).async_add_executor_job(
            _changes, hass, device.entity_id
        )
        match = next(
            (s for s in changes if not wanted or wanted in _words_for(s)), None
        )
        result: dict[str, Any] = {"name": device.names[0]}
        if wanted:
            result["state"] = wanted
        if match is None:
            result["last_changed"] = None
            result["note"] = f"Not found in the last {LOOK_BACK.days} days."
        else:
            result["last_changed"] = _when(match)
            result["became"] = describe_state(match)
        return llm.ToolResult(data=result)


def _changes(hass: HomeAssistant, entity_id: str) -> list[State]:
    """The entity's state changes of the last days, newest first (executor)."""
    found = history.state_changes_during_period(
        hass,
        dt_util.utcnow() - LOOK_BACK,
        entity_id=entity_id,
        descending=True,
        limit=MAX_CHANGES,
        include_start_time_state=False,
    )
    # The recorder's rows are lazy states without everything a State has.
    return [
        State(
            entity_id,
            row.state,
            dict(row.attributes),
            last_changed=row.last_changed,
            last_updated=row.last_updated,
        )
        for row in found.get(entity_id, [])
    ]


def _words_for(state: State) -> set[str]:
    """The words a state may be asked by ("open" for a door sensor's "on")."""
    described = describe_state(state).lower()
    return {state.state.lower(), described, described.split(" ")[0]}


def _when(state: State) -> str:
    """The local time of a change, to the minute, with how long ago it was."""
    changed = dt_util.as_local(state.last_changed)
    minutes = int((dt_util.utcnow() - state.last_changed).total_seconds() // 60)
    ago = (
        f"{minutes} minutes ago"
        if minutes < 120
        else f"{minutes // 60} hours ago"
        if minutes < 48 * 60
        else f"{minutes // 1440} days ago"
    )
    return f"{changed.strftime('%Y-%m-%d %H:%M')} ({ago})"
