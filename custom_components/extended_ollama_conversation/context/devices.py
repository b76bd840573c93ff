"""What an exposed device is, as the prompt describes it, and the words that name it.

Everything here is derived once per device when the index is built, so that ranking,
lookup and rendering, which run every turn, only compare sets of words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import re

# Domains in the order they matter for controlling a home; those left out of a full
# directory are taken from the end. Calendars and scripts have tools of their own.
DOMAIN_ORDER = (
    "light", "switch", "lock", "cover", "climate", "fan", "media_player", "alarm_control_panel",
    "valve", "vacuum", "humidifier", "water_heater", "scene", "lawn_mower", "todo",
    "input_boolean", "button", "number", "select", "binary_sensor", "sensor",
)  # fmt: skip

# Words people use for a kind of device.
DOMAIN_WORDS = {
    "light": "light lights lamp lamps bulb bulbs dim brighten brightness",
    "switch": "switch switches plug socket outlet",
    "lock": "lock locks locked unlock door",
    "cover": "blind blinds shade shades curtain curtains cover garage shutter window gate",
    "climate": "thermostat heating heater temperature degrees warm cold cool hvac ac",
    "fan": "fan fans",
    "media_player": "tv television music speaker play pause volume song",
    "alarm_control_panel": "alarm arm disarm security",
    "sensor": "temperature humidity sensor power energy battery",
    "binary_sensor": "door window motion open closed",
    "vacuum": "vacuum hoover clean",
}
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "can",
        "could",
        "do",
        "does",
        "for",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "off",
        "on",
        "please",
        "set",
        "that",
        "the",
        "this",
        "to",
        "turn",
        "what",
        "whats",
        "which",
        "you",
        "your",
    ]
)


def words_of(text: str) -> list[str]:
    """The words of a text, lower case, a plural's final s dropped."""
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") else w
        for w in re.findall(r"\w+", text.lower())
    ]


@dataclass(frozen=True, slots=True)
class Device:
    """An exposed entity as the prompt describes it: what does not change with its state."""

    entity_id: str
    domain: str
    names: tuple[str, ...]
    area: str | None
    floor: str | None
    # Derived once, for ranking, lookup and rendering many times.
    name_words: tuple[frozenset[str], ...]
    lookup_words: tuple[frozenset[str], ...]
    area_words: frozenset[str]
    order: tuple[int, str, str, str]
    label: str

    @classmethod
    def create(
        cls,
        entity_id: str,
        names: Iterable[str],
        area: str | None = None,
        floor: str | None = None,
    ) -> Device:
        """Describe an entity from its (already cleaned) names, area and floor."""
        domain = entity_id.partition(".")[0]
        unique = tuple(dict.fromkeys(n for n in names if n)) or (entity_id,)
        rank = (
            DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER)
        )
        return cls(
            entity_id=entity_id,
            domain=domain,
            names=unique,
            area=area,
            floor=floor,
            name_words=tuple(frozenset(words_of(n)) - STOP_WORDS for n in unique),
            lookup_words=tuple(frozenset(words_of(n)) for n in unique),
            area_words=frozenset(words_of(area)) if area else frozenset(),
            order=(rank, floor or "~", area or "~", unique[0].lower()),
            label="=".join(unique),
        )
