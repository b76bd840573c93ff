"""Local first: Home Assistant's own sentence matcher tries a request before the model.

An exact command ("turn off the kitchen light") runs in milliseconds with no request to
the server, as the Assist pipeline's "prefer handling commands locally" does (which
`conversation.process` skips). A command the matcher takes but cannot carry out goes to
the model as if the matcher had never seen it. Requests that touch a lock, an alarm panel, or a garage
door or gate are left to the model's path, where confirmation rules guard them.

Two or three commands joined by "and" ("turn off the kitchen lights and turn on the bed
light") run locally when the matcher takes every one of them, as Home Assistant's own
agent does; a small model often carries out only the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
import logging
import re

from hassil.recognize import RecognizeResult
from homeassistant.components import conversation
from homeassistant.components.cover import CoverDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import intent
import probatio as vol

from .tools.questions import is_question

_LOGGER = logging.getLogger(__name__)

RISKY_DOMAINS = frozenset({"lock", "alarm_control_panel"})
RISKY_COVER_CLASSES = frozenset({CoverDeviceClass.GARAGE, CoverDeviceClass.GATE})
# Questions are better answered by the model, which can say more than a canned reply.
_LEFT_TO_MODEL = frozenset({intent.INTENT_GET_STATE})
# What the matcher may answer for a question: intents that only read. Any other intent
# it takes for a question is a misreading ("how many minutes are in three hours?" is
# no delayed command), so the model gets the request.
_READ_ONLY_INTENTS = frozenset(
    {
        intent.INTENT_GET_CURRENT_DATE,
        intent.INTENT_GET_CURRENT_TIME,
        intent.INTENT_TIMER_STATUS,
        intent.INTENT_GET_TEMPERATURE,
        "HassGetWeather",
    }
)


# "A and B", "A, and then B", "A, B and C": the commands of one request.
_CLAUSE_BREAK = re.compile(
    r"\s*(?:,\s*)?\band\b(?:\s+then\b)?\s*|\s*,\s*", re.IGNORECASE
)
_MAX_CLAUSES = 3


@dataclass(slots=True)
class LocalAttempt:
    """What the matcher made of a request it left to the model (routing reads it)."""

    # The matcher recognised a sentence about the home, but did not answer it.
    recognized: bool = False


async def async_handle_locally(
    hass: HomeAssistant,
    user_input: conversation.ConversationInput,
    chat_log: conversation.ChatLog,
    attempt: LocalAttempt | None = None,
) -> conversation.ConversationResult | None:
    """Answer from Home Assistant's own matcher, or return None to ask the model."""
    response: intent.IntentResponse | None
    trigger_speech = await conversation.async_handle_sentence_triggers(
        hass, user_input, chat_log
    )
    if trigger_speech is not None:
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech(trigger_speech)
    else:
        seen = attempt or LocalAttempt()
        response = await _async_try_intents(hass, user_input, chat_log, seen)
        if response is None:
            response = await _async_try_clauses(hass, user_input, chat_log, seen)
        if response is None:
            return None
    speech: str = response.speech.get("plain", {}).get("speech", "")
    chat_log.async_add_assistant_content_without_tools(
        conversation.AssistantContent(
            agent_id=conversation.HOME_ASSISTANT_AGENT, content=speech
        )
    )
    _LOGGER.debug("Handled locally: %r", user_input.text)
    return conversation.ConversationResult(
        response=response, conversation_id=chat_log.conversation_id
    )


async def _async_try_intents(
    hass: HomeAssistant,
    user_input: conversation.ConversationInput,
    chat_log: conversation.ChatLog,
    seen: LocalAttempt,
) -> intent.IntentResponse | None:
    """Run the matcher on a scratch log; keep its attempt only when it succeeded.

    A failed attempt ("no valid targets", two devices of one name, a device of another
    class than the sentence implied) hands the request to the model, which must not read
    the matcher's "I am not aware of any …" and repeat it instead of trying.
    """
    attempt = conversation.ChatLog(hass, chat_log.conversation_id)
    response = await conversation.async_handle_intents(
        hass, user_input, attempt, intent_filter=_model_filter(hass, user_input, seen)
    )
    if response is None or response.response_type is intent.IntentResponseType.ERROR:
        if response is not None or len(attempt.content) > 1:
            _LOGGER.debug(
                "The matcher took %r but failed; asking the model", user_input.text
            )
        return None
    for content in attempt.content[1:]:
        if isinstance(
            content, conversation.AssistantContent | conversation.ToolResultContent
        ):
            chat_log.async_add_assistant_content_without_tools(content)
    return response


def _model_filter(
    hass: HomeAssistant, user_input: conversation.ConversationInput, seen: LocalAttempt
) -> Callable[[RecognizeResult], bool]:
    """The matcher's filter: True for what it recognised but must leave to the model."""
    question = is_question(user_input.text, user_input.language)

    def leave_to_model(result: RecognizeResult) -> bool:
        seen.recognized = True
        # A question the matcher reads as a command is a misreading (see above).
        if question and result.intent.name not in _READ_ONLY_INTENTS:
            return True
        return _leave_to_model(hass, result)

    return leave_to_model


async def _async_try_clauses(
    hass: HomeAssistant,
    user_input: conversation.ConversationInput,
    chat_log: conversation.ChatLog,
    seen: LocalAttempt,
) -> intent.IntentResponse | None:
    """Run "A and B" locally when the matcher takes each command; else None.

    Every command is first only recognised, so that nothing runs unless all can.
    """
    clauses = [c for c in _CLAUSE_BREAK.split(user_input.text) if c.strip()]
    if not 1 < len(clauses) <= _MAX_CLAUSES:
        return None
    inputs = [replace(user_input, text=clause) for clause in clauses]
    for clause in inputs:
        if not await _async_recognized_locally(hass, clause, chat_log):
            return None
    responses = []
    for clause in inputs:
        if (response := await _async_try_intents(hass, clause, chat_log, seen)) is None:
            return None  # the model takes over; what ran is in the chat log
        responses.append(response)
    merged = responses[0]
    merged.async_set_speech(
        " ".join(
            _sentence(r.speech.get("plain", {}).get("speech", "")) for r in responses
        )
    )
    return merged


def _sentence(speech: str) -> str:
    """A reply as a sentence of a longer answer ("Turned off the light.")."""
    speech = speech.strip()
    return speech if not speech or speech[-1] in ".!?" else f"{speech}."


async def _async_recognized_locally(
    hass: HomeAssistant,
    user_input: conversation.ConversationInput,
    chat_log: conversation.ChatLog,
) -> bool:
    """Whether the matcher takes the command and may run it (nothing is run)."""
    taken: list[bool] = []
    leave_to_model = _model_filter(hass, user_input, LocalAttempt())

    def recognise_only(result: RecognizeResult) -> bool:
        taken.append(not leave_to_model(result))
        return True  # skip: nothing runs in this pass

    await conversation.async_handle_intents(
        hass,
        user_input,
        conversation.ChatLog(hass, chat_log.conversation_id),
        intent_filter=recognise_only,
    )
    return taken == [True]


def _leave_to_model(hass: HomeAssistant, result: RecognizeResult) -> bool:
    """Whether a recognised command must go to the model instead (True skips it)."""
    if result.intent.name in _LEFT_TO_MODEL:
        return True
    slots = result.entities
    domains = (
        set(vol.EnsureList()(slots["domain"].value)) if "domain" in slots else set()
    )
    if domains & RISKY_DOMAINS:
        return True
    device_classes = (
        set(vol.EnsureList()(slots["device_class"].value))
        if "device_class" in slots
        else set()
    )
    if device_classes & RISKY_COVER_CLASSES:
        return True
    constraints = intent.MatchTargetsConstraints(
        name=str(slots["name"].value) if "name" in slots else None,
        area_name=str(slots["area"].value) if "area" in slots else None,
        floor_name=str(slots["floor"].value) if "floor" in slots else None,
        domains=domains or None,
        device_classes=device_classes or None,
        assistant=conversation.DOMAIN,
    )
    if not constraints.has_constraints:
        return False
    targets = intent.async_match_targets(hass, constraints).states
    return any(_is_risky(state) for state in targets)


def _is_risky(state: State) -> bool:
    """Whether acting on this entity needs the model's confirmation rules."""
    if state.domain in RISKY_DOMAINS:
        return True
    return (
        state.domain == "cover"
        and state.attributes.get(ATTR_DEVICE_CLASS) in RISKY_COVER_CLASSES
    )
