"""The agent options of model routing and of the fallback server, for the agent form.

Routes are chosen from the server's own models (a model saved earlier stays choosable
after it was removed from the server, so the form can still be saved); each is
optional. The fallback is any other server entry of this integration, and its model is
typed, since that server's list is not read while the form is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import probatio as vol

from .const import CONF_FALLBACK_ENTRY, CONF_FALLBACK_MODEL, DOMAIN
from .routing import ROUTE_OPTIONS


def _choices(
    choices: list[SelectOptionDict], current: str | None
) -> list[SelectOptionDict]:
    if current and all(choice["value"] != current for choice in choices):
        return [*choices, SelectOptionDict(value=current, label=current)]
    return choices


def routing_fields(
    hass: HomeAssistant,
    entry_id: str,
    options: Mapping[str, Any],
    models: list[SelectOptionDict],
) -> dict[vol.Marker, Any]:
    """A model per kind of request, and the fallback server with its model."""
    fields: dict[vol.Marker, Any] = {
        vol.Optional(key, description={"suggested_value": options.get(key)}): (
            SelectSelector(
                SelectSelectorConfig(
                    options=_choices(models, options.get(key)),
                    mode=SelectSelectorMode.DROPDOWN,
                )
            )
        )
        for key in ROUTE_OPTIONS.values()
    }
    servers = [
        SelectOptionDict(value=entry.entry_id, label=entry.title)
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != entry_id
    ]
    current = options.get(CONF_FALLBACK_ENTRY)
    if servers or current:
        fields[
            vol.Optional(CONF_FALLBACK_ENTRY, description={"suggested_value": current})
        ] = SelectSelector(
            SelectSelectorConfig(
                options=_choices(servers, current), mode=SelectSelectorMode.DROPDOWN
            )
        )
        fields[
            vol.Optional(
                CONF_FALLBACK_MODEL,
                description={"suggested_value": options.get(CONF_FALLBACK_MODEL)},
            )
        ] = TextSelector()
    return fields
