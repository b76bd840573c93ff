"""Tool names a model knows from training, mapped to the tools it is offered.

Small models call tools they were trained on rather than the ones they are shown
(`HassGetState`, `HassTurnOn` with the compact API), or an offered tool under another
prefix (`intent__HassSetVolume` for `media_player__HassSetVolume`). When such a call
clearly means one offered tool, it is mapped to it, arguments included; a generic turn
on or off of a device whose kind has verbs of its own (a vacuum, a lawn mower) is mapped
to those verbs. Anything unclear is left unresolved, for the model to correct.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..context import Device
from .actions import normalize
from .device_tools import CONTROL, FIND_DEVICES

# Names for reading states, for the compact API's state tool (lower case, no prefix).
_STATE_NAMES = frozenset(
    {"hassgetstate", "hassgetstates", "getlivecontext", "getstate", "get_states",
     "finddevices", "find_devices", "getdevices", "get_devices", "state", "status"}
)  # fmt: skip
# Assist's own tool for states.
_LIVE_CONTEXT = "getlivecontext"
# Intent names for the compact API's control tool: the action, and which argument
# holds the value.
_CONTROL_NAMES: dict[str, tuple[str, str | None]] = {
    "hassturnon": ("turn_on", None),
    "hassturnoff": ("turn_off", None),
    "hasstoggle": ("turn_on", None),
    "hasslightset": ("set", "brightness"),
    "hassclimatesettemperature": ("set", "temperature"),
    "hasssetposition": ("set", "position"),
    "hassfansetspeed": ("set", "percentage"),
    "hasssetvolume": ("set", "volume_level"),
    "hassmediapause": ("pause", None),
    "hassmediaunpause": ("play", None),
    "hassmediaplay": ("play", None),
    "hassvacuumstart": ("start", None),
    "hassvacuumreturntobase": ("return_home", None),
    "hasslawnmowerstartmowing": ("start", None),
    "hasslawnmowerdock": ("return_home", None),
    "hasslock": ("lock", None),
    "hassunlock": ("unlock", None),
    "hassopen": ("open", None),
    "hassclose": ("close", None),
    "hassopencover": ("open", None),
    "hassclosecover": ("close", None),
    "turn_on": ("turn_on", None),
    "turn_off": ("turn_off", None),
    "turnon": ("turn_on", None),
    "turnoff": ("turn_off", None),
    # The control tool's own action words, used as a tool's name ("set" with a value).
    **{word: (word, None) for word in ("set", "open", "close", "lock", "unlock")},
    **{word: (word, None) for word in ("start", "stop", "pause", "play")},
}
# A generic turn on/off on these kinds, as Assist's own intents for them.
_KIND_VERBS: dict[str, dict[str, str]] = {
    "vacuum": {"hassturnon": "HassVacuumStart", "hassturnoff": "HassVacuumReturnToBase"},
    "lawn_mower": {"hassturnon": "HassLawnMowerStartMowing", "hassturnoff": "HassLawnMowerDock"},
}  # fmt: skip


def bare_name(name: str) -> str:
    """A tool name without its prefix, in lower case."""
    return name.strip().rpartition("__")[2].lower()


def alias_name(name: str, offered: Collection[str]) -> str | None:
    """The one offered tool a name means, without looking at the arguments."""
    wanted = name.strip().lower()
    if exact := [tool for tool in offered if tool.lower() == wanted]:
        return exact[0]
    bare = bare_name(name)
    same = [tool for tool in offered if bare_name(tool) == bare]
    if len(same) == 1:
        return same[0]
    if FIND_DEVICES in offered and bare in _STATE_NAMES:
        return FIND_DEVICES
    if CONTROL in offered and bare in _CONTROL_NAMES:
        return CONTROL
    live = [tool for tool in offered if bare_name(tool) == _LIVE_CONTEXT]
    if bare in _STATE_NAMES and len(live) == 1:
        return live[0]
    return None


def alias_call(
    name: str, arguments: Any, offered: Collection[str], devices: list[Device]
) -> tuple[str, Any] | None:
    """The offered tool and arguments a call means, or None when unclear."""
    if name in offered:
        resolved: str | None = name
    elif (resolved := _kind_verb(name, arguments, offered, devices)) is not None:
        return resolved, arguments
    else:
        resolved = alias_name(name, offered)
    if resolved is None or not isinstance(arguments, dict):
        return (resolved, arguments) if resolved else None
    if resolved == CONTROL:
        return resolved, _control_arguments(bare_name(name), arguments)
    if resolved == FIND_DEVICES and resolved != name:
        return resolved, _state_arguments(arguments)
    if bare_name(resolved) == _LIVE_CONTEXT:
        return resolved, {}  # Assist's overview takes no arguments
    return resolved, arguments


def _kind_verb(
    name: str, arguments: Any, offered: Collection[str], devices: list[Device]
) -> str | None:
    """Assist's own verb for a generic turn on/off of a vacuum or a lawn mower."""
    bare = bare_name(name)
    if not isinstance(arguments, dict) or bare not in ("hassturnon", "hassturnoff"):
        return None
    wanted = str(arguments.get("name", "")).strip().lower()
    kinds = {d.domain for d in devices if any(n.lower() == wanted for n in d.names)}
    if len(kinds) != 1 or (verbs := _KIND_VERBS.get(kinds.pop())) is None:
        return None
    return alias_name(verbs[bare], offered)


def _target_name(arguments: dict[str, Any]) -> str | None:
    """The device a call names: its name, or an area and a kind ("Kitchen light")."""
    if isinstance(name := arguments.get("name"), str) and name.strip():
        return name
    kind = arguments.get("domain", arguments.get("device_class"))
    if isinstance(kind, list):
        kind = kind[0] if len(kind) == 1 else None
    area = arguments.get("area")
    if isinstance(area, str) and isinstance(kind, str):
        return f"{area} {kind}"
    return None


def _control_arguments(bare: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """An intent call's arguments as the control tool takes them."""
    if bare not in _CONTROL_NAMES:
        repaired = dict(arguments)
        if isinstance(action := repaired.get("action"), str):
            repaired["action"] = normalize(action)
        return repaired
    action, value_argument = _CONTROL_NAMES[bare]
    mapped: dict[str, Any] = {"action": action}
    if (target := _target_name(arguments)) is not None:
        mapped["name"] = target
    value = arguments.get(value_argument) if value_argument else None
    if value is None:
        value = arguments.get("value")
    if value is not None:
        mapped["value"] = value
    return mapped


def _state_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Another lookup tool's arguments as the state tool takes them."""
    mapped: dict[str, Any] = {
        key: arguments[key] for key in ("name", "area") if key in arguments
    }
    kind = arguments.get("kind", arguments.get("domain"))
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if kind:
        mapped["kind"] = kind
    return mapped
