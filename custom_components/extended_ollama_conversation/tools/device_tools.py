"""Two general device tools a small model gets right: act on a device, read devices.

`control` takes a device name, an action word that fits its kind and an optional value;
`get_state` finds devices by name, area or kind with their states. Both act or read on
exposed entities only, and say what they would do through `effects()`, so the policy
layer judges a call before it runs. Results are JSON values: names and states are data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, llm
from homeassistant.util.json import JsonValueType
import probatio as vol

from ..const import DOMAIN
from ..context import Device, describe_state, find_devices
from ..context.devices import words_of
from .actions import ACTIONS, SET, Service, action_words, normalize, service_for
from .device_targets import (
    SCRIPT,
    exposed_devices,
    exposed_scripts,
    named_devices,
    similar_names,
    still_exposed,
)
from .effects import READ, Effect
from .wording import NOT_FOUND

CONTROL = "control"
FIND_DEVICES = "get_state"
MAX_RESULTS = 20
MAX_TARGETS = 10
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
# Actions that refuse a generic turn on/off: the meaning would be a guess.
_NO_GENERIC = {"lock": "lock or unlock", "alarm_control_panel": "arm_home, arm_away or disarm"}  # fmt: skip


def not_found(name: str, devices: list[Device]) -> llm.ToolResult:
    """The same answer for an unknown and an unexposed device, with exposed names."""
    text = NOT_FOUND.format(name=name)
    if similar := similar_names(devices, name):
        text += f" Similar: {', '.join(similar)}."
    return _error("NotFound", text)


def _error(code: str, text: str) -> llm.ToolResult:
    return llm.ToolResult(data={"error": code, "error_text": text}, error=True)


def frozen(value: Any) -> Any:
    """A value an Effect can hold and still be hashed: mappings and lists as tuples."""
    if isinstance(value, dict):
        return tuple((key, frozen(item)) for key, item in sorted(value.items()))
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


def _state_of(hass: HomeAssistant, device: Device) -> str:
    state = hass.states.get(device.entity_id)
    return describe_state(state) if state else "unknown"


class ControlTool(llm.Tool):
    """Act on exposed devices by name with one action word."""

    name = CONTROL
    title = "Control a device"
    annotations = llm.ToolAnnotations(open_world=False)
    integration = DOMAIN

    def __init__(self, domains: set[str], script_fields: bool) -> None:
        """Offer the action words of the exposed kinds of device (a stable list)."""
        self.words = action_words(domains)
        self.description = "Act on a device."
        schema: dict[vol.Marker, Any] = {
            vol.Required("name"): cv.string,
            vol.Required("action"): vol.In(self.words),
            vol.Optional(
                "value", description="For set: % or degrees; disarm: the code"
            ): cv.string,
        }
        if script_fields:
            schema[vol.Optional("fields", description="A script's fields")] = dict
        self.parameters = vol.Schema(schema)

    def plan(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> tuple[list[tuple[Device, Service]], llm.ToolResult | None]:
        """The devices a call acts on with the service for each, or why none."""
        name = str(args.get("name", ""))
        action = normalize(str(args.get("action", "")))
        exposed = exposed_devices(hass, llm_context)
        devices = still_exposed(hass, llm_context, named_devices(exposed, name))
        if not devices:
            return [], not_found(name, exposed)
        planned = [
            (device, found)
            for device in devices[:MAX_TARGETS]
            if (found := service_for(device.domain, action)) is not None
        ]
        if planned:
            if action == SET and args.get("value") in (None, ""):
                return [], _error("MissingValue", "The action set needs a value.")
            return planned, None
        device = devices[0]
        if action in ("turn_on", "turn_off") and device.domain in _NO_GENERIC:
            hint = f"use {_NO_GENERIC[device.domain]}"
        else:
            hint = "its actions are " + ", ".join(ACTIONS.get(device.domain, {}))
        return [], _error(
            "UnsupportedAction",
            f"{device.names[0]} ({device.domain}) cannot {action}: {hint}.",
        )

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """The services the call would call on each exposed device it names."""
        planned, _ = self.plan(hass, args, llm_context)
        return [
            Effect(
                device.entity_id,
                found.service,
                frozen(_service_data(device, found, args)),
            )
            for device, found in planned
        ]

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Call each service, waiting for it, and report each device's state after."""
        planned, refusal = self.plan(hass, tool_input.tool_args, llm_context)
        if refusal is not None:
            return refusal
        done: list[JsonValueType] = []
        for device, found in planned:
            before = _state_of(hass, device)
            try:
                await hass.services.async_call(
                    device.domain,
                    found.service,
                    {
                        "entity_id": device.entity_id,
                        **_service_data(device, found, tool_input.tool_args),
                    },
                    blocking=True,
                    context=llm_context.context,
                )
            except (HomeAssistantError, vol.Invalid, ValueError) as err:
                return _error("ActionFailed", f"{device.names[0]}: {err}")
            after = _state_of(hass, device)
            done.append(
                {"name": device.names[0], "state": after, "changed": after != before}
            )
        return llm.ToolResult(data={"done": done})


def _service_data(
    device: Device, found: Service, args: dict[str, Any]
) -> dict[str, Any]:
    """The service data: the call's value where the service takes one."""
    if device.domain == SCRIPT:
        fields = args.get("fields")
        return {"variables": fields} if isinstance(fields, dict) and fields else {}
    value: Any = args.get("value")
    if isinstance(value, str):
        number = value.strip().rstrip("%°").strip()
        if found.value_field != "code" and _NUMBER.fullmatch(number):
            value = float(number)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
    return found.data(value)


class FindDevicesTool(llm.Tool):
    """Find exposed devices by name, area or kind, with their current state."""

    name = FIND_DEVICES
    title = "Find devices"
    description = "Read devices' states."
    annotations = llm.ToolAnnotations(
        read_only=True, destructive=False, idempotent=True, open_world=False
    )
    integration = DOMAIN
    parameters = vol.Schema(
        {
            vol.Optional("name"): cv.string,
            vol.Optional("area"): cv.string,
            vol.Optional("kind"): cv.string,
        }
    )

    def found(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Device]:
        """The exposed devices a call asks about, best matches first.

        A name that names no device but an area ("Living Room") is taken as the area:
        small models put the room in `name`. Any other name of a device, with an area or
        kind that finds nothing, is that device (`Kitchen Speaker` with kind `cover`,
        seen with a 1.5B model, is the speaker, not the kitchen's window).
        """
        devices = exposed_devices(hass, llm_context)
        kind = args.get("kind", args.get("domain"))
        name, area = args.get("name"), args.get("area")
        found = find_devices(devices, name=name, area=area, domain=kind)
        if not found and name:
            in_area = find_devices(devices, area=name, domain=kind)
            if not _names_an_area(devices, str(name)):
                found = named_devices(devices, str(name)) or in_area
            else:
                found = in_area
        return still_exposed(hass, llm_context, found)

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """Reads of the devices it finds: those of the very name, when there are any.

        The model also reads the close matches; the answer from the results
        (tools/answers.py) speaks of the device that was asked about.
        """
        found = self.found(hass, args, llm_context)
        if (name := args.get("name")) and (exact := named_devices(found, str(name))):
            found = exact
        return [Effect(d.entity_id, READ) for d in found[:MAX_RESULTS]]

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Return the matching exposed devices; never one that is not exposed."""
        found = self.found(hass, tool_input.tool_args, llm_context)
        if not found:
            areas = sorted(
                {d.area for d in exposed_devices(hass, llm_context) if d.area}
            )
            return _error(
                "NoMatch",
                f"No exposed device matches. Areas: {', '.join(areas) or 'none'}.",
            )
        return llm.ToolResult(
            data={
                "devices": [
                    {
                        "name": device.names[0],
                        "aliases": list(device.names[1:]),
                        "kind": device.domain,
                        "area": device.area,
                        "state": _state_of(hass, device),
                    }
                    for device in found[:MAX_RESULTS]
                ],
                "more": max(0, len(found) - MAX_RESULTS),
            }
        )


def scripts_prompt(hass: HomeAssistant, llm_context: llm.LLMContext) -> str:
    """The exposed scripts and their fields (a trailing ? marks an optional one).

    Names are data, so they go in as one JSON value.
    """
    scripts = {
        script.device.names[0]: [
            f"{name}{'' if required else '?'}"
            for name, required in script.fields.items()
        ]
        for script in exposed_scripts(hass, llm_context)
    }
    if not scripts:
        return ""
    return f"Scripts for {CONTROL} run, with their fields: {json.dumps(scripts)}"


def _names_an_area(devices: list[Device], name: str) -> bool:
    """Whether the words are those of an area's name ("living room")."""
    words = frozenset(words_of(name))
    return any(device.area_words == words for device in devices)
