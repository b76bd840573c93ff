"""The benchmark's home: Home Assistant's demo entities, renamed and placed in areas.

Only the devices listed here are exposed to Assist, so every agent sees the same small,
realistic home. `HomeBaseline` remembers how the home looked after set-up and puts it
back before each request, through the same services a person would use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
import time
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.setup import async_setup_component


@dataclass(frozen=True, slots=True)
class Device:
    """One exposed entity: its ID, the name people call it and its area."""

    entity_id: str
    name: str
    area: str


DEVICES = (
    Device("light.living_room_rgbww_lights", "Living Room Lamp", "Living Room"),
    Device("light.ceiling_lights", "Ceiling Lights", "Living Room"),
    Device("light.kitchen_lights", "Kitchen Lights", "Kitchen"),
    Device("light.bed_light", "Bed Light", "Bedroom"),
    Device("light.office_rgbw_lights", "Office Lights", "Office"),
    Device("light.entrance_color_white_lights", "Hallway Lights", "Hallway"),
    Device("switch.decorative_lights", "Garden Lights", "Garden"),
    Device("switch.ac", "Coffee Maker", "Kitchen"),
    Device("lock.entry_door", "Front Door", "Hallway"),
    Device("lock.back_door", "Back Door", "Kitchen"),
    Device("cover.living_room_window", "Living Room Blinds", "Living Room"),
    Device("cover.kitchen_window", "Kitchen Window", "Kitchen"),
    Device("cover.garage_door", "Garage Door", "Garage"),
    Device("climate.hvac", "Thermostat", "Living Room"),
    Device("climate.heatpump", "Office Heater", "Office"),
    Device("sensor.outside_temperature", "Outside Temperature", "Garden"),
    Device("sensor.outside_humidity", "Outside Humidity", "Garden"),
    Device("sensor.bedroom_temperature", "Bedroom Temperature", "Bedroom"),
    Device("sensor.bedroom_humidity", "Bedroom Humidity", "Bedroom"),
    Device("sensor.living_room_temperature", "Living Room Temperature", "Living Room"),
    Device("media_player.living_room_tv", "Living Room TV", "Living Room"),
    Device("media_player.kitchen_speaker", "Kitchen Speaker", "Kitchen"),
    Device("fan.living_room_fan", "Living Room Fan", "Living Room"),
    Device("fan.ceiling_fan", "Bedroom Fan", "Bedroom"),
    Device("vacuum.demo_vacuum_0_ground_floor", "Robot Vacuum", "Living Room"),
    Device("alarm_control_panel.security", "Alarm", "Hallway"),
)
EXPOSED = frozenset(device.entity_id for device in DEVICES)
ALARM_CODE = "1234"  # the demo alarm panel's code

# Sensors the demo lacks, as template sensors with fixed values.
TEMPLATE_SENSORS = (
    ("bedroom_temperature", "19.5", "°C", "temperature"),
    ("bedroom_humidity", "48", "%", "humidity"),
    ("living_room_temperature", "21.5", "°C", "temperature"),
)
# Locks the demo lacks (its own have no unique ID, so no name or area can be given).
TEMPLATE_LOCKS = (("entry_door", "locked"), ("back_door", "unlocked"))
# Universal media players, by name, over the demo player they drive.
_PLAYERS = (("Living Room TV", "living_room"), ("Kitchen Speaker", "kitchen"))
# Attributes whose change counts as a change of the home.
WATCHED_ATTRIBUTES = (
    "brightness",
    "temperature",
    "hvac_mode",
    "current_position",
    "volume_level",
    "is_volume_muted",
)
# A state in motion: covers travel, the alarm counts down.
MOVING_STATES = frozenset({"opening", "closing", "arming", "pending", "locking"})


# What differs from the demo's own start: the alarm armed, a speaker not at full volume.
_STARTING_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "alarm_control_panel.alarm_arm_away",
        {"entity_id": "alarm_control_panel.security", "code": ALARM_CODE},
    ),
    (
        "media_player.volume_set",
        {"entity_id": "media_player.kitchen", "volume_level": 0.4},
    ),
    *(
        (
            f"lock.{'lock' if state == 'locked' else 'unlock'}",
            {"entity_id": f"lock.{name}"},
        )
        for name, state in TEMPLATE_LOCKS
    ),
)


async def async_set_up_home(hass: HomeAssistant) -> None:
    """Load the demo and the template sensors, then name, place and expose devices."""
    assert await async_setup_component(hass, "homeassistant", {})
    # Before the demo sets the media player platform up without any configuration.
    assert await async_setup_component(hass, "media_player", _players_config())
    assert await async_setup_component(hass, "demo", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "template", _template_config())
    await hass.async_block_till_done()
    areas = ar.async_get(hass)
    entities = er.async_get(hass)
    if missing := [
        d.entity_id for d in DEVICES if d.entity_id not in entities.entities
    ]:
        raise RuntimeError(f"not in the entity registry: {missing}")
    for device in DEVICES:
        area = areas.async_get_or_create(device.area)
        entities.async_update_entity(
            device.entity_id, name=device.name, area_id=area.id
        )
    for state in hass.states.async_all():
        async_expose_entity(
            hass, "conversation", state.entity_id, state.entity_id in EXPOSED
        )
    for service, data in _STARTING_CALLS:
        domain, name = service.split(".")
        await hass.services.async_call(domain, name, data, blocking=True)
    await async_settle(hass)


def _players_config() -> dict[str, Any]:
    """Named players over the demo's (which have no unique ID to name them by)."""
    players = [
        {
            "platform": "universal",
            "name": name,
            "unique_id": f"accuracy_{child}",
            "children": [f"media_player.{child}"],
        }
        for name, child in _PLAYERS
    ]
    return {"media_player": players}


def _template_config() -> dict[str, Any]:
    sensors = [
        {
            "name": object_id.replace("_", " ").title(),
            "unique_id": f"accuracy_{object_id}",
            "state": value,
            "unit_of_measurement": unit,
            "device_class": device_class,
            "state_class": "measurement",
        }
        for object_id, value, unit, device_class in TEMPLATE_SENSORS
    ]
    locks = [
        {
            "name": object_id.replace("_", " ").title(),
            "unique_id": f"accuracy_{object_id}",
            "default_entity_id": f"lock.{object_id}",
            "optimistic": True,
            "lock": [],
            "unlock": [],
        }
        for object_id, _ in TEMPLATE_LOCKS
    ]
    return {"template": [{"sensor": sensors, "lock": locks}]}


async def async_settle(hass: HomeAssistant, seconds: float = 20) -> None:
    """Wait until nothing in the home is still moving (covers, the alarm's count-down)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await hass.async_block_till_done()
        if not any(_moving(hass, entity_id) for entity_id in EXPOSED):
            return
        await asyncio.sleep(0.5)


def _moving(hass: HomeAssistant, entity_id: str) -> bool:
    state = hass.states.get(entity_id)
    return state is not None and state.state in MOVING_STATES


def snapshot(state: State | None) -> tuple[Any, ...]:
    """What counts as an entity's condition: its state and the watched attributes."""
    if state is None:
        return ("missing",)
    # A vacuum sent home takes half a minute to dock: on its way counts as home.
    value = "docked" if state.state == "returning" else state.state
    return (value, *(state.attributes.get(a) for a in WATCHED_ATTRIBUTES))


class HomeBaseline:
    """The home as it was after set-up; puts changed devices back before a request."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Remember every exposed device's state now."""
        self.hass = hass
        self.states: dict[str, State] = {
            entity_id: state
            for entity_id in EXPOSED
            if (state := hass.states.get(entity_id)) is not None
        }

    def changed(self) -> dict[str, str]:
        """The exposed devices that differ from the baseline, with their state now."""
        return {
            entity_id: (now.state if now else "missing")
            for entity_id, before in self.states.items()
            if snapshot(now := self.hass.states.get(entity_id)) != snapshot(before)
        }

    async def async_restore(self) -> None:
        """Put every changed device back, then wait until nothing moves."""
        await async_settle(self.hass)
        for entity_id in self.changed():
            now = self.hass.states.get(entity_id)
            calls = _restoring_calls(self.states[entity_id], now)
            for service, data in calls:
                domain, name = service.split(".")
                await self.hass.services.async_call(
                    domain, name, {"entity_id": entity_id, **data}, blocking=True
                )
        await async_settle(self.hass)
        if left := self.changed():
            raise RuntimeError(f"the home could not be reset: {left}")


def _restoring_calls(
    state: State, now: State | None
) -> list[tuple[str, Mapping[str, Any]]]:
    """The service calls that bring one device from `now` back to `state`."""
    domain, value, attrs = state.domain, state.state, state.attributes
    on_off = "turn_on" if value == "on" else "turn_off"
    if domain == "light":
        data = {"brightness": attrs["brightness"]} if attrs.get("brightness") else {}
        return [(f"light.{on_off}", data)]
    if domain in ("switch", "fan"):
        return [(f"{domain}.{on_off}", {})]
    if domain == "lock":
        return [("lock.lock" if value == "locked" else "lock.unlock", {})]
    if domain == "cover":
        if attrs.get("current_position") is not None:
            position = {"position": attrs["current_position"]}
            return [("cover.set_cover_position", position)]
        return [("cover.open_cover" if value == "open" else "cover.close_cover", {})]
    if domain == "climate":
        return [
            ("climate.set_hvac_mode", {"hvac_mode": value}),
            ("climate.set_temperature", {"temperature": attrs["temperature"]}),
        ]
    if domain == "media_player":
        play = (
            "media_player.media_play"
            if value == "playing"
            else "media_player.media_pause"
        )
        # A player that cannot be switched on (the demo TV) is never off.
        return [
            *(
                [("media_player.turn_on", {})]
                if now is None or now.state == "off"
                else []
            ),
            (play, {}),
            ("media_player.volume_set", {"volume_level": attrs["volume_level"]}),
            ("media_player.volume_mute", {"is_volume_muted": attrs["is_volume_muted"]}),
        ]
    if domain == "vacuum":
        return [("vacuum.return_to_base", {})]
    if domain == "alarm_control_panel":
        return [
            ("alarm_control_panel.alarm_arm_away", {"code": ALARM_CODE}),
        ]
    raise RuntimeError(f"no way to reset {state.entity_id}")
