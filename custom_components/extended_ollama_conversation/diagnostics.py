"""Diagnostics for a server entry, with every secret taken out.

People attach these to public issues: the API key, credentials in the server URL and
anything secret-looking in the agents' own tools (headers, tokens, passwords, URLs with
credentials) are redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
import re
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.yaml import parse_yaml

from .const import CONF_USER_TOOLS
from .coordinator import ServerCoordinator
from .runtime import OllamaConfigEntry

# Keys whose values are secrets wherever they appear (user tools' YAML included);
# counts of tokens (prompt_tokens) are figures, not secrets.
_SECRET_KEY = re.compile(
    r"api[_-]?key|token(?!s)|secret|passw(or)?d|auth|bearer|cookie|credential",
    re.IGNORECASE,
)
_TO_REDACT = {CONF_API_KEY, "headers", "webhook_id"}
# user:password@ (or a token as the user) in a URL anywhere in a text.
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
# ?token=... and the like in a URL's query.
_SECRET_QUERY = re.compile(
    r"(?<=[?&])([^=&\s]*(?:key|token|secret|passw(?:or)?d|auth)[^=&\s]*)=[^&\s]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+\S+")


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OllamaConfigEntry
) -> dict[str, Any]:
    """The server's settings and state, the agents' options and the usage counters."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    counters = runtime.stats.counters()
    return {
        "entry": {
            "title": entry.title,
            "data": _redact(entry.data),
            "options": _redact(entry.options),
        },
        "server": _server(coordinator) if coordinator is not None else None,
        "agents": [
            {
                "subentry_type": subentry.subentry_type,
                "title": subentry.title,
                "options": _agent_options(subentry.data),
                "figures": counters.get(subentry.subentry_id),
            }
            for subentry in entry.subentries.values()
        ],
        "usage": dataclasses.asdict(runtime.usage),
        # Timing and token figures; the words only where the agent's option allows.
        "recent_turns": _redact(runtime.stats.recent_turns()),
    }


def _server(coordinator: ServerCoordinator) -> dict[str, Any]:
    """What the last refresh read, and whether it succeeded."""
    status = coordinator.data
    return {
        "reachable": coordinator.last_update_success,
        "failing_since": (
            coordinator.failing_since.isoformat() if coordinator.failing_since else None
        ),
        "version": status.version if status else None,
        "installed_models": [
            dataclasses.asdict(model) for model in (status.installed if status else ())
        ],
        "loaded_models": [
            dataclasses.asdict(model) for model in (status.loaded if status else ())
        ],
    }


def _agent_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """An agent's options; its own tools' YAML is read and its secrets taken out."""
    redacted: dict[str, Any] = _redact(options)
    if text := options.get(CONF_USER_TOOLS):
        redacted[CONF_USER_TOOLS] = _user_tools(str(text))
    return redacted


def _user_tools(text: str) -> Any:
    """The tools as data without secrets; YAML that cannot be read is left out."""
    try:
        tools = parse_yaml(text)
    except HomeAssistantError:
        return REDACTED
    return _redact(tools) if isinstance(tools, list) else REDACTED


def _redact(data: Any) -> Any:
    """Redact secret keys, then credentials written into any text."""
    return _scrub(async_redact_data(data, _TO_REDACT))


def _scrub(value: Any) -> Any:
    """Walk the data: secret-looking keys and URL credentials become REDACTED."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and _SECRET_KEY.search(key) and item
            else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def _scrub_text(text: str) -> str:
    """Credentials in URLs, secret query parameters and bearer tokens in a text."""
    text = _URL_CREDENTIALS.sub(f"{REDACTED}@", text)
    text = _SECRET_QUERY.sub(rf"\1={REDACTED}", text)
    return _BEARER.sub(rf"\1 {REDACTED}", text)
