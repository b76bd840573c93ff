"""Extended Ollama Conversation: a private assistant on your own Ollama server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_TIMEOUT, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .client import InvalidAuth, OllamaClient, OllamaError, display_host
from .const import DEFAULT_TIMEOUT, DEFAULT_VERIFY_SSL, DOMAIN

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


@dataclass(slots=True)
class OllamaRuntimeData:
    """What a loaded server entry holds while it runs."""

    client: OllamaClient


type OllamaConfigEntry = ConfigEntry[OllamaRuntimeData]


def client_from_config(data: Mapping[str, Any]) -> OllamaClient:
    """Build a client from a server entry's data (or a flow's input)."""
    return OllamaClient(
        data[CONF_URL],
        api_key=data.get(CONF_API_KEY),
        verify_ssl=data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL),
        timeout=data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT),
    )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration; everything happens per config entry."""
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OllamaConfigEntry) -> bool:
    """Connect to the server; Home Assistant retries by itself while it is down."""
    client = client_from_config(entry.data)
    host = display_host(client.url)
    try:
        await client.list_models()
    except InvalidAuth as err:
        await client.close()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"host": host},
        ) from err
    except OllamaError as err:
        await client.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="server_unavailable",
            translation_placeholders={"host": host, "error": str(err)},
        ) from err

    entry.runtime_data = OllamaRuntimeData(client=client)
    entry.async_on_unload(client.close)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: OllamaConfigEntry) -> bool:
    """Unload a server entry; its client is closed by the unload callback."""
    return True
