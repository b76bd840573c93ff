"""Repair the target of a call that names a device exactly but adds a wrong place or kind.

Small models pad calls with guesses: `"area": "no area"`, a floor that is a room, or
`"domain": ["light"]` for a switch. Home Assistant then finds nothing, and the model
tends to repeat the same call. When the name alone identifies exposed devices, a
constraint that none of them meets cannot be what the person meant, so it is dropped.
"""

from __future__ import annotations

from typing import Any

from ..context import Device


def repair_targets(arguments: dict[str, Any], devices: list[Device]) -> dict[str, Any]:
    """Drop area, floor and domain constraints that the named device contradicts."""
    name = arguments.get("name")
    if not isinstance(name, str) or not name.strip():
        return arguments
    wanted = name.strip().lower()
    named = [d for d in devices if any(n.lower() == wanted for n in d.names)]
    if not named:
        return arguments
    repaired = dict(arguments)
    if "area" in repaired and not any(_same(repaired["area"], d.area) for d in named):
        del repaired["area"]
    if "floor" in repaired and not any(
        _same(repaired["floor"], d.floor) for d in named
    ):
        del repaired["floor"]
    if "domain" in repaired:
        domains = (
            repaired["domain"]
            if isinstance(repaired["domain"], list)
            else [repaired["domain"]]
        )
        if not any(d.domain in domains for d in named):
            del repaired["domain"]
    return repaired


def _same(value: Any, place: str | None) -> bool:
    return (
        isinstance(value, str)
        and place is not None
        and value.strip().lower() == place.lower()
    )
