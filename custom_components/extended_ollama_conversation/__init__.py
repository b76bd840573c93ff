"""Extended Ollama Conversation: a private assistant on your own Ollama server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import (
    CONF_API_KEY,
    CONF_MODEL,
    CONF_TIMEOUT,
    CONF_URL,
    CONF_VERIFY_SSL,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
    llm,
)
from homeassistant.helpers.typing import ConfigType

from .agent_stats import async_remove_stats
from .client import InvalidAuth, OllamaClient, OllamaError, display_host
from .const import DEFAULT_TIMEOUT, DEFAULT_VERIFY_SSL, DOMAIN
from .context import device_index
from .coordinator import ServerCoordinator
from .issues import async_clear_entry_issues, async_note_unreachable
from .memory_services import async_setup_memory
from .prompt_fit import NUM_CTX_ISSUE_PREFIX
from .runtime import OllamaConfigEntry, OllamaRuntimeData
from .services import async_setup_services
from .tools.home_api import CompactHomeAPI
from .warmup import PromptWarmer

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = (
    Platform.AI_TASK,
    Platform.BINARY_SENSOR,
    Platform.CONVERSATION,
    Platform.SENSOR,
)


def client_from_config(data: Mapping[str, Any]) -> OllamaClient:
    """Build a client from a server entry's data (or a flow's input)."""
    return OllamaClient(
        data[CONF_URL],
        api_key=data.get(CONF_API_KEY),
        verify_ssl=data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL),
        timeout=data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT),
    )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the LLM API and the generate service; the rest happens per entry.

    The device index starts listening now, so that it knows what changed recently by
    the first request; it reads the registries only when first used. The memory is
    loaded and its services registered.
    """
    llm.async_register_api(hass, CompactHomeAPI(hass))
    device_index(hass)
    await async_setup_memory(hass)
    async_setup_services(hass)
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
        async_note_unreachable(hass, entry)  # a repair issue once it lasts
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="server_unavailable",
            translation_placeholders={"host": host, "error": str(err)},
        ) from err

    entry.runtime_data = OllamaRuntimeData(
        client=client,
        server_data=dict(entry.data),
        subentry_ids=frozenset(entry.subentries),
    )
    entry.async_on_unload(client.close)
    entry.async_on_unload(
        await entry.runtime_data.stats.async_start(
            hass, entry.entry_id, entry.subentries
        )
    )
    # The server just answered: a failure of this first read (an older server without
    # /api/ps, say) leaves the monitoring entities unavailable, not the agents.
    coordinator = entry.runtime_data.coordinator = ServerCoordinator(
        hass, entry, client
    )
    await coordinator.async_refresh()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    entry.runtime_data.warmer = PromptWarmer(hass, entry)
    entry.runtime_data.warmer.async_start()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: OllamaConfigEntry) -> bool:
    """Unload the agents; the client is closed by the unload callback."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: OllamaConfigEntry) -> None:
    """The server is removed: so are its agents' stored figures and its repair issues."""
    await async_remove_stats(hass, entry.entry_id)
    async_clear_entry_issues(hass, entry)


def _forget_raised_num_ctx(hass: HomeAssistant, runtime: OllamaRuntimeData) -> None:
    """Options changed: num_ctx is measured against them again at the next turn."""
    runtime.raised_num_ctx.clear()
    issues = ir.async_get(hass)
    for domain, issue_id in list(issues.issues):
        if domain == DOMAIN and issue_id.startswith(NUM_CTX_ISSUE_PREFIX):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


async def _async_entry_updated(hass: HomeAssistant, entry: OllamaConfigEntry) -> None:
    """Reload only when the server's settings changed or agents were added or removed.

    Agents read their options at each turn, so a changed option needs no reload; the
    device shown for the agent is brought up to date, and model capabilities are read
    again on the next turn.
    """
    runtime = entry.runtime_data
    if (
        entry.data != runtime.server_data
        or frozenset(entry.subentries) != runtime.subentry_ids
    ):
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    runtime.client.forget_model_info()
    runtime.models_without_tools.clear()
    _forget_raised_num_ctx(hass, runtime)
    if runtime.warmer is not None:
        runtime.warmer.async_schedule()
    devices = dr.async_get(hass)
    for subentry in entry.subentries.values():
        device = devices.async_get_device_by_identifier(
            (DOMAIN, subentry.subentry_id), entry.entry_id
        )
        if device is None:
            continue
        model, _, tag = subentry.data[CONF_MODEL].partition(":")
        devices.async_update_device(
            device.id, name=subentry.title, model=model, sw_version=tag or "latest"
        )
