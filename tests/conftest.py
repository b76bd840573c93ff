"""Fixtures shared by the whole suite: the Ollama stand-in and a server entry for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.const import CONF_TIMEOUT, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .ollama_stub import OllamaStub


@pytest.fixture(autouse=True)
async def setup_home_assistant(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Load the core component conversation relies on, and allow custom integrations."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture
async def ollama_stub(socket_enabled: None) -> AsyncIterator[OllamaStub]:
    """A running stand-in on 127.0.0.1 with one tool-capable model installed."""
    stub = OllamaStub()
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
def entry_data(ollama_stub: OllamaStub) -> dict[str, Any]:
    """Server entry data pointing at the stand-in, with a short timeout."""
    return {CONF_URL: ollama_stub.url, CONF_VERIFY_SSL: True, CONF_TIMEOUT: 5}


@pytest.fixture
def config_entry(hass: HomeAssistant, entry_data: dict[str, Any]) -> MockConfigEntry:
    """A server entry for the stand-in, added to Home Assistant but not set up."""
    entry = MockConfigEntry(domain=DOMAIN, title="127.0.0.1", data=entry_data)
    entry.add_to_hass(hass)
    return entry
