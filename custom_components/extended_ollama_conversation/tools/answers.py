"""Answers built from what the tools did and read, instead of one more model round.

On a CPU each round costs seconds, and a small model's words after a tool result are
where it goes wrong: it echoes the question, reads out a song title for a volume, or
says "Done" to a question. When a command's calls all reached their goal, or a
question's reads found a few devices, the results already hold the whole answer, so
the turn ends with it: a round sooner, and true by construction.
"""

from __future__ import annotations

import re

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, State

from ..context import DOMAIN_WORDS, device_index
from ..context.devices import words_of
from ..context.rendering import describe_state
from .gate import CallRecord
from .truthful import unsettled
from .wording import be, the

# More devices than this and a list of states is no answer: the model says it.
MAX_SPOKEN_DEVICES = 4
# A request with a second clause may need a second round of calls.
_SECOND_CLAUSE = re.compile(
    r"\b(and|then|also|plus|after that|und|dann|et|puis|y|luego|en|dan|e|poi)\b",
    re.IGNORECASE,
)
_BINARY_WORDS = {
    "door": ("open", "closed"),
    "garage_door": ("open", "closed"),
    "window": ("open", "closed"),
    "opening": ("open", "closed"),
    "lock": ("unlocked", "locked"),
    "motion": ("detecting motion", "clear"),
    "occupancy": ("occupied", "clear"),
    "moisture": ("wet", "dry"),
}


def command_answer(
    text: str, records: list[CallRecord], new: list[CallRecord]
) -> str | None:
    """The answer to a command once its calls reached their goals, one per clause.

    `records` are the turn's calls, `new` this round's: each must have changed every
    device it aimed at (a call that left a device as it was may have hit the wrong
    one, and the model should see that). A request of two clauses ("… and …") needs
    two such calls before it is answered.
    """
    if not new or not all(_changed_all(r) for r in new):
        return None
    done = [r for r in records if _changed_all(r)]
    if unsettled(records) or len(done) < len(_SECOND_CLAUSE.findall(text)) + 1:
        return None
    return " ".join(dict.fromkeys(record.speech for record in done))


def _changed_all(record: CallRecord) -> bool:
    return (
        record.ok
        and bool(record.effects and record.entities and record.speech)
        and all(entity.changed for entity in record.entities)
    )


def reads_answer(hass: HomeAssistant, text: str, entity_ids: list[str]) -> str | None:
    """The states of the few devices a question's reads found, one sentence each.

    Not when the request names a room that none of them is in: the model read the
    wrong device ("the bedroom" answered with the living room's sensor), and its next
    round may read the right one.
    """
    unique = list(dict.fromkeys(entity_ids))
    states = [state for e in unique if (state := hass.states.get(e)) is not None]
    if not states or len(unique) > MAX_SPOKEN_DEVICES:
        return None
    if not _in_named_areas(hass, text, unique) or not _spoken_of(hass, text, unique):
        return None
    return " ".join(spoken_state(hass, state) for state in states)


def _spoken_of(hass: HomeAssistant, text: str, entity_ids: list[str]) -> bool:
    """Whether the request speaks of a device read: its name, room or kind.

    "What is the capital of France?" answered with a heater's state is a read the
    model should not have made; its next round answers the question instead.
    """
    words = set(words_of(text))
    for device in device_index(hass).devices():
        if device.entity_id not in entity_ids:
            continue
        kind = set(words_of(DOMAIN_WORDS.get(device.domain, device.domain)))
        named = {w for name in device.names for w in words_of(name)}
        if words & (named | kind | device.area_words):
            return True
    return False


def _in_named_areas(hass: HomeAssistant, text: str, entity_ids: list[str]) -> bool:
    """Whether the devices are in a room the request names (or it names none)."""
    words = set(words_of(text))
    devices = device_index(hass).devices()
    named = {
        d.area for d in devices if d.area and d.area_words and d.area_words <= words
    }
    if not named:
        return True
    areas = {d.area for d in devices if d.entity_id in entity_ids}
    return bool(areas & named)


def spoken_state(hass: HomeAssistant, state: State) -> str:
    """'The back door is unlocked.', 'The thermostat is cool, set to 21 °C.'."""
    name = the(state.name)
    return f"{name[0].upper()}{name[1:]} {be(state.name)} {_phrase(hass, state)}."


def _phrase(hass: HomeAssistant, state: State) -> str:
    """A device's state as a person would say it."""
    value, attributes, domain = state.state, state.attributes, state.domain
    if value in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return value
    if domain == "sensor":
        unit = attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        return f"{value} {unit}" if unit else value
    if domain == "binary_sensor":
        words = _BINARY_WORDS.get(str(attributes.get(ATTR_DEVICE_CLASS)), ("on", "off"))
        return words[0] if value == "on" else words[1]
    if domain == "climate":
        return _climate(hass, state)
    if domain == "light" and value == "on":
        brightness = attributes.get("brightness")
        if isinstance(brightness, int):
            return f"on at {max(1, round(brightness / 255 * 100))}%"
        return "on"
    if domain == "media_player":
        return _media(state)
    if domain == "cover":
        position = attributes.get("current_position")
        if value == "open" and isinstance(position, int) and 0 < position < 100:
            return f"open at {position}%"
        return value
    if domain in ("alarm_control_panel", "vacuum", "lock", "fan", "switch"):
        return value.replace("_", " ")
    return describe_state(state)


def _climate(hass: HomeAssistant, state: State) -> str:
    unit = hass.config.units.temperature_unit
    parts = [state.state.replace("_", " ")]
    attributes = state.attributes
    if (target := attributes.get("temperature")) is not None:
        parts.append(f"set to {target} {unit}")
    elif (low := attributes.get("target_temp_low")) is not None:
        parts.append(f"set to {low} to {attributes.get('target_temp_high')} {unit}")
    if (current := attributes.get("current_temperature")) is not None:
        parts.append(f"{current} {unit} now")
    return ", ".join(parts)


def _media(state: State) -> str:
    parts = [state.state]
    if state.state in ("playing", "paused") and (
        title := state.attributes.get("media_title")
    ):
        parts[0] = f"{state.state} {title}"
    volume = state.attributes.get("volume_level")
    if isinstance(volume, int | float) and state.state not in ("off", "standby"):
        parts.append(f"volume {round(volume * 100)}%")
    return ", ".join(parts)
