"""Which exposed devices a tool call names: by name or alias, or as an area and a kind.

Only entities exposed to the assistant are ever returned: the device index holds only
those, and exposure is checked once more here, so a stale index cannot leak one.
Scripts are not in the index (the home's description leaves them out), so they are
read here, with the fields their service description declares.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_should_expose,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, intent, llm, service

from ..context import DOMAIN_WORDS, Device, clean, device_index, find_devices

SCRIPT = "script"


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    """An exposed script and the fields it takes."""

    device: Device
    fields: dict[str, bool]  # field name -> required


def exposed_devices(hass: HomeAssistant, llm_context: llm.LLMContext) -> list[Device]:
    """Every exposed device, scripts included."""
    devices = device_index(hass, llm_context.assistant).devices()
    return [*devices, *(script.device for script in exposed_scripts(hass, llm_context))]


def exposed_scripts(
    hass: HomeAssistant, llm_context: llm.LLMContext
) -> list[ScriptInfo]:
    """The exposed scripts, by name, with their fields."""
    registry = er.async_get(hass)
    scripts = []
    for state in sorted(hass.states.async_all(SCRIPT), key=lambda s: s.entity_id):
        if not async_should_expose(hass, llm_context.assistant, state.entity_id):
            continue
        entry = registry.async_get(state.entity_id)
        names = [
            clean(n) for n in intent.async_get_entity_aliases(hass, entry, state=state)
        ]
        object_id = state.entity_id.partition(".")[2]
        described = service.async_get_cached_service_description(
            hass, SCRIPT, object_id
        ) or service.async_get_cached_service_description(
            hass, SCRIPT, entry.unique_id if entry else object_id
        )
        fields: dict[str, Any] = (described or {}).get("fields") or {}
        scripts.append(
            ScriptInfo(
                Device.create(state.entity_id, names),
                {name: bool(spec.get("required")) for name, spec in fields.items()},
            )
        )
    return scripts


def named_devices(
    devices: list[Device], name: str, *, fuzzy: bool = False
) -> list[Device]:
    """The devices a name means: its exact names, then an area with a kind.

    Names compare without case, punctuation or plural s. An area alone ("kitchen")
    names nothing: acting on a whole room is never a guess. `fuzzy` (for reads only)
    then takes the closest name, typos forgiven.
    """
    wanted = _key(name)
    if not wanted:
        return []
    exact = [d for d in devices if any(_key(n) == wanted for n in d.names)]
    if exact:
        return exact
    if in_area := _area_with_kind(devices, name.lower()):
        return in_area
    if only := _only_one_of_kind(devices, name.lower()):
        return only
    return find_devices(devices, name=name)[:1] if fuzzy else []


def similar_names(devices: list[Device], name: str, limit: int = 3) -> list[str]:
    """The names of the exposed devices closest to a name, for a model to correct."""
    return [d.names[0] for d in find_devices(devices, name=name)[:limit]]


def _key(name: str) -> str:
    """A name as compared: lower case, words only, without a plural s or "the"."""
    words = re.findall(r"\w+", name.lower())
    return " ".join(w.removesuffix("s") for w in words if w != "the")


def _area_with_kind(devices: list[Device], wanted: str) -> list[Device]:
    """Devices of a kind in an area, for a name such as "kitchen lights"."""
    words = set(re.findall(r"\w+", wanted))
    for area in sorted({d.area for d in devices if d.area}, key=len, reverse=True):
        area_words = set(area.lower().split())
        if not area_words <= words or not (rest := words - area_words):
            continue
        kinds = {
            domain
            for domain, terms in DOMAIN_WORDS.items()
            if rest & set(terms.split())
        } | (rest & {d.domain for d in devices})
        if kinds:
            return [d for d in devices if d.area == area and d.domain in kinds]
    return []


def _only_one_of_kind(devices: list[Device], wanted: str) -> list[Device]:
    """The home's one device of a kind, for a name that is only the kind.

    "The alarm" or "the alarm control panel" when the home has one alarm panel: no
    guess, there is nothing else it can mean. Two of the kind name nothing.
    """
    # "alarm_control_panel" too: a model may give the kind's domain as the name.
    words = set(re.findall(r"[^\W_]+", wanted)) - {"the", "my", "our"}
    if not words:
        return []
    kinds = {
        domain
        for domain, terms in DOMAIN_WORDS.items()
        if words <= set(terms.split()) | set(domain.split("_"))
    }
    of_kind = [d for d in devices if d.domain in kinds]
    return of_kind if len(of_kind) == 1 else []


def still_exposed(
    hass: HomeAssistant, llm_context: llm.LLMContext, devices: list[Device]
) -> list[Device]:
    """The devices that are still exposed (the index may lag an exposure change)."""
    return [
        d
        for d in devices
        if async_should_expose(hass, llm_context.assistant, d.entity_id)
    ]
