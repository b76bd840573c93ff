"""Fix flows for the repair issues: a model gone from the server, a model without tools.

A gone model is pulled again or replaced by an installed one; a model without tools is
replaced, for the agents that use it, by one with tool support. The issues themselves
are raised in issues.py (the refreshes) and runtime.py (a turn).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    RepairsFlow,
    RepairsFlowResult,
)
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from .client import OllamaError
from .const import DOMAIN
from .coordinator import InstalledModel, ServerCoordinator
from .issues import MODEL_MISSING_PREFIX, NO_TOOLS_PREFIX
from .runtime import OllamaConfigEntry

_LOGGER = logging.getLogger(__name__)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow that fixes one of the integration's issues."""
    data = data or {}
    if issue_id.startswith(MODEL_MISSING_PREFIX):
        return MissingModelFlow(str(data.get("entry_id")), str(data.get("subentry_id")))
    if issue_id.startswith(NO_TOOLS_PREFIX):
        return ToolModelFlow(str(data.get("model") or issue_id[len(NO_TOOLS_PREFIX) :]))
    return ConfirmRepairFlow()


def _model_choices(
    coordinator: ServerCoordinator, *, tools_only: bool
) -> list[SelectOptionDict]:
    """Installed chat models from the last refresh, those with tools first."""

    def usable(model: InstalledModel) -> bool:
        if tools_only:
            return "tools" in model.capabilities
        return "completion" in model.capabilities or not model.capabilities

    models = sorted(
        (model for model in coordinator.data.installed if usable(model)),
        key=lambda model: ("tools" not in model.capabilities, model.name),
    )
    return [
        SelectOptionDict(
            value=model.name,
            label=f"{model.name} ({', '.join(model.capabilities) or '?'})",
        )
        for model in models
    ]


def _model_schema(choices: list[SelectOptionDict]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_MODEL): SelectSelector(
                SelectSelectorConfig(options=choices, mode=SelectSelectorMode.DROPDOWN)
            )
        }
    )


def _coordinator(entry: OllamaConfigEntry) -> ServerCoordinator | None:
    """The entry's coordinator when its last refresh read the server."""
    coordinator = entry.runtime_data.coordinator
    if coordinator is None or not coordinator.last_update_success:
        return None
    return coordinator


class MissingModelFlow(RepairsFlow):
    """An agent's model is no longer on the server: pull it, or choose another."""

    def __init__(self, entry_id: str, subentry_id: str) -> None:
        """Remember which agent's model is gone."""
        self._entry_id = entry_id
        self._subentry_id = subentry_id
        self._pull_task: asyncio.Task[None] | None = None
        self._pull_error = ""

    def _agent(self) -> tuple[OllamaConfigEntry, ConfigSubentry] | None:
        entry: OllamaConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_id
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        if (subentry := entry.subentries.get(self._subentry_id)) is None:
            return None
        return entry, subentry

    def _placeholders(self, subentry: ConfigSubentry) -> dict[str, str]:
        return {"agent": subentry.title, "model": str(subentry.data[CONF_MODEL])}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Offer the two fixes."""
        if (found := self._agent()) is None:
            return self.async_abort(reason="agent_gone")
        return self.async_show_menu(
            step_id="init",
            menu_options=["pull", "pick"],
            description_placeholders=self._placeholders(found[1]),
        )

    async def async_step_pull(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Pull the model again, showing the server's progress."""
        if (found := self._agent()) is None:
            return self.async_abort(reason="agent_gone")
        entry, subentry = found
        placeholders = self._placeholders(subentry)
        if self._pull_task is None:
            self._pull_task = self.hass.async_create_background_task(
                self._async_pull(entry, placeholders["model"]),
                f"Pulling the Ollama model {placeholders['model']}",
            )
        if not self._pull_task.done():
            return self.async_show_progress(
                step_id="pull",
                progress_action="pull",
                progress_task=self._pull_task,
                description_placeholders=placeholders,
            )
        if self._pull_error:
            return self.async_show_progress_done(next_step_id="pull_failed")
        return self.async_show_progress_done(next_step_id="pulled")

    async def _async_pull(self, entry: OllamaConfigEntry, model: str) -> None:
        """Pull; a failure is kept for the next step to say."""
        try:
            async for progress in entry.runtime_data.client.pull(model):
                if progress.total and progress.completed is not None:
                    self.async_update_progress(progress.completed / progress.total)
        except OllamaError as err:
            _LOGGER.warning("Pulling %s failed: %s", model, err)
            self._pull_error = str(err)

    async def async_step_pulled(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """The model is back: the entities show it at once."""
        if (found := self._agent()) is not None and (
            coordinator := found[0].runtime_data.coordinator
        ) is not None:
            await coordinator.async_refresh()
        return self.async_create_entry(data={})

    async def async_step_pull_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Say why the pull failed; the issue stays."""
        return self.async_abort(
            reason="pull_failed", description_placeholders={"error": self._pull_error}
        )

    async def async_step_pick(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Choose an installed model for the agent."""
        if (found := self._agent()) is None:
            return self.async_abort(reason="agent_gone")
        entry, subentry = found
        if (coordinator := _coordinator(entry)) is None:
            return self.async_abort(reason="cannot_connect")
        if user_input is not None:
            self.hass.config_entries.async_update_subentry(
                entry, subentry, data={**subentry.data, **user_input}
            )
            return self.async_create_entry(data={})
        if not (choices := _model_choices(coordinator, tools_only=False)):
            return self.async_abort(reason="no_models")
        return self.async_show_form(
            step_id="pick",
            data_schema=_model_schema(choices),
            description_placeholders=self._placeholders(subentry),
        )


class ToolModelFlow(RepairsFlow):
    """Agents with tools use a model without them: choose one with tools, per server."""

    def __init__(self, model: str) -> None:
        """Remember the model without tools."""
        self._model = model
        self._entry_ids: list[str] = []

    def _agents(self, entry: OllamaConfigEntry) -> list[ConfigSubentry]:
        """The entry's agents that use the model and have tools to offer it."""
        return [
            subentry
            for subentry in entry.subentries.values()
            if subentry.data.get(CONF_MODEL) == self._model
            and subentry.data.get(CONF_LLM_HASS_API)
        ]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Find the servers whose agents use the model; none left means it is fixed."""
        entries: list[OllamaConfigEntry] = (
            self.hass.config_entries.async_loaded_entries(DOMAIN)
        )
        self._entry_ids = [entry.entry_id for entry in entries if self._agents(entry)]
        if not self._entry_ids:
            return self.async_create_entry(data={})
        return await self.async_step_pick()

    async def async_step_pick(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """One server at a time: a model with tools for its agents that use this one."""
        entry: OllamaConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_ids[0]
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="cannot_connect")
        agents = self._agents(entry)
        if user_input is not None:
            for subentry in agents:
                self.hass.config_entries.async_update_subentry(
                    entry, subentry, data={**subentry.data, **user_input}
                )
            self._entry_ids.pop(0)
            if not self._entry_ids:
                return self.async_create_entry(data={})
            return await self.async_step_pick()
        if (coordinator := _coordinator(entry)) is None:
            return self.async_abort(reason="cannot_connect")
        if not (choices := _model_choices(coordinator, tools_only=True)):
            return self.async_abort(
                reason="no_tool_models", description_placeholders={"host": entry.title}
            )
        return self.async_show_form(
            step_id="pick",
            data_schema=_model_schema(choices),
            description_placeholders={
                "model": self._model,
                "host": entry.title,
                "agents": ", ".join(subentry.title for subentry in agents),
            },
        )
