"""Adding, reconfiguring and re-authenticating an Ollama server through the UI flow."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_TIMEOUT, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .ollama_stub import Fault, OllamaStub


async def _submit_user_step(hass: HomeAssistant, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


async def test_user_flow_creates_entry(
    hass: HomeAssistant, ollama_stub: OllamaStub
) -> None:
    """A typed host:port is normalised, checked against /api/tags and stored."""
    result = await _submit_user_step(
        hass, {CONF_URL: f" 127.0.0.1:{ollama_stub.port}/ ", CONF_TIMEOUT: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"127.0.0.1:{ollama_stub.port}"
    assert result["data"] == {
        CONF_URL: ollama_stub.url,
        CONF_VERIFY_SSL: True,
        CONF_TIMEOUT: 30,
    }
    assert ollama_stub.requests_to("/api/tags")
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_user_flow_with_api_key(
    hass: HomeAssistant, ollama_stub: OllamaStub
) -> None:
    """The key is trimmed, sent as a bearer token and stored."""
    ollama_stub.token = "s3cret"
    result = await _submit_user_step(
        hass, {CONF_URL: ollama_stub.url, CONF_API_KEY: " s3cret\n"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == "s3cret"
    assert ollama_stub.requests[-1].headers["Authorization"] == "Bearer s3cret"


@pytest.mark.parametrize(
    ("prepare", "url_suffix", "errors"),
    [
        (
            lambda stub: stub.fail(Fault.SERVER_ERROR, path="/api/tags"),
            "",
            {"base": "bad_response"},
        ),
        (lambda stub: setattr(stub, "token", "s3cret"), "", {"base": "invalid_auth"}),
        (lambda stub: None, "/not-ollama", {"base": "bad_response"}),
    ],
)
async def test_user_flow_server_errors(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    prepare: Any,
    url_suffix: str,
    errors: dict[str, str],
) -> None:
    """Each way the server can refuse shows its own error, and the form can be fixed."""
    prepare(ollama_stub)
    result = await _submit_user_step(hass, {CONF_URL: ollama_stub.url + url_suffix})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors

    ollama_stub.token = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: ollama_stub.url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_cannot_connect(
    hass: HomeAssistant, ollama_stub: OllamaStub
) -> None:
    """A server that refuses connections shows cannot_connect."""
    await ollama_stub.stop()
    result = await _submit_user_step(hass, {CONF_URL: ollama_stub.url})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_timeout(hass: HomeAssistant, ollama_stub: OllamaStub) -> None:
    """A server that accepts but never answers shows timeout after the configured time."""
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/tags", delay=8)
    result = await _submit_user_step(hass, {CONF_URL: ollama_stub.url, CONF_TIMEOUT: 5})
    assert result["errors"] == {"base": "timeout"}


@pytest.mark.parametrize("url", ["ftp://192.168.1.20", "http://", "http://host?x=1"])
async def test_user_flow_invalid_url(hass: HomeAssistant, url: str) -> None:
    """Addresses that are not http(s) are refused before any request is made."""
    result = await _submit_user_step(hass, {CONF_URL: url})
    assert result["errors"] == {CONF_URL: "invalid_url"}


async def test_user_flow_already_configured(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """The same server, however it is typed, can be added only once."""
    result = await _submit_user_step(hass, {CONF_URL: f"127.0.0.1:{ollama_stub.port}"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """Reconfigure changes URL, TLS check and timeout, keeps the key, and reloads."""
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_API_KEY: "s3cret"}
    )
    ollama_stub.token = "s3cret"
    await hass.config_entries.async_setup(config_entry.entry_id)
    other = OllamaStub()
    await other.start()
    other.token = "s3cret"

    result = await config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: "gopher://x", CONF_VERIFY_SSL: True, CONF_TIMEOUT: 5},
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: f"127.0.0.1:{other.port}", CONF_VERIFY_SSL: False, CONF_TIMEOUT: 90},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert config_entry.data == {
        CONF_URL: other.url,
        CONF_VERIFY_SSL: False,
        CONF_TIMEOUT: 90,
        CONF_API_KEY: "s3cret",
    }
    assert config_entry.title == f"127.0.0.1:{other.port}"
    assert config_entry.state is ConfigEntryState.LOADED
    assert (
        other.requests_to("/api/tags")[-1].headers["Authorization"] == "Bearer s3cret"
    )
    await other.stop()


async def test_reconfigure_to_a_server_already_added(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """Pointing one entry at another entry's server is refused."""
    MockConfigEntry(
        domain=DOMAIN, data={CONF_URL: "http://10.0.0.9:11434"}
    ).add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: "10.0.0.9", CONF_VERIFY_SSL: True, CONF_TIMEOUT: 5},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_when_server_starts_refusing(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """A 401 at setup starts re-authentication; a wrong key is shown, the right one fixes it."""
    ollama_stub.token = "new-key"
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_API_KEY: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"]["host"] == f"127.0.0.1:{ollama_stub.port}"

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_API_KEY: "new-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert config_entry.data[CONF_API_KEY] == "new-key"
    assert config_entry.state is ConfigEntryState.LOADED
