"""Sensors: the server's figures (here) and each conversation agent's (agent_sensors.py).

The server's are its version, installed models and loaded models with their memory, all
diagnostic: that also keeps them out of what Assist exposes by default, so they do not
lengthen every agent's prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agent_sensors import add_agent_sensors
from .coordinator import ServerStatus
from .runtime import OllamaConfigEntry
from .server_entity import ServerEntity, coordinator_of


@dataclass(frozen=True, kw_only=True)
class ServerSensorDescription(SensorEntityDescription):
    """A figure read from the server's status, with its attributes."""

    value_fn: Callable[[ServerStatus], str | int]
    attributes_fn: Callable[[ServerStatus], Mapping[str, Any]] | None = None


def _installed(status: ServerStatus) -> Mapping[str, Any]:
    return {
        "models": [
            {
                "name": model.name,
                "size": model.size,
                "capabilities": list(model.capabilities),
            }
            for model in status.installed
        ]
    }


def _loaded(status: ServerStatus) -> Mapping[str, Any]:
    return {
        "models": [
            {"name": model.name, "ram": model.size_ram, "vram": model.size_vram}
            for model in status.loaded
        ]
    }


def _memory_description(
    key: str, value_fn: Callable[[ServerStatus], int]
) -> ServerSensorDescription:
    """Memory the loaded models take, in bytes shown as GB."""
    return ServerSensorDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=2,
        value_fn=value_fn,
    )


SERVER_SENSORS: tuple[ServerSensorDescription, ...] = (
    ServerSensorDescription(
        key="version",
        translation_key="version",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.version,
    ),
    ServerSensorDescription(
        key="installed_models",
        translation_key="installed_models",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: len(status.installed),
        attributes_fn=_installed,
    ),
    ServerSensorDescription(
        key="loaded_models",
        translation_key="loaded_models",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: len(status.loaded),
        attributes_fn=_loaded,
    ),
    _memory_description(
        "loaded_memory", lambda status: sum(m.size for m in status.loaded)
    ),
    _memory_description(
        "loaded_vram", lambda status: sum(m.size_vram for m in status.loaded)
    ),
)


def server_sensors(entry: OllamaConfigEntry) -> list[Entity]:
    """The sensors on the server's device."""
    coordinator = coordinator_of(entry)
    return [ServerSensor(coordinator, description) for description in SERVER_SENSORS]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the server's sensors, and each agent's on its own device."""
    async_add_entities(server_sensors(entry))
    add_agent_sensors(entry, async_add_entities)


class ServerSensor(ServerEntity, SensorEntity):
    """A value of the last refresh; unavailable while refreshes fail."""

    entity_description: ServerSensorDescription

    @property
    def _status(self) -> ServerStatus | None:
        """The last status read; none before the first refresh that succeeded."""
        return self.coordinator.data

    @property
    def native_value(self) -> str | int | None:
        """The figure, from the last status read."""
        if (status := self._status) is None:
            return None
        return self.entity_description.value_fn(status)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The per-model details, where the sensor has them."""
        attributes_fn = self.entity_description.attributes_fn
        if (status := self._status) is None or attributes_fn is None:
            return None
        return attributes_fn(status)
