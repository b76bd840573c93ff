"""A fallback server: another server entry answers when the agent's own is not reached.

Only a server that was not reached counts: the connection refused or not made in time
(a machine that is off, an unknown host, a network that is down), or no answer at all
before the deadline. A server that answered with an error (500, a missing model, a
refused key) or dropped the connection in the middle says so, as before: sending the
request elsewhere would hide a fault that needs fixing. Once any of an answer was
streamed, or a tool ran, the turn is never sent again. Nothing is remembered but a
note for the log: the next turn tries the agent's own server first.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .client import CannotConnect, ConnectionLost, OllamaError, RequestTimeout
from .const import CONF_FALLBACK_ENTRY, DOMAIN
from .runtime import OllamaConfigEntry

_LOGGER = logging.getLogger(__name__)

# Agents whose own server was found unreachable: the log says so once, and once more
# when it answers again.
_UNREACHED: HassKey[set[str]] = HassKey(f"{DOMAIN}_unreached")


def cannot_be_reached(err: OllamaError, *, streamed: bool) -> bool:
    """Whether the server was not reached at all, rather than failing to answer."""
    if isinstance(err, ConnectionLost):
        return False
    if isinstance(err, CannotConnect):
        return True
    return isinstance(err, RequestTimeout) and not streamed


def fallback_entry(
    hass: HomeAssistant, options: Mapping[str, Any], own: OllamaConfigEntry
) -> OllamaConfigEntry | None:
    """The agent's fallback server entry, when it names one that is loaded."""
    entry_id = options.get(CONF_FALLBACK_ENTRY)
    if not entry_id or entry_id == own.entry_id:
        return None
    entry: OllamaConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        _LOGGER.warning("The fallback server entry %s no longer exists", entry_id)
        return None
    if entry.state is not ConfigEntryState.LOADED:
        _LOGGER.warning("The fallback server %s is not connected either", entry.title)
        return None
    return entry


def note_unreached(
    hass: HomeAssistant,
    agent_id: str,
    fallback: OllamaConfigEntry,
    err: OllamaError,
) -> None:
    """Say once that the agent's server is not reached and the fallback answers."""
    unreached = hass.data.setdefault(_UNREACHED, set())
    if agent_id in unreached:
        _LOGGER.debug("%s: %s; the fallback %s answers", agent_id, err, fallback.title)
        return
    unreached.add(agent_id)
    _LOGGER.warning(
        "%s: %s; the fallback server %s answers until it is back",
        agent_id,
        err,
        fallback.title,
    )


def note_answered(hass: HomeAssistant, agent_id: str, own: OllamaConfigEntry) -> None:
    """The agent's own server answered: say so if it had not been reached before."""
    unreached = hass.data.get(_UNREACHED)
    if unreached and agent_id in unreached:
        unreached.discard(agent_id)
        _LOGGER.info("%s: the server %s answers again", agent_id, own.title)
