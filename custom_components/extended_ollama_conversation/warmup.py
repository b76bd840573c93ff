"""Warm Ollama's prompt cache with each agent's stable prefix.

On a slow server the first request after start-up reads thousands of tokens of
instructions, home directory and tool definitions before it can answer. Sending that
prefix once, in the background, with a one-token answer, lets the first real request
read only its changing tail. It is sent after start-up, after an agent's options
change and after the exposed devices change (debounced), and only when the prefix
differs from the one last sent: a server that is down is tried again at the next
change, never in a loop. An agent with model routing has its fast model warmed, the
one device commands go to; its other models are not.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import hashlib
import json
import logging
from typing import Any

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_listen_entity_updates,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_PROMPT
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.start import async_at_started

from .client import OllamaError
from .const import (
    CONF_CONTEXT_BUDGET,
    CONF_WARM_UP,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_WARM_UP,
    DOMAIN,
    SUBENTRY_CONVERSATION,
    WARM_UP_COOLDOWN,
)
from .context import HomeContext, build_context, device_index
from .routing import warm_up_model
from .runtime import OllamaConfigEntry
from .tools.home_api import FIND_DEVICES
from .tools.memory_tools import add_memory_tools
from .turn import AgentSettings, TurnRunner

_LOGGER = logging.getLogger(__name__)

_REGISTRY_EVENTS = (
    er.EVENT_ENTITY_REGISTRY_UPDATED,
    dr.EVENT_DEVICE_REGISTRY_UPDATED,
    ar.EVENT_AREA_REGISTRY_UPDATED,
)


class PromptWarmer:
    """Keeps the prompt prefixes of one server entry's agents in Ollama's cache."""

    def __init__(self, hass: HomeAssistant, entry: OllamaConfigEntry) -> None:
        """Prepare; nothing is sent until `async_start`."""
        self.hass = hass
        self.entry = entry
        # Per agent (subentry id), a fingerprint of the prefix last sent.
        self._sent: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._debouncer = Debouncer(
            hass,
            _LOGGER,
            cooldown=WARM_UP_COOLDOWN,
            immediate=False,
            function=self.async_warm_all,
            background=True,
        )

    @callback
    def async_start(self) -> None:
        """Warm once Home Assistant has started, then after every change."""
        entry = self.entry
        for event_type in _REGISTRY_EVENTS:
            entry.async_on_unload(
                self.hass.bus.async_listen(event_type, self._async_changed)
            )
        entry.async_on_unload(
            async_listen_entity_updates(
                self.hass, conversation.DOMAIN, self.async_schedule
            )
        )
        entry.async_on_unload(self._debouncer.async_shutdown)
        entry.async_on_unload(async_at_started(self.hass, self._async_started))

    async def _async_started(self, hass: HomeAssistant) -> None:
        self.entry.async_create_background_task(
            hass, self.async_warm_all(), f"{DOMAIN} prompt warm-up"
        )

    @callback
    def _async_changed(self, event: Event[Any]) -> None:
        self.async_schedule()

    @callback
    def async_schedule(self) -> None:
        """Warm again once changes have settled."""
        self._debouncer.async_schedule_call()

    async def async_warm_all(self) -> None:
        """Send each agent's prefix that changed since it was last sent."""
        async with self._lock:
            for subentry in list(self.entry.subentries.values()):
                if subentry.subentry_type != SUBENTRY_CONVERSATION or not (
                    subentry.data.get(CONF_WARM_UP, DEFAULT_WARM_UP)
                ):
                    continue
                await self._async_warm(subentry)

    async def _async_warm(self, subentry: ConfigSubentry) -> None:
        agent_id = er.async_get(self.hass).async_get_entity_id(
            conversation.DOMAIN, DOMAIN, subentry.subentry_id
        )
        if agent_id is None:
            return
        try:
            request = await async_prefix_request(
                self.hass, self.entry, subentry, agent_id
            )
        except HomeAssistantError as err:  # the server, or the agent's LLM API
            _LOGGER.debug("No warm-up for %s: %s", agent_id, err)
            return
        fingerprint = _fingerprint(request)
        if self._sent.get(subentry.subentry_id) == fingerprint:
            return
        try:
            async for part in self.entry.runtime_data.client.chat(**request):
                if part.done and part.prompt_eval_count:
                    _LOGGER.debug(
                        "Warmed %s: %d prompt tokens read",
                        agent_id,
                        part.prompt_eval_count,
                    )
        except OllamaError as err:
            _LOGGER.debug("The warm-up of %s failed: %s", agent_id, err)
            return
        self._sent[subentry.subentry_id] = fingerprint


async def async_prefix_request(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    subentry: ConfigSubentry,
    agent_id: str,
) -> dict[str, Any]:
    """The agent's stable prefix, built the way a turn builds its prompt."""
    options = subentry.data
    user_input = conversation.ConversationInput(
        text="",
        context=Context(),
        conversation_id=None,
        device_id=None,
        satellite_id=None,
        language=hass.config.language,
        agent_id=agent_id,
    )
    chat_log = conversation.ChatLog(hass, f"{DOMAIN}_warm_up")
    await chat_log.async_provide_llm_data(
        user_input.as_llm_context(DOMAIN),
        options.get(CONF_LLM_HASS_API),
        options.get(CONF_PROMPT),
        None,
    )
    add_memory_tools(chat_log.llm_api, options)
    settings = AgentSettings.from_options(options)
    runner = TurnRunner(
        hass,
        entry.runtime_data,
        chat_log,
        agent_id,
        replace(settings, model=warm_up_model(options, settings.model)),
        home_context=_directory(hass, entry, chat_log, options),
    )
    return await runner.async_prefix_request()


def _directory(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    chat_log: conversation.ChatLog,
    options: Any,
) -> HomeContext | None:
    """The home directory as the conversation agent adds it (its tail is dropped)."""
    api = chat_log.llm_api
    if api is None or not any(tool.name == FIND_DEVICES for tool in api.tools):
        return None
    return build_context(
        device_index(hass),
        "",
        budget=int(options.get(CONF_CONTEXT_BUDGET, DEFAULT_CONTEXT_BUDGET)),
        chars_per_token=entry.runtime_data.estimator.ratio(options[CONF_MODEL]),
    )


def _fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(request, sort_keys=True, default=str).encode()
    ).hexdigest()
