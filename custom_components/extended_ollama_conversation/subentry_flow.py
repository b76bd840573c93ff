"""Subentry flows: add or change a conversation agent or an AI task.

The model is chosen from the server's own list, each shown with what it can do (tools,
vision, thinking). A model that is not on the server is pulled from the flow, with a
progress display, and the flow continues when the pull ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_NAME, CONF_PROMPT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
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

from .client import ModelInfo, OllamaClient, OllamaError
from .const import (
    CONF_ALLOW_RISKY_WITHOUT_USER,
    CONF_CONFIRM_DOMAINS,
    CONF_CONFIRM_ENTITIES,
    CONF_CONFIRM_SERVICES,
    CONF_CONTEXT_BUDGET,
    CONF_DIRECT_ANSWERS,
    CONF_EMBEDDING_MODEL,
    CONF_EVENT_INCLUDE_TEXT,
    CONF_KEEP_ALIVE,
    CONF_MAX_HISTORY,
    CONF_MAX_TOOL_ITERATIONS,
    CONF_NON_ADMIN_ACCESS,
    CONF_NON_ADMIN_DOMAINS,
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
    DEFAULT_ALLOW_RISKY_WITHOUT_USER,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_DIRECT_ANSWERS,
    DEFAULT_EVENT_INCLUDE_TEXT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_HISTORY,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DEFAULT_NON_ADMIN_ACCESS,
    DEFAULT_NUM_CTX,
    DEFAULT_PREFER_LOCAL,
    DEFAULT_THINK,
    DEFAULT_WARM_UP,
    DOMAIN,
    MAX_NUM_CTX,
    MIN_CONTEXT_BUDGET,
    MIN_NUM_CTX,
    NON_ADMIN_ACCESS_CHOICES,
    SUBENTRY_CONVERSATION,
)
from .memory_services import memory_fields
from .routing_form import routing_fields
from .runtime import OllamaConfigEntry
from .tools.user_tools import UserToolsError, parse_user_tools

_LOGGER = logging.getLogger(__name__)

_SHOWN_CAPABILITIES = ("tools", "vision", "thinking")


def _number(
    minimum: float,
    maximum: float,
    step: float,
    unit: str | None = None,
    *,
    slider: bool = False,
) -> NumberSelector:
    config = NumberSelectorConfig(
        min=minimum,
        max=maximum,
        step=step,
        mode=NumberSelectorMode.SLIDER if slider else NumberSelectorMode.BOX,
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _model_options(infos: list[ModelInfo]) -> list[SelectOptionDict]:
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
    """The options form of an agent or AI task."""
    fields: dict[vol.Marker, Any] = {}
    if is_new:
        default_name = (
            DEFAULT_CONVERSATION_NAME
            if subentry_type == SUBENTRY_CONVERSATION
            else DEFAULT_AI_TASK_NAME
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
    if subentry_type == SUBENTRY_CONVERSATION:
        apis = [
            SelectOptionDict(value=api.id, label=api.name)
            for api in llm.async_get_apis(hass)
        ]
        valid_ids = {api["value"] for api in apis}
        chosen = options.get(CONF_LLM_HASS_API, [DOMAIN] if is_new else [])
        fields |= {
            vol.Optional(
                CONF_PROMPT, description={"suggested_value": options.get(CONF_PROMPT)}
            ): (TemplateSelector()),
            vol.Optional(
                CONF_LLM_HASS_API,
                description={
                    "suggested_value": [api for api in chosen if api in valid_ids]
                },
            ): SelectSelector(SelectSelectorConfig(options=apis, multiple=True)),
            vol.Required(
                CONF_PREFER_LOCAL,
                default=options.get(CONF_PREFER_LOCAL, DEFAULT_PREFER_LOCAL),
            ): BooleanSelector(),
        }
    fields |= {
        vol.Optional(
            CONF_TEMPERATURE,
            description={"suggested_value": options.get(CONF_TEMPERATURE)},
        ): (_number(0, 2, 0.05, slider=True)),
        vol.Optional(
            CONF_TOP_P, description={"suggested_value": options.get(CONF_TOP_P)}
        ): (_number(0, 1, 0.05, slider=True)),
        vol.Optional(
            CONF_TOP_K, description={"suggested_value": options.get(CONF_TOP_K)}
        ): (_number(1, 200, 1)),
        vol.Optional(
            CONF_NUM_PREDICT,
            description={"suggested_value": options.get(CONF_NUM_PREDICT)},
        ): (_number(1, 32768, 1, "tokens")),
        vol.Required(
            CONF_NUM_CTX, default=options.get(CONF_NUM_CTX, DEFAULT_NUM_CTX)
        ): _number(MIN_NUM_CTX, MAX_NUM_CTX, 1, "tokens"),
        vol.Required(
            CONF_KEEP_ALIVE, default=options.get(CONF_KEEP_ALIVE, DEFAULT_KEEP_ALIVE)
        ): (_number(-1, 86400, 1, "s")),
        vol.Required(
            CONF_THINK, default=options.get(CONF_THINK, DEFAULT_THINK)
        ): BooleanSelector(),
    }
    if subentry_type == SUBENTRY_CONVERSATION:
        fields |= {
            vol.Required(
                CONF_MAX_HISTORY,
                default=options.get(CONF_MAX_HISTORY, DEFAULT_MAX_HISTORY),
            ): (_number(0, 100, 1)),
            vol.Required(
                CONF_MAX_TOOL_ITERATIONS,
                default=options.get(
                    CONF_MAX_TOOL_ITERATIONS, DEFAULT_MAX_TOOL_ITERATIONS
                ),
            ): _number(1, 20, 1),
            vol.Required(
                CONF_CONTEXT_BUDGET,
                default=options.get(CONF_CONTEXT_BUDGET, DEFAULT_CONTEXT_BUDGET),
            ): _number(MIN_CONTEXT_BUDGET, MAX_NUM_CTX, 1, "tokens"),
        }
        # --- Warm-up of Ollama's prompt cache (warmup.py), answers from results ---
        for key, default in (
            (CONF_WARM_UP, DEFAULT_WARM_UP),
            (CONF_DIRECT_ANSWERS, DEFAULT_DIRECT_ANSWERS),
        ):
            fields[vol.Required(key, default=options.get(key, default))] = (
                BooleanSelector()
            )
        # --- Safety policy (tools/policy.py) ---
        fields |= policy_fields(options)
        current = options.get(CONF_EMBEDDING_MODEL)
        if embedding_models or current:
            choices = sorted(
                {*(embedding_models or []), *([current] if current else [])}
            )
            fields[
                vol.Optional(
                    CONF_EMBEDDING_MODEL, description={"suggested_value": current}
                )
            ] = SelectSelector(
                SelectSelectorConfig(options=choices, mode=SelectSelectorMode.DROPDOWN)
            )
        fields |= _user_tools_field(options)
        fields |= memory_fields(options)  # --- memory (memory_services.py) ---
        # --- the turn event (turn_record.py) ---
        fields[
            vol.Required(
                CONF_EVENT_INCLUDE_TEXT,
                default=options.get(
                    CONF_EVENT_INCLUDE_TEXT, DEFAULT_EVENT_INCLUDE_TEXT
                ),
            )
        ] = BooleanSelector()
    return vol.Schema(fields)


# --- User-defined tools --------------------------------------------------------------


def _user_tools_field(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The agent's own tools, as YAML in a multiline text box."""
    return {
        vol.Optional(
            CONF_USER_TOOLS,
            description={"suggested_value": options.get(CONF_USER_TOOLS)},
        ): TextSelector(TextSelectorConfig(multiline=True))
    }


def _user_tools_error(user_input: Mapping[str, Any]) -> str | None:
    """Why the user tools' YAML is not valid (naming the line), or None."""
    try:
        parse_user_tools(str(user_input.get(CONF_USER_TOOLS) or ""))
    except UserToolsError as err:
        return str(err)
    return None


# --- Safety policy options (tools/policy.py) -----------------------------------------


def policy_fields(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """What else needs a yes, what non-administrators may change, automations."""
    names = TextSelector(TextSelectorConfig(multiple=True))
    return {
        vol.Optional(key, description={"suggested_value": options.get(key)}): selector
        for key, selector in (
            (CONF_CONFIRM_DOMAINS, names),
            (CONF_CONFIRM_SERVICES, names),
            (
                CONF_CONFIRM_ENTITIES,
                EntitySelector(EntitySelectorConfig(multiple=True)),
            ),
            (CONF_NON_ADMIN_DOMAINS, names),
        )
    } | {
        vol.Required(
            CONF_NON_ADMIN_ACCESS,
            default=options.get(CONF_NON_ADMIN_ACCESS, DEFAULT_NON_ADMIN_ACCESS),
        ): SelectSelector(
            SelectSelectorConfig(
                options=list(NON_ADMIN_ACCESS_CHOICES),
                translation_key=CONF_NON_ADMIN_ACCESS,
            )
        ),
        vol.Required(
            CONF_ALLOW_RISKY_WITHOUT_USER,
            default=options.get(
                CONF_ALLOW_RISKY_WITHOUT_USER, DEFAULT_ALLOW_RISKY_WITHOUT_USER
            ),
        ): BooleanSelector(),
    }


class AgentSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a conversation agent or an AI task."""

    def __init__(self) -> None:
        """Start with no pending pull."""
        super().__init__()
        self._title: str | None = None
        self._data: dict[str, Any] = {}
        self._pull_task: asyncio.Task[None] | None = None
        self._pull_error = ""

    @property
    def _is_new(self) -> bool:
        return self.source == "user"

    @property
    def _client(self) -> OllamaClient:
        entry: OllamaConfigEntry = self._get_entry()
        return entry.runtime_data.client

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add an agent."""
        return await self.async_step_set_options(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change an agent."""
        return await self.async_step_set_options(user_input)

    async def async_step_set_options(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Choose the model and the options."""
        if self._get_entry().state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        tools_error = _user_tools_error(user_input) if user_input else None
        try:
            installed = await self._client.list_models()
            if user_input is None or tools_error:
                infos = [await self._client.model_info(name) for name in installed]
        except OllamaError as err:
            _LOGGER.warning("Listing the server's models failed: %s", err)
            return self.async_abort(reason="cannot_connect")
        if user_input is None or tools_error:
            options = user_input or (
                {} if self._is_new else dict(self._get_reconfigure_subentry().data)
            )
            schema = agent_schema(
                self.hass,
                self._subentry_type,
                options,
                _model_options(infos),
                embedding_models=[
                    i.name for i in infos if "embedding" in i.capabilities
                ],
                is_new=self._is_new,
            )
            if self._subentry_type == SUBENTRY_CONVERSATION:
                entry_id, models = self._get_entry().entry_id, _model_options(infos)
                fields = routing_fields(self.hass, entry_id, options, models)
                schema = schema.extend(fields)  # model routing, fallback server
            return self.async_show_form(
                step_id="set_options",
                data_schema=schema,
                errors={CONF_USER_TOOLS: "invalid_user_tools"} if tools_error else None,
                description_placeholders={"error": tools_error or ""},
            )
        self._title = user_input.pop(CONF_NAME, None)
        self._data = user_input
        if user_input[CONF_MODEL] not in installed:
            return await self.async_step_download()
        return self._save()

    async def async_step_download(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pull the chosen model, showing the server's progress."""
        model = self._data[CONF_MODEL]
        if self._pull_task is None:
            self._pull_task = self.hass.async_create_background_task(
                self._async_pull(model), f"Pulling the Ollama model {model}"
            )
        if not self._pull_task.done():
            return self.async_show_progress(
                step_id="download",
                progress_action="download",
                progress_task=self._pull_task,
                description_placeholders={"model": model},
            )
        if self._pull_error:
            return self.async_show_progress_done(next_step_id="download_failed")
        return self.async_show_progress_done(next_step_id="finish")

    async def _async_pull(self, model: str) -> None:
        """Pull the model; a failure is kept for the next step to report."""
        try:
            async for progress in self._client.pull(model):
                if progress.total and progress.completed is not None:
                    self.async_update_progress(progress.completed / progress.total)
        except OllamaError as err:
            _LOGGER.warning("Pulling %s failed: %s", model, err)
            self._pull_error = str(err)

    async def async_step_download_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Say the pull failed, and why."""
        return self.async_abort(
            reason="download_failed",
            description_placeholders={
                "model": self._data[CONF_MODEL],
                "error": self._pull_error,
            },
        )

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The pull ended: save the agent."""
        return self._save()

    def _save(self) -> SubentryFlowResult:
        if self._is_new:
            return self.async_create_entry(
                title=self._title or self._data[CONF_MODEL], data=self._data
            )
        return self.async_update_and_abort(
            self._get_entry(), self._get_reconfigure_subentry(), data=self._data
        )
