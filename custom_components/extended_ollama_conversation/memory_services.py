"""The memory's services (`memory_list`, `memory_forget`) and its agent options.

The services are for administrators: the memory holds what every user said. The option
fields live here so that the agent's form gets them with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
from homeassistant.helpers.service import async_register_admin_service
import probatio as vol

from .const import (
    CONF_MEMORY,
    CONF_MEMORY_MAX_CHARS,
    CONF_MEMORY_MAX_ENTRIES,
    CONF_MEMORY_WITHOUT_USER,
    DEFAULT_MEMORY,
    DEFAULT_MEMORY_MAX_CHARS,
    DEFAULT_MEMORY_MAX_ENTRIES,
    DEFAULT_MEMORY_WITHOUT_USER,
    DOMAIN,
    SERVICE_MEMORY_FORGET,
    SERVICE_MEMORY_LIST,
)
from .memory import (
    DATA_MEMORY,
    EntryData,
    MemoryStore,
    async_load_memory,
    entry_as_dict,
)

ATTR_USER_ID = "user_id"
ATTR_ID = "id"
ATTR_TEXT = "text"
ATTR_ALL = "all"

LIST_SCHEMA = vol.Schema({vol.Optional(ATTR_USER_ID): cv.string})
FORGET_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_ID): cv.string,
        vol.Optional(ATTR_TEXT): cv.string,
        vol.Optional(ATTR_USER_ID): cv.string,
        vol.Optional(ATTR_ALL, default=False): cv.boolean,
    }
)


def _chosen(store: MemoryStore, call: ServiceCall) -> list[EntryData]:
    """All entries, or one user's when the call names a user."""
    if ATTR_USER_ID in call.data:
        return store.entries(call.data[ATTR_USER_ID])
    return store.entries(everyone=True)


async def async_setup_memory(hass: HomeAssistant) -> None:
    """Load the memory and register its services."""
    await async_load_memory(hass)

    def _store() -> MemoryStore:
        return hass.data[DATA_MEMORY]  # loaded above, kept while Home Assistant runs

    async def async_list(call: ServiceCall) -> ServiceResponse:
        store = _store()
        return {"entries": [entry_as_dict(entry) for entry in _chosen(store, call)]}

    async def async_forget(call: ServiceCall) -> ServiceResponse:
        given = [key for key in (ATTR_ID, ATTR_TEXT) if call.data.get(key)]
        if len(given) + bool(call.data[ATTR_ALL]) != 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="memory_forget_what"
            )
        store = _store()
        entries = _chosen(store, call)
        if ATTR_ID in given:
            entries = [e for e in entries if e["id"] == call.data[ATTR_ID]]
            if not entries:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="memory_not_found",
                    translation_placeholders={"id": call.data[ATTR_ID]},
                )
        elif ATTR_TEXT in given:
            words = str(call.data[ATTR_TEXT]).casefold()
            entries = [e for e in entries if words in e["text"].casefold()]
        return {"forgotten": store.async_remove(entries)}

    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_MEMORY_LIST,
        async_list,
        LIST_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_MEMORY_FORGET,
        async_forget,
        FORGET_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


def _box(minimum: int, maximum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX
        )
    )


def memory_fields(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The agent's memory options: on or off, its bounds, requests without a user."""
    return {
        vol.Required(
            CONF_MEMORY, default=options.get(CONF_MEMORY, DEFAULT_MEMORY)
        ): BooleanSelector(),
        vol.Required(
            CONF_MEMORY_MAX_ENTRIES,
            default=options.get(CONF_MEMORY_MAX_ENTRIES, DEFAULT_MEMORY_MAX_ENTRIES),
        ): _box(1, 500),
        vol.Required(
            CONF_MEMORY_MAX_CHARS,
            default=options.get(CONF_MEMORY_MAX_CHARS, DEFAULT_MEMORY_MAX_CHARS),
        ): _box(100, 20000),
        vol.Required(
            CONF_MEMORY_WITHOUT_USER,
            default=options.get(CONF_MEMORY_WITHOUT_USER, DEFAULT_MEMORY_WITHOUT_USER),
        ): BooleanSelector(),
    }
