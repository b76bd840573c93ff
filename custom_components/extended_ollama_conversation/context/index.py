"""The index of exposed devices, kept until the registries, exposure or names change.

Building it reads every registry; a turn then only reads states. Recent state changes
are followed from the event bus, so that what changed lately can be said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_listen_entity_updates,
    async_should_expose,
)
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    intent,
)
from homeassistant.util.hass_dict import HassKey

from .devices import Device
from .ranking import DevicePositions
from .rendering import clean, fit_directory

ASSISTANT = "conversation"
# Calendars and scripts have tools of their own.
_SKIPPED_DOMAINS = frozenset({"calendar", "script"})
MAX_RECENT = 20
DATA_DEVICE_INDEX: HassKey[dict[str, DeviceIndex]] = HassKey(
    "extended_ollama_conversation_devices"
)


class DeviceIndex:
    """The exposed devices, kept until the registries, exposure or names change.

    Building it reads every registry; a turn only reads states. Lookups by word, kind
    and area are kept with it, so ranking a request touches only the devices it may
    concern, and so is the fitted directory, per size, since it does not depend on the
    request or on states. Recent state changes are followed from the event bus.
    """

    def __init__(self, hass: HomeAssistant, assistant: str = ASSISTANT) -> None:
        """Index lazily; call `async_listen` to be told of changes."""
        self.hass = hass
        self.assistant = assistant
        self._devices: list[Device] | None = None
        self._lookup: DevicePositions | None = None
        self._directories: dict[int, tuple[str, frozenset[str]]] = {}
        # When each entity last changed state, for changes in the last few minutes.
        self._changed: dict[str, datetime] = {}

    @callback
    def async_listen(self) -> Callable[[], None]:
        """Forget the index whenever something it is made from changes."""
        hass = self.hass
        unsubscribes = [
            hass.bus.async_listen(event, self._async_forget)
            for event in (
                er.EVENT_ENTITY_REGISTRY_UPDATED,
                dr.EVENT_DEVICE_REGISTRY_UPDATED,
                ar.EVENT_AREA_REGISTRY_UPDATED,
                fr.EVENT_FLOOR_REGISTRY_UPDATED,
            )
        ]
        unsubscribes.append(
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._async_state_changed)
        )
        unsubscribes.append(
            async_listen_entity_updates(hass, self.assistant, self._async_forget)
        )

        def unsubscribe() -> None:
            for undo in unsubscribes:
                undo()

        return unsubscribe

    @callback
    def _async_forget(self, event: Event[Any] | None = None) -> None:
        self._devices = None
        self._lookup = None
        self._directories.clear()

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        """An entity added, removed or renamed changes the index; a new state is noted."""
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None or old.name != new.name:
            self._async_forget()
        elif old.state != new.state and async_should_expose(
            self.hass, self.assistant, new.entity_id
        ):
            # Only what the model may know of (not, say, this integration's own
            # sensors, which change with every turn); the newest last.
            self._changed.pop(new.entity_id, None)
            self._changed[new.entity_id] = new.last_changed

    def devices(self) -> list[Device]:
        """Every exposed device, in a fixed order: the kinds that are controlled first."""
        if self._devices is None:
            self._devices = sorted(
                _scan(self.hass, self.assistant), key=lambda d: d.order
            )
        return self._devices

    def lookup(self) -> DevicePositions:
        """Positions of the devices by word of their names and area, kind and area."""
        if self._lookup is None:
            self._lookup = DevicePositions.create(self.devices())
        return self._lookup

    def recently_changed(self, since: datetime) -> list[str]:
        """The entities whose state changed last, after `since`; older notes go.

        At most MAX_RECENT: when much changes at once (a restart, a scene), being
        recent says little about what a request concerns.
        """
        while self._changed and next(iter(self._changed.values())) <= since:
            del self._changed[next(iter(self._changed))]
        return list(self._changed)[-MAX_RECENT:]

    def directory(self, char_budget: int) -> tuple[str, frozenset[str]]:
        """The directory of the most important devices that fits `char_budget`."""
        if (cached := self._directories.get(char_budget)) is None:
            cached = fit_directory(self.devices(), char_budget)
            self._directories[char_budget] = cached
        return cached


def _scan(hass: HomeAssistant, assistant: str) -> Iterable[Device]:
    """Read the registries for every exposed entity."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    areas = ar.async_get(hass)
    floors = fr.async_get(hass)
    for state in hass.states.async_all():
        if state.domain in _SKIPPED_DOMAINS or not async_should_expose(
            hass, assistant, state.entity_id
        ):
            continue
        entry = entities.async_get(state.entity_id)
        area_id = entry.area_id if entry else None
        device = (
            devices.async_get(entry.device_id) if entry and entry.device_id else None
        )
        if area_id is None and device is not None:
            area_id = dr.async_get_effective_area_id(hass, device)
        area = areas.async_get_area(area_id) if area_id else None
        floor = (
            floors.async_get_floor(area.floor_id) if area and area.floor_id else None
        )
        yield Device.create(
            state.entity_id,
            (
                clean(n)
                for n in intent.async_get_entity_aliases(hass, entry, state=state)
            ),
            clean(area.name) if area else None,
            clean(floor.name) if floor else None,
        )


@callback
def device_index(hass: HomeAssistant, assistant: str = ASSISTANT) -> DeviceIndex:
    """The index of an assistant's exposed devices, made and kept current on first use."""
    indexes = hass.data.setdefault(DATA_DEVICE_INDEX, {})
    if (index := indexes.get(assistant)) is None:
        index = indexes[assistant] = DeviceIndex(hass, assistant)
        index.async_listen()
    return index


def area_of_requester(
    hass: HomeAssistant, device_id: str | None, satellite_id: str | None
) -> str | None:
    """The area of the device or satellite that heard the request, if known."""
    device = dr.async_get(hass).async_get(device_id) if device_id else None
    if device is None and satellite_id:
        entry = er.async_get(hass).async_get(satellite_id)
        if entry is not None and entry.area_id:
            area = ar.async_get(hass).async_get_area(entry.area_id)
            return clean(area.name) if area else None
        if entry is not None and entry.device_id:
            device = dr.async_get(hass).async_get(entry.device_id)
    if (
        device is None
        or (area_id := dr.async_get_effective_area_id(hass, device)) is None
    ):
        return None
    area = ar.async_get(hass).async_get_area(area_id)
    return clean(area.name) if area else None
