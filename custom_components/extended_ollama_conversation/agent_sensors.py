"""Sensors on each conversation agent's device: its requests, errors and last turn.

They read the entry's agent figures (agent_stats.py) and are written when a turn ends
or the day's counters start again; they never poll. A figure of the last turn is
unavailable until the agent has had a turn, and today's counters start at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agent_stats import AgentFigures
from .const import SUBENTRY_CONVERSATION
from .entity import agent_device_info
from .runtime import OllamaConfigEntry


@dataclass(frozen=True, kw_only=True)
class AgentSensorDescription(SensorEntityDescription):
    """One figure of an agent; `daily`: a counter that starts again at midnight."""

    value: Callable[[AgentFigures], float | int | None]
    daily: bool = False


# Counters use TOTAL with last_reset at the local midnight they started from: Home
# Assistant's statistics then know exactly when each day's count began.
AGENT_SENSORS: tuple[AgentSensorDescription, ...] = (
    AgentSensorDescription(
        key="requests_today",
        translation_key="requests_today",
        state_class=SensorStateClass.TOTAL,
        value=lambda figures: figures.requests,
        daily=True,
    ),
    AgentSensorDescription(
        key="errors_today",
        translation_key="errors_today",
        state_class=SensorStateClass.TOTAL,
        value=lambda figures: figures.errors,
        daily=True,
    ),
    AgentSensorDescription(
        key="last_response_time",
        translation_key="last_response_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value=lambda figures: figures.response_time,
    ),
    AgentSensorDescription(
        key="last_prompt_tokens",
        translation_key="last_prompt_tokens",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value=lambda figures: figures.prompt_tokens,
    ),
    AgentSensorDescription(
        key="generation_speed",
        translation_key="generation_speed",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value=lambda figures: figures.tokens_per_second,
    ),
)


class AgentSensor(SensorEntity):
    """One figure of one conversation agent, written when it changes."""

    entity_description: AgentSensorDescription
    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: OllamaConfigEntry,
        subentry: ConfigSubentry,
        description: AgentSensorDescription,
    ) -> None:
        """Put the sensor on the agent's device."""
        self.entity_description = description
        self.entry = entry
        self.subentry_id = subentry.subentry_id
        self._attr_unique_id = f"{subentry.subentry_id}_{description.key}"
        self._attr_device_info = agent_device_info(subentry)

    @property
    def _figures(self) -> AgentFigures:
        return self.entry.runtime_data.stats.figures(self.subentry_id)

    @property
    def available(self) -> bool:
        """Unknown while the server is unreachable, or before the turn it is about.

        A figure of a turn that has not happened is unknown, not zero.
        """
        coordinator = self.entry.runtime_data.coordinator
        if coordinator is not None and not coordinator.last_update_success:
            return False
        return self.entity_description.value(self._figures) is not None

    @property
    def native_value(self) -> float | int | None:
        """The figure as the agent's registry holds it now."""
        return self.entity_description.value(self._figures)

    @property
    def last_reset(self) -> datetime | None:
        """Local midnight for today's counters."""
        if not self.entity_description.daily:
            return None
        return self.entry.runtime_data.stats.day_start

    async def async_added_to_hass(self) -> None:
        """Be written whenever the agents' figures change."""
        await super().async_added_to_hass()
        runtime = self.entry.runtime_data
        self.async_on_remove(runtime.stats.async_listen(self.async_write_ha_state))
        if runtime.coordinator is not None:
            self.async_on_remove(
                runtime.coordinator.async_add_listener(self.async_write_ha_state)
            )


def agent_sensors(entry: OllamaConfigEntry) -> list[AgentSensor]:
    """The sensors of every conversation agent of the entry."""
    return [
        AgentSensor(entry, subentry, description)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_CONVERSATION
        for description in AGENT_SENSORS
    ]


def add_agent_sensors(
    entry: OllamaConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the agents' sensors, each tied to its agent's subentry (sensor.py calls it)."""
    by_agent: dict[str, list[AgentSensor]] = {}
    for sensor in agent_sensors(entry):
        by_agent.setdefault(sensor.subentry_id, []).append(sensor)
    for subentry_id, sensors in by_agent.items():
        async_add_entities(sensors, config_subentry_id=subentry_id)
