"""Which model on which server answers a conversation turn.

The route (routing.py) picks the model on the agent's own server. A routed model that
is not on the server gives way to the agent's own model, once per turn, with a log
line. A server that cannot be reached before any answer gives the turn to the fallback
server (fallback.py), if the agent names one. Afterwards the conversation's debug trace
says what answered, and so does the turn's event (turn_record.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
import logging
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant

from .client import ModelNotFound, OllamaError, display_host
from .const import CONF_FALLBACK_MODEL
from .context import HomeContext
from .fallback import cannot_be_reached, fallback_entry, note_answered, note_unreached
from .routing import Route, async_route
from .runtime import OllamaConfigEntry
from .turn import AgentSettings, TurnRunner
from .turn_record import TurnRecord

_LOGGER = logging.getLogger(__name__)


class TurnAnswer:
    """One conversation turn, from the choice of model to the turn event."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OllamaConfigEntry,
        agent_id: str,
        options: Mapping[str, Any],
        chat_log: conversation.ChatLog,
        *,
        home_context: HomeContext | None,
        memory: str = "",
        record: TurnRecord | None = None,
    ) -> None:
        """Hold what each attempt needs; nothing is sent yet."""
        self.hass = hass
        self.entry = entry
        self.agent_id = agent_id
        self.options = options
        self.chat_log = chat_log
        self.home_context = home_context
        self.memory = memory
        self.settings = AgentSettings.from_options(options)
        self.route = Route(self.settings.model)
        # Where the answer came from, for the event.
        self.answered_on = entry
        self.fell_back = False
        self.model_fell_back = False
        self.runner: TurnRunner | None = None
        self.record = record if record is not None else TurnRecord()

    async def async_answer(
        self, user_input: conversation.ConversationInput, *, recognized: bool
    ) -> None:
        """Answer the chat log's request; failures reach the caller as before."""
        try:
            await self._async_answer(user_input, recognized=recognized)
        except OllamaError as err:
            self._report(err)
            raise
        self._report(None)

    async def _async_answer(
        self, user_input: conversation.ConversationInput, *, recognized: bool
    ) -> None:
        runtime = self.entry.runtime_data
        try:
            self.route = await async_route(
                runtime.client,
                self.options,
                user_input.text,
                settings=self.settings,
                num_ctx=max(
                    self.settings.num_ctx, runtime.raised_num_ctx.get(self.agent_id, 0)
                ),
                local_matched_device=recognized,
                language=user_input.language,
            )
            await self._async_run_on(self.entry, self.route.model)
        except OllamaError as err:
            streamed = self.runner is not None and self.runner.mark.streamed
            if not cannot_be_reached(err, streamed=streamed):
                raise
            if (
                fallback := fallback_entry(self.hass, self.options, self.entry)
            ) is None:
                raise
            note_unreached(self.hass, self.agent_id, fallback, err)
            self.answered_on, self.fell_back = fallback, True
            model = self.options.get(CONF_FALLBACK_MODEL) or self.route.model
            try:
                await self._async_run_on(fallback, str(model).strip())
            except OllamaError as fallback_err:
                # The agent's own server is what failed; the fallback is not blamed
                # (nor asked to re-authenticate) in what is said.
                _LOGGER.warning(
                    "%s: the fallback server %s could not answer either: %s",
                    self.agent_id,
                    fallback.title,
                    fallback_err,
                )
                raise err from fallback_err
            return
        note_answered(self.hass, self.agent_id, self.entry)

    async def _async_run_on(self, entry: OllamaConfigEntry, model: str) -> None:
        """Run the turn on one server; a missing routed model gives way once."""
        self.runner = self._runner(entry, model)
        try:
            await self.runner.async_run()
        except ModelNotFound as err:
            default = self.settings.model
            if model == default or self.model_fell_back or self.runner.mark.streamed:
                raise
            _LOGGER.warning(
                "%s: %s; answering with the agent's model %s instead",
                self.agent_id,
                err,
                default,
            )
            entry.runtime_data.client.forget_model_info()
            self.model_fell_back = True
            self.runner = self._runner(entry, default)
            await self.runner.async_run()

    def _runner(self, entry: OllamaConfigEntry, model: str) -> TurnRunner:
        return TurnRunner(
            self.hass,
            entry.runtime_data,
            self.chat_log,
            self.agent_id,
            replace(self.settings, model=model),
            home_context=self.home_context,
            memory=self.memory,
            record=self.record,
        )

    def _report(self, err: OllamaError | None) -> None:
        """Fire the turn event and add the same to the conversation's debug trace."""
        runner = self.runner
        data: dict[str, Any] = {
            "agent_id": self.agent_id,
            "conversation_id": self.chat_log.conversation_id,
            "model": runner.settings.model if runner else self.route.model,
            "kind": self.route.kind.value if self.route.kind else None,
            "routed_by": self.route.by,
            "entry_id": self.answered_on.entry_id,
            "server": display_host(self.answered_on.runtime_data.client.url),
            "fell_back": self.fell_back,
            "model_fell_back": self.model_fell_back,
            "rounds": runner.mark.rounds if runner else 0,
            "error": str(err) if err else None,
        }
        self.chat_log.async_trace({"answered_by": data})
        # The turn event carries it, with the turn's figures (turn_record.py).
        self.record.answered_by = data
