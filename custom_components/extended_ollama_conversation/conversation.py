"""The conversation agent: Assist, the companion app and conversation.process."""

from __future__ import annotations

import logging
import math
from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_LLM_HASS_API, CONF_MODEL, CONF_PROMPT, MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.hass_dict import HassKey

from .answering import TurnAnswer
from .client import InvalidAuth, ModelNotFound, OllamaError
from .confirmation import async_answer_pending
from .const import (
    CONF_CONTEXT_BUDGET,
    CONF_EMBEDDING_MODEL,
    CONF_PREFER_LOCAL,
    CONF_RATE_PER_MINUTE,
    CONF_RATE_PER_USER_HOUR,
    CONF_USER_TOOLS,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_PREFER_LOCAL,
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_RATE_PER_USER_HOUR,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)
from .context import HomeContext, area_of_requester, build_context, device_index
from .entity import OllamaLLMEntity, add_subentry_entities
from .local_first import LocalAttempt, async_handle_locally
from .memory import memory_prompt
from .runtime import OllamaConfigEntry
from .tools.home_api import FIND_DEVICES
from .tools.limits import RateLimiter
from .tools.memory_tools import add_memory_tools
from .tools.user_tool_kinds import add_user_tools
from .turn_record import (
    OUTCOME_CONFIRMATION,
    OUTCOME_LOCAL,
    OUTCOME_RATE_LIMITED,
    TurnRecord,
    async_finish_turn,
)

_LOGGER = logging.getLogger(__name__)

NO_ANSWER_SPEECH = "Sorry, the model gave no answer."
RATE_LIMITED_SPEECH = (
    "I am getting too many requests right now. Please try again in {wait} seconds."
)
_LIMITER: HassKey[tuple[tuple[int, int], RateLimiter]] = HassKey(f"{DOMAIN}_limiter")


def _rate_limiter(hass: HomeAssistant, entry: OllamaConfigEntry) -> RateLimiter:
    """The integration's one limiter, rebuilt only when its limits change."""
    limits = (
        int(entry.options.get(CONF_RATE_PER_MINUTE, DEFAULT_RATE_PER_MINUTE)),
        int(entry.options.get(CONF_RATE_PER_USER_HOUR, DEFAULT_RATE_PER_USER_HOUR)),
    )
    held = hass.data.get(_LIMITER)
    if held is None or held[0] != limits:
        held = hass.data[_LIMITER] = (limits, RateLimiter(*limits))
    return held[1]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one conversation entity per conversation subentry."""
    add_subentry_entities(
        entry, SUBENTRY_CONVERSATION, OllamaConversationEntity, async_add_entities
    )


class OllamaConversationEntity(conversation.ConversationEntity, OllamaLLMEntity):
    """A conversation agent answered by a model on the Ollama server."""

    _attr_supports_streaming = True

    def __init__(self, entry: OllamaConfigEntry, subentry: ConfigSubentry) -> None:
        """Create the agent for one subentry."""
        super().__init__(entry, subentry)

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Any language the model speaks."""
        return MATCH_ALL

    @property
    def supported_features(self) -> conversation.ConversationEntityFeature:
        """It can control the home when it has an LLM API to do it with."""
        if self.options.get(CONF_LLM_HASS_API):
            return conversation.ConversationEntityFeature.CONTROL
        return conversation.ConversationEntityFeature(0)

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Answer the turn; what it did goes to the agent's figures and its event."""
        record = TurnRecord.start(
            self.entity_id, self.subentry_id, user_input, self.options
        )
        result: conversation.ConversationResult | None = None
        try:
            result = await self._async_answer(user_input, chat_log, record)
        finally:
            async_finish_turn(
                self.hass,
                self.entry,
                record,
                result,
                conversation_id=chat_log.conversation_id,
                context=user_input.context,
            )
        return result

    async def _async_answer(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        record: TurnRecord,
    ) -> conversation.ConversationResult:
        """Answer locally when Home Assistant knows the command, else ask the model."""
        options = self.options
        usage = self.entry.runtime_data.usage
        usage.turns += 1
        user_id = user_input.context.user_id if user_input.context else None
        if (
            answer := await async_answer_pending(
                self.hass,
                chat_log.conversation_id,
                user_input.text,
                user_input.language,
                user_id,
                device_id=user_input.device_id,
            )
        ) is not None:
            record.outcome = OUTCOME_CONFIRMATION
            return self._say(user_input, chat_log, answer)
        local = LocalAttempt()
        if options.get(CONF_PREFER_LOCAL, DEFAULT_PREFER_LOCAL) and (
            result := await async_handle_locally(self.hass, user_input, chat_log, local)
        ):
            usage.local_turns += 1
            record.outcome, record.local = OUTCOME_LOCAL, True
            return result
        if (
            wait := _rate_limiter(self.hass, self.entry).try_acquire(user_id)
        ) is not None:
            record.outcome = OUTCOME_RATE_LIMITED
            return self._say(
                user_input,
                chat_log,
                RATE_LIMITED_SPEECH.format(wait=max(1, math.ceil(wait))),
            )
        try:
            await chat_log.async_provide_llm_data(
                user_input.as_llm_context(DOMAIN),
                options.get(CONF_LLM_HASS_API),
                options.get(CONF_PROMPT),
                user_input.extra_system_prompt,
            )
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        add_memory_tools(chat_log.llm_api, options)
        add_user_tools(chat_log.llm_api, options.get(CONF_USER_TOOLS))
        try:
            await TurnAnswer(
                self.hass,
                self.entry,
                self.entity_id,
                options,
                chat_log,
                home_context=await self._async_home_context(user_input, chat_log),
                memory=memory_prompt(self.hass, options, user_id, user_input.text),
                record=record,
            ).async_answer(user_input, recognized=local.recognized)
        except OllamaError as err:
            return self._failed(user_input, chat_log, err)
        last = chat_log.content[-1]
        if not isinstance(last, conversation.AssistantContent) or not last.content:
            chat_log.async_add_assistant_content_without_tools(
                conversation.AssistantContent(
                    agent_id=self.entity_id, content=NO_ANSWER_SPEECH
                )
            )
        return conversation.async_get_result_from_chat_log(user_input, chat_log)

    async def _async_home_context(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> HomeContext | None:
        """The compact home description, when the agent uses this integration's API."""
        api = chat_log.llm_api
        if api is None or not any(tool.name == FIND_DEVICES for tool in api.tools):
            return None
        runtime = self.entry.runtime_data
        index = device_index(self.hass)
        similarities = None
        if embedding_model := self.options.get(CONF_EMBEDDING_MODEL):
            similarities = await runtime.semantic.async_similarities(
                runtime.client, embedding_model, index.devices(), user_input.text
            )
        return build_context(
            index,
            user_input.text,
            budget=int(self.options.get(CONF_CONTEXT_BUDGET, DEFAULT_CONTEXT_BUDGET)),
            chars_per_token=runtime.estimator.ratio(self.options[CONF_MODEL]),
            satellite_area=area_of_requester(
                self.hass, user_input.device_id, user_input.satellite_id
            ),
            similarities=similarities,
        )

    def _say(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        speech: str,
    ) -> conversation.ConversationResult:
        """Answer without the model (a confirmation's outcome, a rate limit)."""
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=speech)
        )
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech(speech)
        return conversation.ConversationResult(
            response=response, conversation_id=chat_log.conversation_id
        )

    def _failed(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        err: OllamaError,
    ) -> conversation.ConversationResult:
        """Say in one sentence what went wrong, and keep the chat log whole."""
        self.entry.runtime_data.usage.failed_turns += 1
        _LOGGER.error("%s could not answer: %s", self.entity_id, err)
        if isinstance(err, InvalidAuth):
            self.entry.async_start_reauth(self.hass)
        if isinstance(err, ModelNotFound):
            self.entry.runtime_data.client.forget_model_info()
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=err.speech)
        )
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, err.speech)
        return conversation.ConversationResult(
            response=response, conversation_id=chat_log.conversation_id
        )
