"""Setting up, retrying and unloading a server entry."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from .ollama_stub import Fault, OllamaStub


async def test_setup_and_unload(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """A reachable server loads; unloading closes the connection pool."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    client = config_entry.runtime_data.client
    assert client.url == ollama_stub.url
    assert await client.list_models() == ["qwen2.5:3b"]

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert client._client._client.is_closed


async def test_retries_until_the_server_is_back(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """A server that is down puts the entry in retry; it loads by itself once it is up."""
    await ollama_stub.stop()
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Couldn't reach the Ollama server at 127.0.0.1" in (
        config_entry.reason or ""
    )

    await ollama_stub.start()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config_entry.state is ConfigEntryState.LOADED


async def test_server_error_retries(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """An HTTP 500 from the server (still starting, out of memory) is retried too."""
    ollama_stub.fail(Fault.SERVER_ERROR, path="/api/tags")
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config_entry.state is ConfigEntryState.LOADED
