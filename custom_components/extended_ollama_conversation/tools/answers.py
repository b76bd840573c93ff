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

from ..context import DOMAIN_WORDS, Device, device_index
from ..context.devices import words_of
from ..context.rendering import BINARY_STATE_WORDS, describe_state
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
# Spoken, motion reads better as an activity than as the compact "motion".
_BINARY_WORDS = {**BINARY_STATE_WORDS, "motion": ("detecting motion", "clear")}


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

    Only for reads the request speaks of, in the room it names (see `_fits_request`);
    otherwise the model read the wrong device and its next round may read the right one.
    """
    unique = list(dict.fromkeys(entity_ids))
    states = [state for e in unique if (state := hass.states.get(e)) is not None]
    if not states or len(unique) > MAX_SPOKEN_DEVICES:
        return None
    if not _fits_request(hass, text, unique):
        return None
    return " ".join(spoken_state(hass, state) for state in states)


def _fits_request(hass: HomeAssistant, text: str, entity_ids: list[str]) -> bool:
    """Whether the request speaks of a device read (name, room or kind), in its room.

    "The bedroom" answered with the living room's sensor, or "what is the capital of
    France?" with a heater's state, are reads the model should not have made.
    """
    words = set(words_of(text))
    devices = device_index(hass).devices()
    read = [d for d in devices if d.entity_id in entity_ids]
    named_areas = {
        d.area for d in devices if d.area and d.area_words and d.area_words <= words
    }
    if named_areas and not {d.area for d in read} & named_areas:
        return False
    return any(words & _words_for(device) for device in read)


def _words_for(device: Device) -> set[str]:
    """The words a request may use for a device: its names, its room, its kind."""
    kind = set(words_of(DOMAIN_WORDS.get(device.domain, device.domain)))
    named = {word for name in device.names for word in words_of(name)}
    return named | kind | set(device.area_words)


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
