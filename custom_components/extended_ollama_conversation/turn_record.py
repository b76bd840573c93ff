"""What one conversation turn did, and the turn event that says so.

conversation.py starts one record per turn; the turn loop (turn.py) adds each model
round's figures and the tools it called; answering.py adds which model and server
answered. When the turn ends, the record goes to the agent's figures (agent_stats.py)
and becomes one `extended_ollama_conversation_turn` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.util import dt as dt_util

from .client import display_host
from .const import CONF_EVENT_INCLUDE_TEXT, DEFAULT_EVENT_INCLUDE_TEXT, EVENT_TURN

if TYPE_CHECKING:
    from .runtime import OllamaConfigEntry

# How a turn ended.
OUTCOME_ANSWERED = "answered"  # the model answered (or asked for a confirmation)
OUTCOME_LOCAL = "local"  # Home Assistant's sentence matcher answered
OUTCOME_CONFIRMATION = "confirmation"  # the turn answered a pending confirmation
OUTCOME_RATE_LIMITED = "rate_limited"
OUTCOME_ERROR = "error"


@dataclass(slots=True)
class TurnRecord:
    """One turn's figures, filled while it runs; empty for a turn outside a record."""

    agent_id: str = ""
    subentry_id: str = ""
    user_id: str | None = None
    device_id: str | None = None
    text: str = ""
    started: datetime = field(default_factory=dt_util.utcnow)
    _clock: float = field(default_factory=time.monotonic)
    duration: float = 0.0
    model: str | None = None
    rounds: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    eval_ns: int = 0
    tools: list[str] = field(default_factory=list)
    local: bool = False
    outcome: str = OUTCOME_ANSWERED
    answer: str = ""
    include_text: bool = False
    # What answering.py says about the model and server that answered.
    answered_by: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        agent_id: str,
        subentry_id: str,
        user_input: conversation.ConversationInput,
        options: Mapping[str, Any],
    ) -> TurnRecord:
        """The record of a turn that starts now."""
        return cls(
            agent_id=agent_id,
            subentry_id=subentry_id,
            user_id=user_input.context.user_id if user_input.context else None,
            device_id=user_input.device_id,
            text=user_input.text,
            include_text=bool(
                options.get(CONF_EVENT_INCLUDE_TEXT, DEFAULT_EVENT_INCLUDE_TEXT)
            ),
        )

    def add_round(self, model: str, final: Any) -> None:
        """Count one request's figures from the stream's final chunk."""
        self.model = model
        self.rounds += 1
        self.prompt_tokens += final.prompt_eval_count or 0
        self.generated_tokens += final.eval_count or 0
        self.eval_ns += final.eval_duration or 0

    @property
    def reached_model(self) -> bool:
        """A model answered at least one request of this turn."""
        return self.rounds > 0

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed over the turn's requests, as Ollama measured it."""
        if not self.eval_ns or not self.generated_tokens:
            return None
        return self.generated_tokens / (self.eval_ns / 1e9)

    def finish(self, result: conversation.ConversationResult | None) -> None:
        """Stop the clock; a turn without a result or with an error result failed."""
        self.duration = time.monotonic() - self._clock
        if (
            result is None
            or result.response.response_type is intent.IntentResponseType.ERROR
        ):
            self.outcome = OUTCOME_ERROR
        if result is not None:
            speech = result.response.speech.get("plain", {}).get("speech", "")
            self.answer = str(speech)

    def figures(self) -> dict[str, Any]:
        """The turn's figures, with its words only when the agent allows them."""
        data: dict[str, Any] = {
            "agent": self.agent_id,
            "model": self.model,
            "duration": round(self.duration, 3),
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            "tools": list(self.tools),
            "local": self.local,
            "user_id": self.user_id,
            "device_id": self.device_id,
            "outcome": self.outcome,
        }
        if self.include_text:
            data |= {"text": self.text, "answer": self.answer}
        return data


def async_finish_turn(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    record: TurnRecord,
    result: conversation.ConversationResult | None,
    *,
    conversation_id: str,
    context: Context | None,
) -> None:
    """Count the turn in the agent's figures and fire its one event."""
    record.finish(result)
    entry.runtime_data.stats.async_add_turn(record)
    unanswered = {
        "conversation_id": conversation_id,
        "kind": None,
        "routed_by": None,
        "entry_id": entry.entry_id,
        "server": display_host(entry.runtime_data.client.url),
        "fell_back": False,
        "model_fell_back": False,
        "rounds": 0,
        "error": None,
    }
    data = {
        **unanswered,
        "agent_id": record.agent_id,
        **record.answered_by,
        **record.figures(),
    }
    if record.model is None and record.answered_by.get("model"):
        data["model"] = record.answered_by["model"]
    hass.bus.async_fire(EVENT_TURN, data, context=context)
