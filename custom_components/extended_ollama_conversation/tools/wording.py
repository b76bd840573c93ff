"""Short English phrases for what an action does, for questions, notes and the logbook.

Kept in one place so that the confirmation question, the result the model reads, the
answer the integration gives itself and the logbook all say the same thing.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

# What the model reads for a device that is unknown or not exposed: the two alike, so
# that it cannot probe for devices it was not shown.
NOT_FOUND = "No device matches {name!r}: it is not found or not exposed."

_VERBS = {
    "turn_on": ("turn on", "turned on"),
    "turn_off": ("turn off", "turned off"),
    "toggle": ("toggle", "toggled"),
    "lock": ("lock", "locked"),
    "unlock": ("unlock", "unlocked"),
    "open": ("open", "opened"),
    "open_cover": ("open", "opened"),
    "close_cover": ("close", "closed"),
    "set_cover_position": ("move", "moved"),
    "stop_cover": ("stop", "stopped"),
    "open_valve": ("open", "opened"),
    "close_valve": ("close", "closed"),
    "alarm_disarm": ("disarm", "disarmed"),
    "alarm_arm_home": ("arm", "armed"),
    "alarm_arm_away": ("arm", "armed"),
    "set_temperature": ("set the temperature of", "set"),
    "press": ("press", "pressed"),
}


def verb(action: str) -> str:
    """The imperative: 'unlock'."""
    return _VERBS.get(action, (action.replace("_", " "), ""))[0]


def past(action: str) -> str:
    """The participle: 'unlocked'."""
    return _VERBS.get(action, ("", f"changed ({action.replace('_', ' ')})"))[1]


def name_of(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's friendly name, or its id when it has no state."""
    state = hass.states.get(entity_id)
    return state.name if state is not None else entity_id


def join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def the(name: str) -> str:
    """'the front door', leaving names that already start with an article alone."""
    lowered = name.lower()
    if lowered.startswith(("the ", "my ", "a ", "an ")):
        return lowered
    return f"the {lowered}"


def be(name: str) -> str:
    """'is' or 'are' for a device's name ("the kitchen lights are")."""
    last = name.strip().split(" ")[-1].lower() if name.strip() else ""
    return "are" if last.endswith("s") and not last.endswith(("ss", "us")) else "is"
