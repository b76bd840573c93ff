"""The form of a conversation agent or an AI task: its fields and their checks.

The model choices come from the server's own list, each labelled with what it can do
(tools, vision, thinking). The routing fields are in routing_form.py, the safety
policy's in policy_form.py, the memory's in memory_services.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_NAME, CONF_PROMPT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TemplateSelector,
    TextSelector,
    TextSelectorConfig,
)
import probatio as vol

from .client import ModelInfo
from .const import (
    CONF_CONTEXT_BUDGET,
    CONF_DIRECT_ANSWERS,
    CONF_EMBEDDING_MODEL,
    CONF_EVENT_INCLUDE_TEXT,
    CONF_KEEP_ALIVE,
    CONF_MAX_HISTORY,
    CONF_MAX_TOOL_ITERATIONS,
    CONF_NUM_CTX,
    CONF_NUM_PREDICT,
    CONF_PREFER_LOCAL,
    CONF_TEMPERATURE,
    CONF_THINK,
    CONF_TOP_K,
    CONF_TOP_P,
    CONF_USER_TOOLS,
    CONF_WARM_UP,
    DEFAULT_AI_TASK_NAME,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_DIRECT_ANSWERS,
    DEFAULT_EVENT_INCLUDE_TEXT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_HISTORY,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DEFAULT_NUM_CTX,
    DEFAULT_PREFER_LOCAL,
    DEFAULT_TEMPERATURE,
    DEFAULT_THINK,
    DEFAULT_WARM_UP,
    DOMAIN,
    MAX_NUM_CTX,
    MIN_CONTEXT_BUDGET,
    MIN_NUM_CTX,
    SUBENTRY_CONVERSATION,
)
from .memory_services import memory_fields
from .policy_form import policy_fields
from .tools.user_tools import UserToolsError, parse_user_tools

_SHOWN_CAPABILITIES = ("tools", "vision", "thinking")


def _number(
    minimum: float,
    maximum: float,
    step: float,
    unit: str | None = None,
    *,
    slider: bool = False,
) -> NumberSelector:
    """A number box; a slider for the sampling figures, where a feel for it suffices."""
    config = NumberSelectorConfig(
        min=minimum,
        max=maximum,
        step=step,
        mode=NumberSelectorMode.SLIDER if slider else NumberSelectorMode.BOX,
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def model_options(infos: list[ModelInfo]) -> list[SelectOptionDict]:
    """Installed chat models, tool-capable first, each labelled with its capabilities."""
    chat_models = [
        info
        for info in infos
        if "completion" in info.capabilities or not info.capabilities
    ]
    chat_models.sort(key=lambda info: (not info.supports_tools, info.name))
    return [
        SelectOptionDict(
            value=info.name,
            label=(
                f"{info.name} ({', '.join(shown)})"
                if (shown := [c for c in _SHOWN_CAPABILITIES if c in info.capabilities])
                else f"{info.name} (no tools)"
            ),
        )
        for info in chat_models
    ]


def agent_schema(
    hass: HomeAssistant,
    subentry_type: str,
    options: Mapping[str, Any],
    models: list[SelectOptionDict],
    *,
    is_new: bool,
    embedding_models: list[str] | None = None,
) -> vol.Schema:
    """The options form of an agent or AI task, its fields in the order shown."""
    conversation = subentry_type == SUBENTRY_CONVERSATION
    fields: dict[vol.Marker, Any] = {}
    if is_new:
        default_name = (
            DEFAULT_CONVERSATION_NAME if conversation else DEFAULT_AI_TASK_NAME
        )
        fields[
            vol.Required(CONF_NAME, default=options.get(CONF_NAME) or default_name)
        ] = TextSelector()
    fields[
        vol.Required(
            CONF_MODEL, description={"suggested_value": options.get(CONF_MODEL)}
        )
    ] = SelectSelector(
        SelectSelectorConfig(
            options=models, mode=SelectSelectorMode.DROPDOWN, custom_value=True
        )
    )
    if conversation:
        fields |= _instruction_fields(hass, options, is_new=is_new)
    fields |= _model_run_fields(options)
    if conversation:
        fields |= _limit_fields(options)
        fields |= policy_fields(options)  # --- safety policy (tools/policy.py) ---
        fields |= _embedding_field(options, embedding_models)
        fields |= _user_tools_field(options)
        fields |= memory_fields(options)  # --- memory (memory_services.py) ---
        fields |= _boolean_fields(options, _EVENT_FIELDS)  # turn_record.py
    return vol.Schema(fields)


# Switches of a conversation agent, each with its default.
_CACHE_FIELDS = (  # Ollama's prompt cache warmed (warmup.py), answers from results
    (CONF_WARM_UP, DEFAULT_WARM_UP),
    (CONF_DIRECT_ANSWERS, DEFAULT_DIRECT_ANSWERS),
)
_EVENT_FIELDS = ((CONF_EVENT_INCLUDE_TEXT, DEFAULT_EVENT_INCLUDE_TEXT),)


def _boolean_fields(
    options: Mapping[str, Any], keys: tuple[tuple[str, bool], ...]
) -> dict[vol.Marker, Any]:
    """On/off switches, each at its current value or default."""
    return {
        vol.Required(key, default=options.get(key, default)): BooleanSelector()
        for key, default in keys
    }


def _instruction_fields(
    hass: HomeAssistant, options: Mapping[str, Any], *, is_new: bool
) -> dict[vol.Marker, Any]:
    """The agent's instructions, its LLM APIs (ours for a new agent), local first."""
    apis = [
        SelectOptionDict(value=api.id, label=api.name)
        for api in llm.async_get_apis(hass)
    ]
    valid_ids = {api["value"] for api in apis}
    chosen = options.get(CONF_LLM_HASS_API, [DOMAIN] if is_new else [])
    return {
        vol.Optional(
            CONF_PROMPT, description={"suggested_value": options.get(CONF_PROMPT)}
        ): TemplateSelector(),
        vol.Optional(
            CONF_LLM_HASS_API,
            description={
                "suggested_value": [api for api in chosen if api in valid_ids]
            },
        ): SelectSelector(SelectSelectorConfig(options=apis, multiple=True)),
    } | _boolean_fields(options, ((CONF_PREFER_LOCAL, DEFAULT_PREFER_LOCAL),))


def _model_run_fields(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """How the model samples and how much it reads and keeps loaded."""
    return {
        vol.Required(
            CONF_TEMPERATURE,
            default=options.get(CONF_TEMPERATURE, DEFAULT_TEMPERATURE),
        ): _number(0, 2, 0.05, slider=True),
        vol.Optional(
            CONF_TOP_P, description={"suggested_value": options.get(CONF_TOP_P)}
        ): _number(0, 1, 0.05, slider=True),
        vol.Optional(
            CONF_TOP_K, description={"suggested_value": options.get(CONF_TOP_K)}
        ): _number(1, 200, 1),
        vol.Optional(
            CONF_NUM_PREDICT,
            description={"suggested_value": options.get(CONF_NUM_PREDICT)},
        ): _number(1, 32768, 1, "tokens"),
        vol.Required(
            CONF_NUM_CTX, default=options.get(CONF_NUM_CTX, DEFAULT_NUM_CTX)
        ): _number(MIN_NUM_CTX, MAX_NUM_CTX, 1, "tokens"),
        vol.Required(
            CONF_KEEP_ALIVE, default=options.get(CONF_KEEP_ALIVE, DEFAULT_KEEP_ALIVE)
        ): _number(-1, 86400, 1, "s"),
    } | _boolean_fields(options, ((CONF_THINK, DEFAULT_THINK),))


def _limit_fields(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """How much of the conversation and of the home a turn reads, how many rounds."""
    return {
        vol.Required(
            CONF_MAX_HISTORY,
            default=options.get(CONF_MAX_HISTORY, DEFAULT_MAX_HISTORY),
        ): _number(0, 100, 1),
        vol.Required(
            CONF_MAX_TOOL_ITERATIONS,
            default=options.get(CONF_MAX_TOOL_ITERATIONS, DEFAULT_MAX_TOOL_ITERATIONS),
        ): _number(1, 20, 1),
        vol.Required(
            CONF_CONTEXT_BUDGET,
            default=options.get(CONF_CONTEXT_BUDGET, DEFAULT_CONTEXT_BUDGET),
        ): _number(MIN_CONTEXT_BUDGET, MAX_NUM_CTX, 1, "tokens"),
    } | _boolean_fields(options, _CACHE_FIELDS)


def _embedding_field(
    options: Mapping[str, Any], embedding_models: list[str] | None
) -> dict[vol.Marker, Any]:
    """The embedding model, shown only when the server has one or one is chosen."""
    current = options.get(CONF_EMBEDDING_MODEL)
    if not embedding_models and not current:
        return {}
    choices = sorted({*(embedding_models or []), *([current] if current else [])})
    return {
        vol.Optional(
            CONF_EMBEDDING_MODEL, description={"suggested_value": current}
        ): SelectSelector(
            SelectSelectorConfig(options=choices, mode=SelectSelectorMode.DROPDOWN)
        )
    }


# --- User-defined tools --------------------------------------------------------------


def _user_tools_field(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The agent's own tools, as YAML in a multiline text box."""
    return {
        vol.Optional(
            CONF_USER_TOOLS,
            description={"suggested_value": options.get(CONF_USER_TOOLS)},
        ): TextSelector(TextSelectorConfig(multiline=True))
    }


def user_tools_error(user_input: Mapping[str, Any]) -> str | None:
    """Why the user tools' YAML is not valid (naming the line), or None."""
    try:
        parse_user_tools(str(user_input.get(CONF_USER_TOOLS) or ""))
    except UserToolsError as err:
        return str(err)
    return None
