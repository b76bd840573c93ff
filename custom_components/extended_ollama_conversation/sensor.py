"""Sensors: each conversation agent's figures (agent_sensors.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agent_sensors import add_agent_sensors
from .runtime import OllamaConfigEntry

# Written when a turn ends; nothing here polls.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the agents' sensors."""
    add_agent_sensors(entry, async_add_entities)
