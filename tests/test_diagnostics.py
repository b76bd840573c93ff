"""Diagnostics: what a person attaches to a public issue holds no secret."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_KEY, CONF_TIMEOUT, CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.extended_ollama_conversation.const import (
    CONF_USER_TOOLS,
    DOMAIN,
)

from .conftest import AGENT_OPTIONS
from .helpers import ask
from .ollama_stub import OllamaStub
from .ollama_stub.server import OLLAMA_VERSION

API_KEY = "sk-secret-123"
PASSWORD = "hunter2"
TOOL_TOKEN = "tok-weather-987"
TOOL_PASSWORD = "pa55-in-url"
USER_TOOLS = f"""
- name: weather
  kind: rest
  description: The weather outside
  url: https://bob:{TOOL_PASSWORD}@weather.example/now?api_key={TOOL_TOKEN}x
  headers:
    X-Custom: {TOOL_TOKEN}
    Authorization: Bearer {TOOL_TOKEN}
- name: status
  kind: template
  description: A status line
  template: "ok"
"""


@pytest.fixture
async def secret_entry(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> MockConfigEntry:
    """A loaded entry with an API key, a password in its URL and secrets in a tool."""
    ollama_stub.token = API_KEY
    url = ollama_stub.url.replace("http://", f"http://user:{PASSWORD}@")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        data={CONF_URL: url, CONF_API_KEY: API_KEY, CONF_TIMEOUT: 2},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation",
                data={**AGENT_OPTIONS, CONF_USER_TOOLS: USER_TOOLS},
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ollama_stub: OllamaStub,
    secret_entry: MockConfigEntry,
) -> None:
    """Neither the key, nor the URL's password, nor the tool's token and password."""
    ollama_stub.reply("Hello.")
    await ask(hass, "hello")
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, secret_entry
    )
    text = json.dumps(diagnostics)
    for secret in (API_KEY, PASSWORD, TOOL_TOKEN, TOOL_PASSWORD):
        assert secret not in text, secret

    data: dict[str, Any] = diagnostics["entry"]["data"]
    assert data[CONF_API_KEY] == "**REDACTED**"
    assert data[CONF_URL] == ollama_stub.url.replace("http://", "http://**REDACTED**@")
    server: dict[str, Any] = diagnostics["server"]
    assert server["reachable"] is True
    assert server["version"] == OLLAMA_VERSION
    assert server["installed_models"] == [
        {
            "name": "qwen2.5:3b",
            "size": 1_929_912_432,
            "capabilities": ["completion", "tools"],
        }
    ]
    (agent,) = diagnostics["agents"]
    options = agent["options"]
    assert options["model"] == "qwen2.5:3b"
    weather, status = options[CONF_USER_TOOLS]
    assert weather["name"] == "weather"
    assert weather["headers"] == "**REDACTED**"
    assert weather["url"].startswith("https://**REDACTED**@weather.example/now?")
    assert status["template"] == "ok"
    usage = diagnostics["usage"]
    assert usage["turns"] == 1
    assert usage["prompt_tokens"] > 0
    # The turn's figures, never its words (the agent's option is off).
    (turn,) = diagnostics["recent_turns"]
    assert turn["outcome"] == "answered"
    assert turn["prompt_tokens"] > 0
    assert "text" not in turn
    assert "answer" not in turn
    assert "Hello." not in json.dumps(diagnostics["recent_turns"])
    assert agent["figures"]["requests"] == 1


async def test_diagnostics_of_a_server_that_is_down(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """The last refresh failed: diagnostics say so instead of failing."""
    await ollama_stub.stop()
    coordinator = agent_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, agent_entry)
    server: dict[str, Any] = diagnostics["server"]
    assert server["reachable"] is False
    assert server["failing_since"] is not None
