"""The integration's own LLM API: a few general tools and a compact home context.

Assist offers one tool per intent and per script (2,000+ tokens of definitions for a
50-device home); small models read that slowly and pick wrongly. This API offers
`control` (act on a device by name with an action word of its kind), `get_state` (find
devices and their states) and, with the recorder, `history`; plus Assist's tools that
are not about devices, where they apply (to-do lists, calendars, timers on a device
that has them, the date, broadcasts, intent scripts). The set depends only on what is
exposed, never on the request, so the prompt's start stays the same from turn to turn
and Ollama's prompt cache can reuse it. (The date's tool stays for that too: without
it Home Assistant writes the time, to the second, into the system prompt.)
"""

from __future__ import annotations

import logging

from homeassistant.components.llm import DATA_PLATFORMS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent, llm

from ..const import DOMAIN
from .device_targets import exposed_devices, exposed_scripts
from .device_tools import (
    CONTROL,
    FIND_DEVICES,
    ControlTool,
    FindDevicesTool,
    scripts_prompt,
)
from .history import HISTORY, HistoryTool

_LOGGER = logging.getLogger(__name__)

__all__ = ["API_NAME", "CONTROL", "FIND_DEVICES", "HISTORY", "CompactHomeAPI"]

API_NAME = "Assist with compact home context"
# Assist's platforms whose tools are about something other than devices.
_KEPT_PLATFORMS = frozenset(
    {"todo", "calendar", "llm", "assist_satellite", "intent_script"}
)
# From the `intent` platform, only timers (offered by Assist only on a device that
# has them): start, cancel and ask; adding and pausing are rare enough to leave out.
_KEPT_INTENTS = frozenset(
    {
        intent.INTENT_START_TIMER,
        intent.INTENT_CANCEL_TIMER,
        intent.INTENT_TIMER_STATUS,
    }
)

HISTORY_PROMPT = f"Call {HISTORY} for when a device last changed."
# Example names that belong to no particular home: the examples show the form only.
_EXAMPLE_DEVICES = ("Desk Lamp", "Porch Light", "Side Gate")


def api_prompt(words: list[str]) -> str:
    """How to use the tools, with the short form of a call shown.

    A small model on a CPU spends most of a command's time writing the call: 8-12
    tokens as `control("Desk Lamp", "turn_off")`, 25-35 as JSON. It keeps to the form
    this shows; the wording was chosen with the real 1.5B model (others made it fall
    back to JSON). Only action words the control tool offers are used.
    """
    lamp, porch, gate = _EXAMPLE_DEVICES
    examples = []
    if words:
        verb = "turn_off" if "turn_off" in words else words[0]
        examples.append(f'{CONTROL}("{lamp}", "{verb}")')
    if "set" in words:
        examples.append(f'{CONTROL}("{porch}", "set", "50%")')
    examples.append(f'{FIND_DEVICES}("{gate}")')
    uses = (
        f"To act on a device, call {CONTROL}; for other states, {FIND_DEVICES}."
        if words
        else f"For other states, call {FIND_DEVICES}."
    )
    like = f"{', '.join(examples[:-1])} or {examples[-1]}" if words else examples[0]
    return (
        f"States of some devices follow the request. {uses} Write only the call, on "
        f"one line, like {like}. Use exact device names."
    )


class CompactHomeAPI(llm.API):
    """A compact, stable tool set over the exposed devices."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Register under the integration's domain."""
        super().__init__(hass=hass, id=DOMAIN, name=API_NAME)

    async def async_get_api_instance(
        self, llm_context: llm.LLMContext
    ) -> llm.APIInstance:
        """The device tools first, then Assist's other tools that apply."""
        hass = self.hass
        domains = {d.domain for d in exposed_devices(hass, llm_context)}
        tools: list[llm.Tool] = [FindDevicesTool()]
        prompts: list[str] = []
        control = ControlTool(
            domains,
            script_fields=any(s.fields for s in exposed_scripts(hass, llm_context)),
        )
        if control.words:
            tools.insert(0, control)
        prompts.append(api_prompt(control.words))
        if scripts := scripts_prompt(hass, llm_context):
            prompts.append(scripts)
        if "recorder" in hass.config.components:
            tools.append(HistoryTool())
            prompts.append(HISTORY_PROMPT)
        tools.extend(await self._assist_tools(llm_context))
        return llm.APIInstance(
            api=self,
            api_prompt="\n".join(prompts),
            llm_context=llm_context,
            tools=tools,
            custom_serializer=llm.selector_serializer,
        )

    async def _assist_tools(self, llm_context: llm.LLMContext) -> list[llm.Tool]:
        """Assist's tools that are not about devices, as Assist offers them."""
        platforms = await self.hass.data[DATA_PLATFORMS].async_get_platforms()
        tools: list[llm.Tool] = []
        for domain, platform in sorted(platforms.items()):
            if domain not in _KEPT_PLATFORMS and domain != "intent":
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
            tools.extend(
                tool
                for tool in provided.tools
                if domain != "intent" or tool.name.rpartition("__")[2] in _KEPT_INTENTS
            )
        return tools
