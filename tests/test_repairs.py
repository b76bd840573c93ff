"""Repairs: a server down for long, an agent's model gone, a model without tools."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import issue_registry as ir, llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import (
    CONF_RATE_PER_MINUTE,
    CONF_RATE_PER_USER_HOUR,
    CONF_UNREACHABLE_MINUTES,
    DOMAIN,
)

from .conftest import AGENT_OPTIONS
from .helpers import ask, speech
from .ollama_stub import OllamaStub
from .test_monitor import move_time


def issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    """The integration's repair issue with that id, if it is raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def subentry_of(entry: MockConfigEntry, subentry_type: str) -> Any:
    """The entry's one subentry of a type."""
    return next(
        s for s in entry.subentries.values() if s.subentry_type == subentry_type
    )


@pytest.fixture
async def repairs(hass: HomeAssistant) -> Any:
    """The repairs integration's flow manager, as the Repairs page uses it."""
    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    return hass.data[REPAIRS_DOMAIN]["flow_manager"]


async def test_server_unreachable_for_15_minutes_raises_an_issue_until_it_answers(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Not at the first failure, nor at 14 minutes; at 16; gone when it answers."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    issue_id = f"server_unreachable_{config_entry.entry_id}"
    await ollama_stub.stop()
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is None
    await move_time(hass, freezer, 14 * 60)
    assert issue(hass, issue_id) is None
    await move_time(hass, freezer, 2 * 60)
    raised = issue(hass, issue_id)
    assert raised is not None
    assert not raised.is_fixable
    assert raised.severity is ir.IssueSeverity.ERROR
    assert raised.translation_placeholders is not None
    assert raised.translation_placeholders["host"] == config_entry.title

    await ollama_stub.start()
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is None


async def set_server_options(
    hass: HomeAssistant, entry: MockConfigEntry, **options: int
) -> None:
    """Submit the server's options form as the Configure dialog does."""
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    done = await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {CONF_RATE_PER_MINUTE: 20, CONF_RATE_PER_USER_HOUR: 60, **options},
    )
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_the_minutes_before_the_unreachable_issue_are_a_server_option(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Set to 3 minutes (refresh every 10 s): not at 2:50, raised at 3, saying 3."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await set_server_options(
        hass, config_entry, **{CONF_SCAN_INTERVAL: 10, CONF_UNREACHABLE_MINUTES: 3}
    )
    issue_id = f"server_unreachable_{config_entry.entry_id}"
    await ollama_stub.stop()
    await move_time(hass, freezer, 11)  # the first failed refresh
    for _ in range(16):
        await move_time(hass, freezer, 10)
    assert issue(hass, issue_id) is None  # 2 min 40 s after the first failure
    await move_time(hass, freezer, 10)
    assert issue(hass, issue_id) is None  # 2 min 50 s
    await move_time(hass, freezer, 11)
    raised = issue(hass, issue_id)
    assert raised is not None
    assert raised.translation_placeholders == {
        "host": config_entry.title,
        "minutes": "3",
    }

    await ollama_stub.start()
    await move_time(hass, freezer, 11)
    assert issue(hass, issue_id) is None


@pytest.mark.parametrize("minutes", [0, 1441])
async def test_the_unreachable_minutes_stay_between_a_minute_and_a_day(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    minutes: int,
) -> None:
    """The form refuses 0 and more than 1440 minutes, and keeps the 15 by default."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    flow = await hass.config_entries.options.async_init(config_entry.entry_id)
    defaults = {
        str(key): key.default() for key in flow["data_schema"].schema if key.default
    }
    assert defaults[CONF_UNREACHABLE_MINUTES] == 15
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            flow["flow_id"], {**defaults, CONF_UNREACHABLE_MINUTES: minutes}
        )
    assert CONF_UNREACHABLE_MINUTES not in config_entry.options


async def test_raising_the_minutes_during_an_outage_delays_the_issue(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Down since start-up with 2 minutes set, raised to 30 after one: not before 30."""
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_UNREACHABLE_MINUTES: 2}
    )
    await ollama_stub.stop()
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    issue_id = f"server_unreachable_{config_entry.entry_id}"
    await move_time(hass, freezer, 60)
    await set_server_options(hass, config_entry, **{CONF_UNREACHABLE_MINUTES: 30})
    for _ in range(21):
        await move_time(hass, freezer, 80)
    assert issue(hass, issue_id) is None  # 29 min
    for _ in range(2):
        await move_time(hass, freezer, 80)
    raised = issue(hass, issue_id)
    assert raised is not None
    assert raised.translation_placeholders is not None
    assert raised.translation_placeholders["minutes"] == "30"


async def test_a_removed_model_raises_an_issue_that_clears_when_it_is_back(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Seen in the model list at a refresh, for each agent using it."""
    agent = subentry_of(agent_entry, "conversation")
    issue_id = f"model_missing_{agent_entry.entry_id}_{agent.subentry_id}"
    assert issue(hass, issue_id) is None
    removed = ollama_stub.models.pop("qwen2.5:3b")
    await move_time(hass, freezer, 61)
    raised = issue(hass, issue_id)
    assert raised is not None
    assert raised.is_fixable
    assert raised.translation_placeholders == {
        "agent": "Ollama Conversation",
        "model": "qwen2.5:3b",
        "host": agent_entry.title,
    }
    task = subentry_of(agent_entry, "ai_task_data")
    assert issue(hass, f"model_missing_{agent_entry.entry_id}_{task.subentry_id}")

    ollama_stub.models[removed.name] = removed
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is None


async def test_removing_the_server_removes_its_issues(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No issue is left behind about a server that is no longer set up."""
    agent = subentry_of(agent_entry, "conversation")
    issue_id = f"model_missing_{agent_entry.entry_id}_{agent.subentry_id}"
    ollama_stub.models.pop("qwen2.5:3b")
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is not None
    await hass.config_entries.async_remove(agent_entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, issue_id) is None


async def test_fix_flow_picks_another_installed_model(
    hass: HomeAssistant,
    repairs: Any,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The agent gets the chosen model, the issue goes, and the agent answers with it."""
    agent = subentry_of(agent_entry, "conversation")
    issue_id = f"model_missing_{agent_entry.entry_id}_{agent.subentry_id}"
    ollama_stub.models.pop("qwen2.5:3b")
    ollama_stub.add_model("llama3.2:3b")
    ollama_stub.add_model("nomic-embed-text:latest", capabilities=["embedding"])
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is not None

    flow = await repairs.async_init(DOMAIN, context={"issue_id": issue_id})
    assert flow["type"] is FlowResultType.MENU
    assert flow["menu_options"] == ["pull", "pick"]
    form = await repairs.async_configure(flow["flow_id"], {"next_step_id": "pick"})
    assert form["type"] is FlowResultType.FORM
    choices = form["data_schema"].schema[CONF_MODEL].config["options"]
    assert [choice["value"] for choice in choices] == ["llama3.2:3b"]
    done = await repairs.async_configure(form["flow_id"], {CONF_MODEL: "llama3.2:3b"})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    assert agent_entry.subentries[agent.subentry_id].data[CONF_MODEL] == "llama3.2:3b"
    assert issue(hass, issue_id) is None
    ollama_stub.reply("Hello.")
    assert speech(await ask(hass, "hello")) == "Hello."
    assert ollama_stub.requests_to("/api/chat")[-1].body["model"] == "llama3.2:3b"


async def test_fix_flow_pulls_the_model_again(
    hass: HomeAssistant,
    repairs: Any,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The server pulls it, with progress; the issue goes and the model is listed."""
    agent = subentry_of(agent_entry, "conversation")
    issue_id = f"model_missing_{agent_entry.entry_id}_{agent.subentry_id}"
    ollama_stub.registry["qwen2.5:3b"] = ollama_stub.models.pop("qwen2.5:3b")
    await move_time(hass, freezer, 61)
    assert issue(hass, issue_id) is not None

    flow = await repairs.async_init(DOMAIN, context={"issue_id": issue_id})
    progress = await repairs.async_configure(flow["flow_id"], {"next_step_id": "pull"})
    assert progress["type"] is FlowResultType.SHOW_PROGRESS
    assert progress["progress_action"] == "pull"
    await hass.async_block_till_done(wait_background_tasks=True)
    done = await repairs.async_configure(flow["flow_id"])
    assert done["type"] is FlowResultType.CREATE_ENTRY

    assert ollama_stub.requests_to("/api/pull")[-1].body["model"] == "qwen2.5:3b"
    assert "qwen2.5:3b" in ollama_stub.models
    assert issue(hass, issue_id) is None
    assert agent_entry.subentries[agent.subentry_id].data[CONF_MODEL] == "qwen2.5:3b"
    assert not repairs.async_progress()


async def test_a_failed_pull_keeps_the_issue(
    hass: HomeAssistant,
    repairs: Any,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The model is in no registry: the flow says so and the issue stays."""
    agent = subentry_of(agent_entry, "conversation")
    issue_id = f"model_missing_{agent_entry.entry_id}_{agent.subentry_id}"
    ollama_stub.models.pop("qwen2.5:3b")
    await move_time(hass, freezer, 61)

    flow = await repairs.async_init(DOMAIN, context={"issue_id": issue_id})
    progress = await repairs.async_configure(flow["flow_id"], {"next_step_id": "pull"})
    assert progress["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await repairs.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "pull_failed"
    assert "does not exist" in result["description_placeholders"]["error"]
    assert issue(hass, issue_id) is not None


@pytest.fixture
async def tool_less_entry(
    hass: HomeAssistant, ollama_stub: OllamaStub, home: None
) -> MockConfigEntry:
    """A server whose agent, with Assist's tools, uses a model without tool support."""
    ollama_stub.add_model("gemma:2b", capabilities=["completion"])
    ollama_stub.add_model("qwen3:4b", capabilities=["completion", "tools", "thinking"])
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        data={"url": ollama_stub.url, "timeout": 2},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation",
                data={
                    **AGENT_OPTIONS,
                    CONF_MODEL: "gemma:2b",
                    CONF_LLM_HASS_API: [llm.LLM_API_ASSIST],
                },
                title="Ollama Conversation",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_model_without_tools_fix_flow_picks_a_model_with_tools(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    tool_less_entry: MockConfigEntry,
    repairs: Any,
) -> None:
    """Only models with tools are offered; the agent's model changes; issue gone."""
    ollama_stub.reply("Hi.")
    assert speech(await ask(hass, "hello")) == "Hi."
    issue_id = "model_without_tools_gemma:2b"
    raised = issue(hass, issue_id)
    assert raised is not None
    assert raised.is_fixable
    assert raised.translation_placeholders == {"model": "gemma:2b"}

    flow = await repairs.async_init(DOMAIN, context={"issue_id": issue_id})
    assert flow["type"] is FlowResultType.FORM
    assert flow["description_placeholders"]["agents"] == "Ollama Conversation"
    choices = flow["data_schema"].schema[CONF_MODEL].config["options"]
    assert [choice["value"] for choice in choices] == ["qwen2.5:3b", "qwen3:4b"]
    done = await repairs.async_configure(flow["flow_id"], {CONF_MODEL: "qwen3:4b"})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    agent = subentry_of(tool_less_entry, "conversation")
    assert agent.data[CONF_MODEL] == "qwen3:4b"
    assert issue(hass, issue_id) is None
    ollama_stub.reply("Hi again.")
    assert speech(await ask(hass, "hello")) == "Hi again."
    last = ollama_stub.requests_to("/api/chat")[-1].body
    assert last["model"] == "qwen3:4b"
    assert last["tools"]


async def test_model_without_tools_and_no_tool_model_installed(
    hass: HomeAssistant,
    repairs: Any,
    ollama_stub: OllamaStub,
    tool_less_entry: MockConfigEntry,
) -> None:
    """With no model that has tools on the server, the flow says to pull one."""
    ollama_stub.reply("Hi.")
    await ask(hass, "hello")
    for name in ("qwen2.5:3b", "qwen3:4b"):
        ollama_stub.models.pop(name)
    coordinator = tool_less_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    flow = await repairs.async_init(
        DOMAIN, context={"issue_id": "model_without_tools_gemma:2b"}
    )
    assert flow["type"] is FlowResultType.ABORT
    assert flow["reason"] == "no_tool_models"
    assert issue(hass, "model_without_tools_gemma:2b") is not None


async def test_a_server_down_since_start_up_raises_the_issue_too(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant retries the setup by itself; after 15 minutes the issue says why."""
    await ollama_stub.stop()
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    issue_id = f"server_unreachable_{config_entry.entry_id}"
    for _ in range(11):
        await move_time(hass, freezer, 80)
    assert issue(hass, issue_id) is None  # 14 min 40 s
    await move_time(hass, freezer, 80)
    assert issue(hass, issue_id) is not None

    await ollama_stub.start()
    await move_time(hass, freezer, 600)  # Home Assistant's longest wait between tries
    assert config_entry.state is ConfigEntryState.LOADED
    assert issue(hass, issue_id) is None
