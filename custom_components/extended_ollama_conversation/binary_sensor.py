"""The server's connectivity: on while its last refresh succeeded."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .runtime import OllamaConfigEntry
from .server_entity import ServerEntity, coordinator_of

SERVER_CONNECTIVITY = BinarySensorEntityDescription(
    key="server",
    translation_key="server",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the server's connectivity sensor."""
    async_add_entities([ServerConnectivity(coordinator_of(entry), SERVER_CONNECTIVITY)])


class ServerConnectivity(ServerEntity, BinarySensorEntity):
    """Stays available when the server is down: showing that is its purpose."""

    @property
    def available(self) -> bool:
        """Always: off, not unavailable, is what a down server looks like."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the last refresh reached the server."""
        return self.coordinator.last_update_success
