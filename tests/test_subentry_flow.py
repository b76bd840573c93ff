"""Adding and changing agents: the model list, pulling a model, options without reloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_NAME
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import (
    EVENT_DATA_ENTRY_FLOW_PROGRESS_UPDATE,
    FlowResultType,
)
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import AGENT_ID
from .helpers import ask
from .ollama_stub import OllamaStub

NEW_AGENT: dict[str, Any] = {
    CONF_NAME: "Fast agent",
    CONF_MODEL: "qwen2.5:3b",
    CONF_LLM_HASS_API: ["assist"],
    "prefer_local": True,
    "num_ctx": 4096,
    "keep_alive": 300,
    "think": False,
    "max_history": 10,
    "max_tool_iterations": 4,
}


async def _start(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str = "conversation"
) -> Any:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": "user"}
    )


def _model_choices(result: Any) -> list[dict[str, str]]:
    for key, selector in result["data_schema"].schema.items():
        if key == CONF_MODEL:
            return list(selector.config["options"])
    raise AssertionError("no model field")


async def test_add_agent_from_the_server_list(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Models are listed with their capabilities; saving adds a working agent."""
    ollama_stub.add_model("llava:7b", capabilities=["completion", "vision"])
    ollama_stub.add_model("nomic-embed-text:latest", capabilities=["embedding"])
    ollama_stub.add_model("qwen3:4b", capabilities=["completion", "tools", "thinking"])
    result = await _start(hass, agent_entry)
    assert result["type"] is FlowResultType.FORM
    assert _model_choices(result) == [
        {"value": "qwen2.5:3b", "label": "qwen2.5:3b (tools)"},
        {"value": "qwen3:4b", "label": "qwen3:4b (tools, thinking)"},
        {"value": "llava:7b", "label": "llava:7b (vision)"},
    ]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], NEW_AGENT
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Fast agent"
    assert result["data"][CONF_MODEL] == "qwen2.5:3b"
    assert CONF_NAME not in result["data"]
    await hass.async_block_till_done()
    assert hass.states.get("conversation.fast_agent") is not None
    ollama_stub.reply("Hi.")
    assert agent_entry.state is ConfigEntryState.LOADED


async def test_pull_a_model_with_progress(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model typed in that is not on the server is pulled, with progress, then saved."""
    ollama_stub.registry["llama3.2:3b"] = ollama_stub.models["qwen2.5:3b"]
    progress: list[float] = []

    @callback
    def record(event: Event) -> None:
        progress.append(event.data["progress"])

    hass.bus.async_listen(EVENT_DATA_ENTRY_FLOW_PROGRESS_UPDATE, record)
    result = await _start(hass, agent_entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**NEW_AGENT, CONF_MODEL: "llama3.2:3b"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "download"
    assert result["description_placeholders"]["model"] == "llama3.2:3b"
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL] == "llama3.2:3b"
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    assert "llama3.2:3b" in ollama_stub.models


async def test_pull_failure_is_reported(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model the registry does not have aborts with the server's reason."""
    result = await _start(hass, agent_entry, "ai_task_data")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Task",
            CONF_MODEL: "no-such-model:1b",
            "num_ctx": 4096,
            "keep_alive": -1,
            "think": False,
        },
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "download_failed"
    assert "file does not exist" in result["description_placeholders"]["error"]


async def test_changing_options_needs_no_reload(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """New options apply at the next turn; the entry and its entities stay loaded."""
    entity_before = hass.data["entity_components"]["conversation"].get_entity(AGENT_ID)
    subentry_id = next(
        sid
        for sid, sub in agent_entry.subentries.items()
        if sub.subentry_type == "conversation"
    )
    result = await agent_entry.start_subentry_reconfigure_flow(hass, subentry_id)
    assert result["step_id"] == "set_options"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_MODEL: "qwen2.5:3b",
            CONF_LLM_HASS_API: ["assist"],
            "prefer_local": False,
            "temperature": 0.7,
            "top_k": 20,
            "num_ctx": 16384,
            "keep_alive": 0,
            "think": False,
            "max_history": 5,
            "max_tool_iterations": 3,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert (
        hass.data["entity_components"]["conversation"].get_entity(AGENT_ID)
        is entity_before
    )
    ollama_stub.reply("Hello.")
    await ask(hass, "hello")
    body = ollama_stub.requests_to("/api/chat")[-1].body
    assert body["options"] == {"num_ctx": 16384, "temperature": 0.7, "top_k": 20}
    assert body["keep_alive"] == "0s"


async def test_removing_an_agent_removes_its_entity(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Removing a subentry reloads the entry and the agent is gone."""
    subentry_id = next(
        sid
        for sid, sub in agent_entry.subentries.items()
        if sub.subentry_type == "conversation"
    )
    assert hass.config_entries.async_remove_subentry(agent_entry, subentry_id)
    await hass.async_block_till_done()
    assert er.async_get(hass).async_get(AGENT_ID) is None
    assert agent_entry.state is ConfigEntryState.LOADED


async def test_server_not_loaded_or_down(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """No agent can be added while the server is down or its entry not loaded."""
    await ollama_stub.stop()
    result = await _start(hass, agent_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    await hass.config_entries.async_unload(agent_entry.entry_id)
    result = await _start(hass, agent_entry)
    assert result["reason"] == "entry_not_loaded"


@pytest.mark.parametrize("kind", ["conversation", "ai_task_data"])
async def test_every_form_field_has_a_label(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    kind: str,
) -> None:
    """Each option shown in the form has translated text."""
    strings = json.loads(
        (
            Path(__file__).parent.parent
            / "custom_components/extended_ollama_conversation/strings.json"
        ).read_text()
    )
    step = strings["config_subentries"][kind]["step"]["set_options"]
    ollama_stub.add_model("nomic-embed-text:latest", capabilities=["embedding"])
    result = await _start(hass, agent_entry, kind)
    shown = {str(key) for key in result["data_schema"].schema}
    assert ("embedding_model" in shown) is (kind == "conversation")
    for key in result["data_schema"].schema:
        assert str(key) in step["data"], f"{kind}: {key} has no label"
        if str(key) != CONF_NAME:
            assert str(key) in step["data_description"], (
                f"{kind}: {key} has no description"
            )
