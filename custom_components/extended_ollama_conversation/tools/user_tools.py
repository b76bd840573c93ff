"""User-defined tools, written as YAML in an agent's options.

Three kinds: `script` calls an exposed script or a service with templated data (on
exposed entities only), `template` renders a Home Assistant template with the call's
arguments (read-only), `rest` makes an HTTP request through Home Assistant's own
session, with a timeout and a cap on the response's size. The YAML is checked when the
options are saved; an error names its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.yaml import parse_yaml
import probatio as vol

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
SERVICE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
KIND_SCRIPT, KIND_TEMPLATE, KIND_REST = "script", "template", "rest"
TYPES: dict[str, Any] = {
    "string": cv.string,
    "number": vol.Coerce(float),
    "integer": vol.Coerce(int),
    "boolean": cv.boolean,
}
DEFAULT_TIMEOUT = 10
MAX_TIMEOUT = 60
MAX_RESPONSE_BYTES = 16384
# The compact API's own tools, and the memory's.
RESERVED_NAMES = frozenset(
    {"control", "get_state", "history", "save_memory", "forget_memory"}
)
# Targets other than entities could reach devices that are not exposed.
_FORBIDDEN_TARGETS = ("area_id", "device_id", "floor_id", "label_id")

_PARAMETER = vol.Schema(
    {
        vol.Optional("type", default="string"): vol.In(sorted(TYPES)),
        vol.Optional("description"): cv.string,
        vol.Optional("required", default=False): cv.boolean,
        vol.Optional("enum"): [cv.string],
    }
)


def _no_hidden_targets(value: Any) -> Any:
    """Refuse area, device, floor and label targets: only entities can be checked."""
    if isinstance(value, Mapping):
        for key in _FORBIDDEN_TARGETS:
            if key in value:
                raise vol.Invalid(f"{key} is not allowed, name entities with entity_id")
    return value


_COMMON = {
    vol.Required("name"): vol.Match(NAME, msg="a name of letters, digits and _"),
    vol.Required("description"): cv.string,
    vol.Optional("parameters", default={}): {cv.string: _PARAMETER},
}
_KINDS = {
    KIND_SCRIPT: vol.Schema(
        {
            **_COMMON,
            vol.Required("kind"): KIND_SCRIPT,
            vol.Required("action"): vol.Match(
                SERVICE, msg="a service such as light.turn_on"
            ),
            vol.Optional("target", default={}): vol.All(dict, _no_hidden_targets),
            vol.Optional("data", default={}): vol.All(dict, _no_hidden_targets),
        }
    ),
    KIND_TEMPLATE: vol.Schema(
        {
            **_COMMON,
            vol.Required("kind"): KIND_TEMPLATE,
            vol.Required("template"): cv.string,
        }
    ),
    KIND_REST: vol.Schema(
        {
            **_COMMON,
            vol.Required("kind"): KIND_REST,
            vol.Required("url"): cv.string,
            vol.Optional("method", default="GET"): vol.All(
                vol.Upper, vol.In(["GET", "POST", "PUT", "PATCH", "DELETE"])
            ),
            vol.Optional("headers", default={}): {cv.string: cv.string},
            vol.Optional("payload"): vol.Any(cv.string, dict, list),
            vol.Optional("timeout", default=DEFAULT_TIMEOUT): vol.All(
                vol.Coerce(int), vol.Range(min=1, max=MAX_TIMEOUT)
            ),
        }
    ),
}


class UserToolsError(HomeAssistantError):
    """The YAML of the user tools is not valid; the message names the line."""


@dataclass(frozen=True, slots=True)
class UserToolConfig:
    """One validated user tool."""

    config: dict[str, Any]

    @property
    def name(self) -> str:
        """The tool's name."""
        return str(self.config["name"])

    @property
    def kind(self) -> str:
        """script, template or rest."""
        return str(self.config["kind"])


def parse_user_tools(text: str) -> list[UserToolConfig]:
    """Parse and validate the YAML; raise UserToolsError naming the line."""
    if not text.strip():
        return []
    try:
        loaded = parse_yaml(text)
    except HomeAssistantError as err:
        line = re.search(r"line (\d+)", str(err))
        first = str(err).strip().splitlines()[0]
        raise UserToolsError(f"Line {line.group(1) if line else 1}: {first}") from err
    if not isinstance(loaded, list):
        raise UserToolsError("Line 1: expected a list of tools, each starting with -")
    tools = [_validate(item) for item in loaded]
    names = [tool.name for tool in tools]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise UserToolsError(f"The name {duplicate} is used twice")
    return tools


def _validate(item: Any) -> UserToolConfig:
    """One tool's config, validated for its kind."""
    line = _line(item)
    if not isinstance(item, Mapping):
        raise UserToolsError(f"Line {line}: expected a tool with name, kind, ...")
    kind = item.get("kind")
    if kind not in _KINDS:
        raise UserToolsError(
            f"Line {line}: kind must be one of {', '.join(_KINDS)}, not {kind!r}"
        )
    if item.get("name") in RESERVED_NAMES:
        raise UserToolsError(
            f"Line {line}: the name {item['name']} is taken by a built-in tool"
        )
    try:
        return UserToolConfig(_KINDS[kind](dict(item)))
    except vol.Invalid as err:
        raise UserToolsError(
            f"Line {_line_at(item, err.path)}: {_explain(err)}"
        ) from err


def _explain(err: vol.Invalid) -> str:
    """The error in a sentence, with the option it concerns."""
    where = ".".join(str(p) for p in err.path)
    message = err.error_message or str(err)
    return f"{where}: {message}" if where else message


def _line(node: Any, default: int = 1) -> int:
    return int(getattr(node, "__line__", default))


def _line_at(node: Any, path: list[Any]) -> int:
    """The line of the deepest part of the YAML an error path reaches."""
    line = _line(node)
    for key in path:
        if (isinstance(node, Mapping) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        ):
            node = node[key]
        else:
            break
        line = _line(node, line)
    return line


def parameters_schema(config: Mapping[str, Any]) -> vol.Schema:
    """The probatio schema of a user tool's arguments."""
    fields: dict[vol.Marker, Any] = {}
    for name, spec in config.get("parameters", {}).items():
        marker = vol.Required if spec.get("required") else vol.Optional
        key = marker(name, description=spec.get("description"))
        fields[key] = (
            vol.In(spec["enum"])
            if spec.get("enum")
            else TYPES[spec.get("type", "string")]
        )
    return vol.Schema(fields)
