"""Repair the argument mistakes small models make, where the tool's schema is clear.

Only changes whose meaning the schema makes unambiguous: arguments sent as a JSON
string, numbers and booleans sent as strings, one value where a list is expected,
"None"/"" placeholders for optional arguments, an enum value in the wrong case.
Anything else is left for validation to report back to the model.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import re
from typing import Any

_EMPTY = {"", "none", "null", "undefined", "n/a"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def coerce_arguments(arguments: Any, schema: Mapping[str, Any]) -> Any:
    """Return the arguments repaired against the tool's JSON schema (an object)."""
    arguments = _parse_json_text(arguments)
    if arguments is None:
        return {}
    if not isinstance(arguments, dict):
        return arguments
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    repaired: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in required and _is_placeholder(value):
            continue  # a model's way of saying "not given"
        prop = properties.get(key)
        repaired[key] = _coerce(value, prop) if isinstance(prop, Mapping) else value
    return repaired


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """Coerce one value to its property's schema, when the intent is unambiguous."""
    expected = schema.get("type")
    if isinstance(expected, list):
        return value  # a union: any choice would be a guess
    if expected == "array":
        value = _parse_json_text(value, "[")
        items: Mapping[str, Any] = (
            schema["items"] if isinstance(schema.get("items"), Mapping) else {}
        )
        values = value if isinstance(value, list) else [value]
        return [_coerce(item, items) for item in values]
    if expected == "object":
        value = _parse_json_text(value, "{")
        return coerce_arguments(value, schema) if isinstance(value, dict) else value
    if expected in ("integer", "number"):
        return _coerce_number(value, integer=expected == "integer")
    if expected == "boolean" and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return value
    if expected == "string":
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and (choices := schema.get("enum")):
            return next(
                (
                    c
                    for c in choices
                    if isinstance(c, str) and c.lower() == value.lower()
                ),
                value,
            )
    return value


def _coerce_number(value: Any, *, integer: bool) -> Any:
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        if not _NUMBER.fullmatch(text):
            return value
        value = float(text)
    if isinstance(value, float) and integer and value.is_integer():
        return int(value)
    return value


def _parse_json_text(value: Any, opener: str = "{[") -> Any:
    """Decode a JSON object or list that arrived as a string."""
    if isinstance(value, str) and value.strip()[:1] in opener and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _is_placeholder(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _EMPTY)
