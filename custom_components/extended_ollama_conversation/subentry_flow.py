"""Subentry flows: add or change a conversation agent or an AI task.

The form itself is built in agent_form.py. A model that is not on the server is pulled
from the flow, with a progress display, and the flow continues when the pull ends.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_MODEL, CONF_NAME
import probatio as vol

from .agent_form import agent_schema, model_options, user_tools_error
from .client import ModelInfo, OllamaClient, OllamaError
from .const import CONF_USER_TOOLS, SUBENTRY_CONVERSATION
from .routing_form import routing_fields
from .runtime import OllamaConfigEntry

# agent_schema stays importable from here, where it was first defined.
__all__ = ["AgentSubentryFlow", "agent_schema"]

_LOGGER = logging.getLogger(__name__)


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
        tools_error = user_tools_error(user_input) if user_input else None
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
            return self.async_show_form(
                step_id="set_options",
                data_schema=self._schema(options, infos),
                errors={CONF_USER_TOOLS: "invalid_user_tools"} if tools_error else None,
                description_placeholders={"error": tools_error or ""},
            )
        self._title = user_input.pop(CONF_NAME, None)
        self._data = user_input
        if user_input[CONF_MODEL] not in installed:
            return await self.async_step_download()
        return self._save()

    def _schema(self, options: dict[str, Any], infos: list[ModelInfo]) -> vol.Schema:
        """The agent's form; a conversation agent's also routes and falls back."""
        models = model_options(infos)
        schema = agent_schema(
            self.hass,
            self._subentry_type,
            options,
            models,
            embedding_models=[i.name for i in infos if "embedding" in i.capabilities],
            is_new=self._is_new,
        )
        if self._subentry_type != SUBENTRY_CONVERSATION:
            return schema
        entry_id = self._get_entry().entry_id
        return schema.extend(routing_fields(self.hass, entry_id, options, models))

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
