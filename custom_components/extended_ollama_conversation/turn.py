"""The turn loop: stream /api/chat into the chat log, run tool calls, repeat.

Shared by the conversation and AI Task entities. One request to the server per round;
tool calls (native, or written as text by a small model) run through the chat log's
LLM API and their results go back to the model, for at most `max_tool_iterations`
rounds. Failures reach the caller as the client's exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
import logging
from typing import Any

from homeassistant.components import conversation
from homeassistant.const import CONF_MODEL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm

from .answer_mark import AnswerMark
from .client import ModelInfo, ToolsNotSupported
from .const import (
    ANSWER_RESERVE_TOKENS,
    CONF_CONTEXT_BUDGET,
    CONF_DIRECT_ANSWERS,
    CONF_KEEP_ALIVE,
    CONF_MAX_HISTORY,
    CONF_MAX_TOOL_ITERATIONS,
    CONF_NUM_CTX,
    CONF_NUM_PREDICT,
    CONF_TEMPERATURE,
    CONF_THINK,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_DIRECT_ANSWERS,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_HISTORY,
    DEFAULT_MAX_TOOL_ITERATIONS,
    DEFAULT_NUM_CTX,
    DEFAULT_TEMPERATURE,
    DEFAULT_THINK,
    SAMPLING_OPTIONS,
)
from .context import HomeContext, device_index
from .memory import with_memory
from .messages import Message, async_chat_message, async_chat_messages
from .prompt_fit import FitLimits, PromptFitter
from .runtime import OllamaRuntimeData
from .thinking import ThinkingFilter
from .tools.answers import command_answer, reads_answer
from .tools.focus import focus_on_request
from .tools.gate import CallGate, async_turn_gate, hold_for_confirmation
from .tools.policy import PolicySettings
from .tools.text_calls import SpeechFilter, has_json_object, json_as_words
from .tools.toolbox import SPEAK, Toolbox
from .tools.truthful import checked_answer
from .turn_record import TurnRecord

_LOGGER = logging.getLogger(__name__)

# What the warm-up asks after the prefix; any short text does, none is needed.
WARM_UP_REQUEST = "hi"

# Never sent: a turn with tools always has a policy gate; a call without one is refused.
NO_POLICY = llm.ToolResult(data={"error": "Refused"}, error=True)
OUT_OF_ROUNDS_SPEECH = (
    "Sorry, I couldn't finish that: it took more steps than I am allowed to take."
)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """An agent's options, with defaults filled in."""

    model: str
    num_ctx: int
    keep_alive: int
    think: bool
    max_history: int
    max_tool_iterations: int
    sampling: dict[str, float | int]
    context_budget: int = DEFAULT_CONTEXT_BUDGET
    policy: PolicySettings = field(default_factory=PolicySettings)
    direct_answers: bool = DEFAULT_DIRECT_ANSWERS

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AgentSettings:
        """Read a subentry's data."""
        return cls(
            model=options[CONF_MODEL],
            num_ctx=int(options.get(CONF_NUM_CTX, DEFAULT_NUM_CTX)),
            keep_alive=int(options.get(CONF_KEEP_ALIVE, DEFAULT_KEEP_ALIVE)),
            think=bool(options.get(CONF_THINK, DEFAULT_THINK)),
            max_history=int(options.get(CONF_MAX_HISTORY, DEFAULT_MAX_HISTORY)),
            max_tool_iterations=max(
                1,
                int(options.get(CONF_MAX_TOOL_ITERATIONS, DEFAULT_MAX_TOOL_ITERATIONS)),
            ),
            sampling={
                CONF_TEMPERATURE: DEFAULT_TEMPERATURE,
                **{
                    key: options[key]
                    for key in SAMPLING_OPTIONS
                    if options.get(key) is not None
                },
            },
            policy=PolicySettings.from_options(options),
            context_budget=int(
                options.get(CONF_CONTEXT_BUDGET, DEFAULT_CONTEXT_BUDGET)
            ),
            direct_answers=bool(
                options.get(CONF_DIRECT_ANSWERS, DEFAULT_DIRECT_ANSWERS)
            ),
        )

    @property
    def fit_limits(self) -> FitLimits:
        """What this agent's requests must fit."""
        return FitLimits(
            self.num_ctx, self.prompt_budget, self.max_history, self.context_budget
        )

    @property
    def prompt_budget(self) -> int:
        """Tokens the prompt may use, leaving room for the answer."""
        answer = int(self.sampling.get(CONF_NUM_PREDICT, 0)) or ANSWER_RESERVE_TOKENS
        return self.num_ctx - min(max(answer, 1), self.num_ctx // 4)


class TurnRunner:
    """Runs one turn of one agent against the chat log."""

    def __init__(
        self,
        hass: HomeAssistant,
        runtime: OllamaRuntimeData,
        chat_log: conversation.ChatLog,
        agent_id: str,
        settings: AgentSettings,
        *,
        home_context: HomeContext | None = None,
        memory: str = "",
        record: TurnRecord | None = None,
    ) -> None:
        """Hold what every round needs; `memory`: its lines for this request's tail."""
        self.hass = hass
        self.record = record if record is not None else TurnRecord()
        self.memory = memory
        self.runtime = runtime
        self.chat_log = chat_log
        self.agent_id = agent_id
        self.settings = settings
        self.fitter = PromptFitter(
            hass,
            runtime,
            chat_log,
            agent_id,
            model=settings.model,
            limits=settings.fit_limits,
            home_context=home_context,
        )
        self.mark = AnswerMark(settings.model, runtime.client.url)

    async def async_run(self, output_format: dict[str, Any] | None = None) -> None:
        """Answer the chat log's last request, running tools for up to N rounds."""
        info = await self.runtime.client.model_info(self.settings.model)
        toolbox = self._toolbox(info)
        gate = (
            await async_turn_gate(
                self.hass, self.chat_log, self.agent_id, self.settings.policy
            )
            if toolbox is not None
            else None
        )
        history = await async_chat_messages(self.hass, self.chat_log.content)
        history = with_memory(history, self.memory)
        rounds = 0
        while rounds < self.settings.max_tool_iterations:
            marks = (len(gate.records), len(gate.reads)) if gate else (0, 0)
            try:
                added = await self._async_round(
                    history,
                    toolbox,
                    gate,
                    info,
                    output_format,
                    may_retry=rounds + 1 < self.settings.max_tool_iterations,
                )
            except ToolsNotSupported:
                if toolbox is None:
                    raise
                self.runtime.report_model_without_tools(self.hass, self.settings.model)
                toolbox = None
                continue  # the same round again, without tools
            rounds += 1
            history.extend(
                [await async_chat_message(self.hass, item) for item in added]
            )
            if gate is not None and (asked := hold_for_confirmation(gate)):
                self.chat_log.async_add_assistant_content_without_tools(
                    conversation.AssistantContent(agent_id=self.agent_id, content=asked)
                )
                return
            if not self.chat_log.unresponded_tool_results:
                return
            if gate is not None and (answer := self._from_results(gate, marks)):
                self.chat_log.async_add_assistant_content_without_tools(
                    conversation.AssistantContent(
                        agent_id=self.agent_id, content=answer
                    )
                )
                return
        _LOGGER.warning(
            "%s stopped after %d rounds of tool calls without an answer",
            self.agent_id,
            rounds,
        )
        self.chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(
                agent_id=self.agent_id, content=OUT_OF_ROUNDS_SPEECH
            )
        )

    def _from_results(self, gate: CallGate, marks: tuple[int, int]) -> str | None:
        """The round's results as the answer, when they hold all of it (tools/answers)."""
        if not self.settings.direct_answers:
            return None
        records, reads = gate.records[marks[0] :], gate.reads[marks[1] :]
        if gate.request.is_question:
            return (
                None if records else reads_answer(self.hass, gate.request.text, reads)
            )
        return command_answer(gate.request.text, gate.records, records)

    def _toolbox(self, info: ModelInfo) -> Toolbox | None:
        api = self.chat_log.llm_api
        if api is None or not api.tools:
            return None
        if not info.supports_tools or info.name in self.runtime.models_without_tools:
            self.runtime.report_model_without_tools(self.hass, self.settings.model)
            return None
        return Toolbox(
            api, device_index(self.hass, api.llm_context.assistant).devices()
        )

    async def _async_round(
        self,
        history: list[Message],
        toolbox: Toolbox | None,
        gate: CallGate | None,
        info: ModelInfo,
        output_format: dict[str, Any] | None,
        *,
        may_retry: bool,
    ) -> list[conversation.Content]:
        """Send one request; stream its answer into the chat log; return what was added."""
        tools_chars = toolbox.specs_chars if toolbox else 0
        messages, num_ctx = self.fitter.fit(history, tools_chars, info)
        request = self._request(messages, num_ctx, toolbox, info, output_format)
        self.runtime.usage.requests += 1
        stream = self.runtime.client.chat(**request)
        deltas = self._deltas(
            stream, toolbox, gate, messages, tools_chars, may_retry=may_retry
        )
        return [
            item
            async for item in self.chat_log.async_add_delta_content_stream(
                self.agent_id, self.mark.tagged(deltas)
            )
        ]

    def _request(
        self,
        messages: list[Message],
        num_ctx: int,
        toolbox: Toolbox | None,
        info: ModelInfo,
        output_format: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The /api/chat request; the warm-up sends the same one but a token long."""
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "tools": (toolbox.specs if toolbox else None) or None,
            "options": {"num_ctx": num_ctx, **self.settings.sampling},
            # -1 must be sent as a number; any other value as a duration.
            "keep_alive": -1
            if self.settings.keep_alive < 0
            else f"{self.settings.keep_alive}s",
            "format": output_format,
        }
        if "thinking" in info.capabilities:
            request["think"] = self.settings.think
        return request

    async def async_prefix_request(self) -> dict[str, Any]:
        """A request of the stable prefix alone: instructions, home directory, tools.

        Its start is what every turn of this agent starts with, so answering it fills
        Ollama's prompt cache; it asks for one token.
        """
        info = await self.runtime.client.model_info(self.settings.model)
        toolbox = self._toolbox(info)
        history = await async_chat_messages(self.hass, self.chat_log.content[:1])
        history.append({"role": "user", "content": WARM_UP_REQUEST})
        if (context := self.fitter.home_context) is not None:
            self.fitter.home_context = replace(context, current="")
        tools_chars = toolbox.specs_chars if toolbox else 0
        messages, num_ctx = self.fitter.fit(history, tools_chars, info)
        request = self._request(messages, num_ctx, toolbox, info, None)
        request["options"]["num_predict"] = 1
        return request

    async def _deltas(
        self,
        stream: AsyncIterator[Any],
        toolbox: Toolbox | None,
        gate: CallGate | None,
        messages: list[Message],
        tools_chars: int,
        *,
        may_retry: bool,
    ) -> AsyncIterator[
        conversation.AssistantContentDeltaDict | conversation.ToolResultContentDeltaDict
    ]:
        """Turn Ollama's stream into chat log deltas; text that is a tool call is not said.

        `may_retry`: a round is left in which the model can answer again. After any
        tool call of the turn, the words are held back until checked against the results.
        """
        speech = SpeechFilter(toolbox.is_tool_name) if toolbox else None
        thoughts = ThinkingFilter()
        hold = gate is not None and gate.calls > 0
        held: list[str] = []
        native_calls: list[Any] = []
        yield {"role": "assistant"}
        async for part in stream:
            message = part.message
            if message.thinking:
                yield {"thinking_content": message.thinking}
            said, thought = thoughts.split(message.content, done=part.done)
            if thought:
                yield {"thinking_content": thought}
            if said:
                text = speech.feed(said) if speech else said
                if text and hold:
                    held.append(text)
                elif text:
                    yield {"content": text}
            native_calls.extend(message.tool_calls or ())
            if part.done:
                self._count(part, messages, tools_chars)
        if toolbox is None or speech is None:
            return
        rest, text_calls = speech.finish(toolbox.is_tool_name)
        prepared = [
            toolbox.prepare(c.function.name, c.function.arguments) for c in native_calls
        ]
        prepared += [toolbox.prepare(call.name, call.arguments) for call in text_calls]
        if text_calls:
            _LOGGER.debug("Recognised %d tool call(s) written as text", len(text_calls))
        if gate is not None:
            prepared = focus_on_request(prepared, gate.request.text)
        if not prepared and (words := json_as_words(rest)) is not None:
            rest = words
        if (
            not prepared
            and may_retry
            and has_json_object(rest)
            and (request_for_words := toolbox.ask_for_words(rest)) is not None
        ):
            _LOGGER.debug("The answer held JSON but no call; asking for plain words")
            prepared = [request_for_words]
        elif hold and gate is not None and not prepared:
            yield {
                "content": checked_answer(
                    "".join([*held, rest]), gate.records, toolbox.tool_names
                )
            }
        elif held or rest:
            yield {"content": "".join([*held, rest])}
        if not prepared:
            return
        self.record.tools += [t.tool_name for t, _ in prepared if t.tool_name != SPEAK]
        yield {"tool_calls": [tool_input for tool_input, _ in prepared]}
        for tool_input, refusal in prepared:
            result = refusal
            if (
                result is not None
                and gate is not None
                and tool_input.tool_name != SPEAK
            ):
                gate.refused_early(tool_input, result)
            if result is None:
                result = await gate.async_handle(tool_input) if gate else NO_POLICY
            yield {
                "role": "tool_result",
                "tool_call_id": tool_input.id,
                "tool_name": tool_input.tool_name,
                "result": result,
            }

    def _count(self, final: Any, messages: list[Message], tools_chars: int) -> None:
        """Record usage, and calibrate the token estimate on what Ollama counted."""
        usage = self.runtime.usage
        usage.prompt_tokens += final.prompt_eval_count or 0
        usage.generated_tokens += final.eval_count or 0
        self.record.add_round(self.settings.model, final)
        if final.prompt_eval_count:
            self.runtime.estimator.calibrate(
                self.settings.model, messages, tools_chars, final.prompt_eval_count
            )
