"""What the conversation and AI Task entities share: the device and the turn loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_MODEL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .context import HomeContext
from .runtime import OllamaConfigEntry
from .server_entity import server_device
from .turn import AgentSettings, TurnRunner


def add_subentry_entities(
    entry: OllamaConfigEntry,
    subentry_type: str,
    entity_class: Callable[[OllamaConfigEntry, ConfigSubentry], Entity],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one entity for each subentry of a type, tied to its subentry."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == subentry_type:
            async_add_entities(
                [entity_class(entry, subentry)],
                config_subentry_id=subentry.subentry_id,
            )


def agent_device_info(subentry: ConfigSubentry) -> dr.DeviceInfo:
    """The agent's device: a service named after its subentry, with its model."""
    model, _, tag = subentry.data[CONF_MODEL].partition(":")
    return dr.DeviceInfo(
        identifiers={(DOMAIN, subentry.subentry_id)},
        name=subentry.title,
        manufacturer="Ollama",
        model=model,
        sw_version=tag or "latest",
        entry_type=dr.DeviceEntryType.SERVICE,
    )


def server_device_id(hass: HomeAssistant, entry: OllamaConfigEntry) -> str:
    """The server's device id; registered here if the agents are added before it.

    The platforms are set up side by side, so the server's own entities may come later
    (they then fill in its version).
    """
    devices = dr.async_get(hass)
    identifier = (DOMAIN, entry.entry_id)
    device = devices.async_get_device_by_identifier(identifier, entry.entry_id)
    if device is None:
        device = devices.async_get_or_create(
            config_entry_id=entry.entry_id, **server_device(entry, None)
        )
    return device.id


class OllamaLLMEntity(Entity):
    """An agent (one subentry) on an Ollama server."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: OllamaConfigEntry, subentry: ConfigSubentry) -> None:
        """Tie the entity to its subentry, whose id is also its unique id."""
        self.entry = entry
        self.subentry_id = subentry.subentry_id
        self._attr_unique_id = subentry.subentry_id

    @property
    def device_info(self) -> dr.DeviceInfo:
        """The agent's device, connected through the server's: its page lists them."""
        return dr.DeviceInfo(
            **agent_device_info(self.entry.subentries[self.subentry_id]),
            via_device_id=server_device_id(self.hass, self.entry),
        )

    @property
    def options(self) -> Mapping[str, Any]:
        """The agent's current options; read per turn, so a change needs no reload."""
        return self.entry.subentries[self.subentry_id].data

    async def _async_run_turn(
        self,
        chat_log: conversation.ChatLog,
        output_format: dict[str, Any] | None = None,
        home_context: HomeContext | None = None,
        memory: str = "",
    ) -> None:
        """Answer the chat log with this agent's model and options."""
        runner = TurnRunner(
            self.hass,
            self.entry.runtime_data,
            chat_log,
            self.entity_id,
            AgentSettings.from_options(self.options),
            home_context=home_context,
            memory=memory,
        )
        await runner.async_run(output_format)
