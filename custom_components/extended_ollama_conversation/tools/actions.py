"""The action words of the control tool, and the service each means for a kind of device.

One short word per thing people ask for ("lock", "open", "set"), so a small model picks
it from a list instead of recalling per-domain intent names. A generic turn on or off
on a device whose kind has its own verbs is mapped to those (a vacuum starts and returns
home, a valve opens and closes); on a lock or an alarm it is refused, because its
meaning there is a guess (issue 8: "lock the back door" became a turn-off, which unlocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TURN_ON = "turn_on"
TURN_OFF = "turn_off"
SET = "set"


@dataclass(frozen=True, slots=True)
class Service:
    """The service an action calls on one kind of device, and where its value goes."""

    service: str
    # The service's field for the call's value, if it takes one.
    value_field: str | None = None
    # The value as a model gives it (a percentage) divided by this, for the field.
    value_scale: float = 1.0

    def data(self, value: Any) -> dict[str, Any]:
        """The service data for a call's value."""
        if self.value_field is None or value is None:
            return {}
        if self.value_scale != 1.0 and isinstance(value, int | float):
            return {self.value_field: value / self.value_scale}
        return {self.value_field: value}


_ON_OFF = {TURN_ON: Service("turn_on"), TURN_OFF: Service("turn_off")}
_OPEN_CLOSE = {"open": Service("open_cover"), "close": Service("close_cover")}

# For each domain: action word -> service. `set` takes the call's value.
ACTIONS: dict[str, dict[str, Service]] = {
    "light": {**_ON_OFF, SET: Service("turn_on", "brightness_pct")},
    "switch": _ON_OFF,
    "input_boolean": _ON_OFF,
    "fan": {**_ON_OFF, SET: Service("set_percentage", "percentage")},
    "humidifier": {**_ON_OFF, SET: Service("set_humidity", "humidity")},
    "climate": {**_ON_OFF, SET: Service("set_temperature", "temperature")},
    "water_heater": {**_ON_OFF, SET: Service("set_temperature", "temperature")},
    "media_player": {
        **_ON_OFF,
        "play": Service("media_play"),
        "pause": Service("media_pause"),
        "stop": Service("media_stop"),
        SET: Service("volume_set", "volume_level", 100.0),
    },
    "lock": {"lock": Service("lock"), "unlock": Service("unlock")},
    "cover": {
        **_OPEN_CLOSE,
        "stop": Service("stop_cover"),
        SET: Service("set_cover_position", "position"),
    },
    "valve": {
        "open": Service("open_valve"),
        "close": Service("close_valve"),
        "stop": Service("stop_valve"),
        SET: Service("set_valve_position", "position"),
    },
    "vacuum": {
        "start": Service("start"),
        "stop": Service("stop"),
        "return_home": Service("return_to_base"),
    },
    "lawn_mower": {
        "start": Service("start_mowing"),
        "return_home": Service("dock"),
    },
    "alarm_control_panel": {
        "arm_home": Service("alarm_arm_home"),
        "arm_away": Service("alarm_arm_away"),
        "disarm": Service("alarm_disarm", "code"),
    },
    "scene": {"activate": Service("turn_on")},
    "script": {"run": Service("turn_on", "variables")},
    "automation": {**_ON_OFF, "trigger": Service("trigger")},
    "button": {"press": Service("press")},
    "input_button": {"press": Service("press")},
    "number": {SET: Service("set_value", "value")},
    "input_number": {SET: Service("set_value", "value")},
}

# What a generic word means for a kind with verbs of its own.
_SYNONYMS: dict[str, dict[str, str]] = {
    "cover": {TURN_ON: "open", TURN_OFF: "close"},
    "valve": {TURN_ON: "open", TURN_OFF: "close"},
    "vacuum": {TURN_ON: "start", TURN_OFF: "return_home"},
    "lawn_mower": {TURN_ON: "start", TURN_OFF: "return_home"},
    "scene": {TURN_ON: "activate"},
    "script": {TURN_ON: "run"},
    "button": {TURN_ON: "press"},
    "input_button": {TURN_ON: "press"},
    "media_player": {"start": "play", "resume": "play"},
}
# Words a model uses for an action word (any kind).
_WORDS = {
    "on": TURN_ON,
    "off": TURN_OFF,
    "turnon": TURN_ON,
    "turnoff": TURN_OFF,
    "switch_on": TURN_ON,
    "switch_off": TURN_OFF,
    "enable": TURN_ON,
    "disable": TURN_OFF,
    "set_value": SET,
    "set_temperature": SET,
    "set_brightness": SET,
    "set_position": SET,
    "set_volume": SET,
    "dock": "return_home",
    "return_to_base": "return_home",
    "run_script": "run",
    "execute": "run",
    "open_cover": "open",
    "close_cover": "close",
}


def action_words(domains: set[str]) -> list[str]:
    """The action words for these kinds of device, in a fixed order."""
    return sorted({word for domain in domains for word in ACTIONS.get(domain, {})})


def normalize(action: str) -> str:
    """The action word a model's spelling means ("Turn On", "on" -> turn_on)."""
    word = action.strip().lower().replace(" ", "_").replace("-", "_")
    return _WORDS.get(word, word)


def service_for(domain: str, action: str) -> Service | None:
    """The service an action word calls on a kind of device, or None if it has none."""
    actions = ACTIONS.get(domain, {})
    word = normalize(action)
    word = _SYNONYMS.get(domain, {}).get(word, word)
    return actions.get(word)
