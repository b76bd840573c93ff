"""What the server's monitoring entities share: the server device and the coordinator."""

from __future__ import annotations

from homeassistant.const import CONF_URL
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from yarl import URL

from .const import DOMAIN
from .coordinator import ServerCoordinator
from .runtime import OllamaConfigEntry


def coordinator_of(entry: OllamaConfigEntry) -> ServerCoordinator:
    """The entry's coordinator, which setup creates before the platforms."""
    if (coordinator := entry.runtime_data.coordinator) is None:
        raise RuntimeError("The server entry has no coordinator")
    return coordinator


def server_device(entry: OllamaConfigEntry, version: str | None) -> dr.DeviceInfo:
    """The server entry as a service device; its URL is shown without credentials."""
    return dr.DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer="Ollama",
        sw_version=version,
        entry_type=dr.DeviceEntryType.SERVICE,
        configuration_url=str(URL(entry.data[CONF_URL]).with_user(None)),
    )


class ServerEntity(CoordinatorEntity[ServerCoordinator]):
    """One figure about the server, on its device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: ServerCoordinator, description: EntityDescription
    ) -> None:
        """Name the entity by its description's key, under the entry."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        data = coordinator.data if coordinator.last_update_success else None
        self._attr_device_info = server_device(
            entry, data.version if data is not None else None
        )
