"""Structured answers: parse the model's JSON and check it against the asked shape.

Shared by the AI Task entity (a probatio schema) and the generate service (a JSON
schema). Home Assistant does not ship the `jsonschema` package, so the JSON schema is
checked here for the subset Ollama's structured outputs use: `type`, `properties`,
`required`, `enum`, `items`. Other keywords are sent to Ollama but not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.json import JsonValueType, json_loads

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

# JSON schema types and the Python values that are them (a bool is not a number).
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaMismatch(ValueError):
    """A value does not fit a JSON schema; the message names where and why."""


def parse_json(text: str) -> JsonValueType:
    """The model's answer as JSON, or the integration's clear error."""
    try:
        return json_loads(text)
    except ValueError as err:
        _LOGGER.warning("The model's answer is not JSON: %.200s", text)
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="not_json"
        ) from err


def mismatch_error(err: Exception) -> HomeAssistantError:
    """The error for an answer that is JSON but not the requested structure."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="structure_mismatch",
        translation_placeholders={"error": str(err)},
    )


def validate(schema: Mapping[str, Any], value: Any, where: str = "answer") -> None:
    """Raise SchemaMismatch unless `value` fits `schema` (the subset above)."""
    expected = schema.get("type")
    if expected is not None and not _has_type(value, expected):
        raise SchemaMismatch(f"{where} should be {_type_words(expected)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(repr(choice) for choice in schema["enum"])
        raise SchemaMismatch(f"{where} should be one of {choices}, not {value!r}")
    if isinstance(value, dict):
        _validate_object(schema, value, where)
    elif isinstance(value, list) and isinstance(items := schema.get("items"), dict):
        for index, item in enumerate(value):
            validate(items, item, f"{where}[{index}]")


def check_schema(schema: Any, where: str = "structure") -> None:
    """Raise SchemaMismatch for a schema whose types could never be met."""
    if not isinstance(schema, dict):
        raise SchemaMismatch(f"{where} should be an object")
    expected = schema.get("type", [])
    for name in [expected] if isinstance(expected, str) else expected:
        if name not in _TYPES:
            raise SchemaMismatch(f"{where} has an unknown type {name!r}")
    for key, sub in (schema.get("properties") or {}).items():
        check_schema(sub, f"{where}.{key}")
    if "items" in schema:
        check_schema(schema["items"], f"{where}[]")


def _validate_object(
    schema: Mapping[str, Any], value: dict[str, Any], where: str
) -> None:
    for key in schema.get("required", ()):
        if key not in value:
            raise SchemaMismatch(f"{where} is missing '{key}'")
    properties = schema.get("properties") or {}
    for key, item in value.items():
        if isinstance(sub := properties.get(key), dict):
            validate(sub, item, f"{where}.{key}")


def _has_type(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    if isinstance(value, bool):
        return "boolean" in names
    if isinstance(value, float) and value.is_integer() and "integer" in names:
        return True
    return any(isinstance(value, _TYPES.get(name, ())) for name in names)


def _type_words(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else expected
    return " or ".join(f"{'an' if n[0] in 'aeiou' else 'a'} {n}" for n in names)
