"""The integration's own LLM API: Assist's tools with a compact home context.

It offers every tool of Home Assistant's Assist API except GetLiveContext, whose long
YAML overview and live-state lookup are replaced by the state-context builder (in the
prompt) and FindDevices (a fuzzy lookup of any exposed device and its state).
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components.llm import DATA_PLATFORMS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, llm
import probatio as vol

from ..const import DOMAIN
from ..context import describe_state, device_index, find_devices

_LOGGER = logging.getLogger(__name__)

API_NAME = "Assist with compact home context"
FIND_DEVICES = f"{DOMAIN}__FindDevices"
# The Assist tools this API replaces, by the integration that provides them.
_REPLACED_PLATFORMS = frozenset({"homeassistant"})
MAX_RESULTS = 20

API_PROMPT = (
    "The devices of the home are listed below by area, with the states of those that "
    f"matter most for the request. For any other device, or a state you are not given, "
    f"call {FIND_DEVICES}. Use the exact device names when you call a tool."
)


class CompactHomeAPI(llm.API):
    """Assist's tools, with this integration's context and lookup instead of GetLiveContext."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Register under the integration's domain."""
        super().__init__(hass=hass, id=DOMAIN, name=API_NAME)

    async def async_get_api_instance(
        self, llm_context: llm.LLMContext
    ) -> llm.APIInstance:
        """Collect the Assist tools (all but the replaced ones) and add FindDevices."""
        platforms = await self.hass.data[DATA_PLATFORMS].async_get_platforms()
        tools: list[llm.Tool] = []
        prompts: list[str] = []
        for domain, platform in sorted(platforms.items()):
            if domain in _REPLACED_PLATFORMS:
                continue
            try:
                provided = platform.async_get_tools(
                    self.hass, llm_context, llm.LLM_API_ASSIST
                )
            except Exception:
                _LOGGER.exception("Getting the LLM tools of %s failed", domain)
                continue
            if provided is None:
                continue
            tools.extend(provided.tools)
            if provided.prompt:
                prompts.append(provided.prompt)
        tools.append(FindDevicesTool())
        return llm.APIInstance(
            api=self,
            api_prompt="\n".join([API_PROMPT, *prompts]),
            llm_context=llm_context,
            tools=tools,
            custom_serializer=llm.selector_serializer,
        )


class FindDevicesTool(llm.Tool):
    """Find exposed devices by name, area or kind, with their current state."""

    name = FIND_DEVICES
    title = "Find devices"
    description = (
        "Find devices of the home by name or alias, area, or kind (light, lock, "
        "sensor, ...), and get their current state. Matching is fuzzy and ignores case."
    )
    annotations = llm.ToolAnnotations(
        read_only=True, destructive=False, open_world=False
    )
    integration = DOMAIN
    parameters = vol.Schema(
        {
            vol.Optional("name", description="A device name or alias."): cv.string,
            vol.Optional("area", description="An area name."): cv.string,
            vol.Optional(
                "domain", description="A kind of device, such as light."
            ): cv.string,
        }
    )

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Return the matching exposed devices; never one that is not exposed."""
        args: dict[str, Any] = self.parameters(tool_input.tool_args)
        devices = device_index(hass, llm_context.assistant).devices()
        found = find_devices(
            devices,
            name=args.get("name"),
            area=args.get("area"),
            domain=args.get("domain"),
        )
        if not found:
            areas = sorted({d.area for d in devices if d.area})
            return llm.ToolResult(
                data={
                    "error": "NoMatch",
                    "error_text": "No exposed device matches. "
                    f"Areas: {', '.join(areas) or 'none'}.",
                },
                error=True,
            )
        return llm.ToolResult(
            data={
                "devices": [
                    {
                        "name": device.names[0],
                        "aliases": list(device.names[1:]),
                        "kind": device.domain,
                        "area": device.area,
                        "state": describe_state(state)
                        if (state := hass.states.get(device.entity_id))
                        else "unknown",
                    }
                    for device in found[:MAX_RESULTS]
                ],
                "more": max(0, len(found) - MAX_RESULTS),
            }
        )
