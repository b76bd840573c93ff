"""Fixtures shared by the whole suite: the Ollama stand-in and a server entry for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import gc
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import (
    CONF_LLM_HASS_API,
    CONF_MODEL,
    CONF_TIMEOUT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import (
    CONF_DIRECT_ANSWERS,
    CONF_NUM_CTX,
    CONF_PREFER_LOCAL,
    CONF_WARM_UP,
    DOMAIN,
)

from .ollama_stub import OllamaStub


@pytest.fixture(autouse=True)
async def setup_home_assistant(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Load the core component conversation relies on, and allow custom integrations."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture(autouse=True)
def no_deprecated_calls(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which Home Assistant reports the integration's use of an old API.

    Home Assistant only logs such a report for a custom integration, and the API stops
    working a few releases later.
    """
    yield
    reports = [
        record.getMessage()
        for stage in ("setup", "call")
        for record in caplog.get_records(stage)
        if record.name == "homeassistant.helpers.frame"
        and f"custom integration '{DOMAIN}'" in record.getMessage()
    ]
    assert not reports


@pytest.fixture
async def ollama_stub(socket_enabled: None) -> AsyncIterator[OllamaStub]:
    """A running stand-in on 127.0.0.1 with one tool-capable model installed."""
    stub = OllamaStub()
    await stub.start()
    yield stub
    await _finalize_abandoned_streams()
    await stub.stop()


async def _finalize_abandoned_streams() -> None:
    """Let streams that an error line ended close now, not during the next check.

    When Ollama reports an error inside a stream, the ollama client raises out of
    httpx's line iterator and leaves it suspended; whenever the garbage collector finds
    it, asyncio schedules its closing as a task. Collected here, that task finishes
    before the harness looks for lingering tasks, instead of at a moment set by load.
    """
    gc.collect()
    for _ in range(3):
        await asyncio.sleep(0)


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


AGENT_OPTIONS: dict[str, Any] = {
    CONF_MODEL: "qwen2.5:3b",
    CONF_LLM_HASS_API: [llm.LLM_API_ASSIST],
    CONF_PREFER_LOCAL: False,
    CONF_NUM_CTX: 8192,
    # The warm-up's own request would take the first scripted reply: tests/test_warmup.py
    # turns it on where it is tested.
    CONF_WARM_UP: False,
    # Most tests script the model's words after a tool call; tests/test_answers.py
    # tests the answers the integration gives from the results instead (the default).
    CONF_DIRECT_ANSWERS: False,
}
TASK_OPTIONS: dict[str, Any] = {CONF_MODEL: "qwen2.5:3b"}
AGENT_ID = "conversation.ollama_conversation"
TASK_ID = "ai_task.ollama_ai_task"


@pytest.fixture
async def home(hass: HomeAssistant) -> None:
    """The demo integration's home: real lights, locks, climates and covers.

    The front door lock is exposed to Assist (locks are not exposed by default).
    """
    assert await async_setup_component(hass, "demo", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", "lock.front_door", True)


@pytest.fixture
def agent_options() -> dict[str, Any]:
    """The conversation agent's options; tests override it to change them."""
    return dict(AGENT_OPTIONS)


@pytest.fixture
async def agent_entry(
    hass: HomeAssistant,
    home: None,
    entry_data: dict[str, Any],
    agent_options: dict[str, Any],
) -> MockConfigEntry:
    """A loaded server entry with one conversation agent and one AI task."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        data={**entry_data, CONF_TIMEOUT: 2},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation",
                data={CONF_WARM_UP: False, **agent_options},
                title="Ollama Conversation",
                unique_id=None,
            ),
            ConfigSubentryData(
                subentry_type="ai_task_data",
                data=TASK_OPTIONS,
                title="Ollama AI Task",
                unique_id=None,
            ),
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
