"""The three agents, set up as a person would: config flows and the agent's form.

Each model agent's server entry points at the recording proxy. The forms are submitted
with the values they suggest, changed only where a person must choose (the model, and
the Assist API for core's integration), so this integration runs with its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_NAME, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import entity_registry as er, llm

from custom_components.extended_ollama_conversation.const import DOMAIN

MODEL = "qwen2.5-coder:1.5b"
RULE_BASED_AGENT = "conversation.home_assistant"


@dataclass(frozen=True, slots=True)
class Agent:
    """A conversation agent under test."""

    label: str
    agent_id: str
    uses_model: bool
    # The server entry's data and the agent's options, as the forms saved them.
    settings: str = ""


async def async_rule_based_agent(hass: HomeAssistant) -> Agent:
    """Home Assistant's own sentence matcher, no model."""
    return Agent("rule-based", RULE_BASED_AGENT, uses_model=False)


async def async_model_agent(
    hass: HomeAssistant,
    domain: str,
    label: str,
    url: str,
    *,
    server: dict[str, Any] | None = None,
    agent: dict[str, Any] | None = None,
) -> Agent:
    """Add a server entry for `url` and one conversation agent on it, through flows."""
    result = await hass.config_entries.flow.async_init(
        domain, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _accept(result, {CONF_URL: url, **(server or {})})
    )
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        raise RuntimeError(f"{domain}: the server entry was not created: {result}")
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    choices = {CONF_NAME: label, CONF_MODEL: MODEL, **(agent or {})}
    done = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], _accept(flow, choices)
    )
    if done["type"] is not FlowResultType.CREATE_ENTRY:
        raise RuntimeError(f"{domain}: the agent was not created: {done}")
    await hass.async_block_till_done()
    subentry = next(iter(entry.subentries.values()))
    settings = f"server {dict(entry.data)}, agent {dict(subentry.data)}"
    return Agent(label, _conversation_entity(hass, entry), True, settings)


async def async_this_integration(
    hass: HomeAssistant, url: str, agent: dict[str, Any] | None = None, **server: Any
) -> Agent:
    """The agent of extended_ollama_conversation, with the defaults its form suggests."""
    return await async_model_agent(
        hass, DOMAIN, "extended", url, server=server or None, agent=agent
    )


async def async_core_ollama(hass: HomeAssistant, url: str) -> Agent:
    """Core's ollama integration with its Assist API, as a person would set it up."""
    return await async_model_agent(
        hass,
        "ollama",
        "core ollama",
        url,
        agent={CONF_LLM_HASS_API: [llm.LLM_API_ASSIST]},
    )


def _accept(form: FlowResult[Any, Any], choices: dict[str, Any]) -> dict[str, Any]:
    """The form's suggested and default values, with `choices` on top."""
    if form["type"] is not FlowResultType.FORM or form["data_schema"] is None:
        raise RuntimeError(f"expected a form, got {form}")
    values: dict[str, Any] = {}
    for marker in form["data_schema"].schema:
        suggested = (marker.description or {}).get("suggested_value")
        if suggested is not None:
            values[str(marker)] = suggested
    return {**values, **choices}


def _conversation_entity(hass: HomeAssistant, entry: ConfigEntry) -> str:
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    for entity in entities:
        if entity.domain == "conversation":
            return entity.entity_id
    raise RuntimeError(f"{entry.domain} created no conversation entity")
