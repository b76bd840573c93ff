"""Fit one request into the agent's num_ctx, trimming what matters least first.

Ollama silently cuts the start of a prompt longer than num_ctx: the instructions and
the tools go first. So before sending, in this order: the oldest earlier turns are
dropped, then the least relevant lines of the home's changing tail, then the home's
directory is rebuilt smaller. If the instructions, the tools and the request still do
not fit, the request is sent with num_ctx raised just enough (never above what the
model supports), which is logged once and raised as a repair issue naming the size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import logging
import math

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .client import ModelInfo
from .const import DOMAIN, MIN_CONTEXT_BUDGET
from .context import HomeContext, build_context, device_index
from .context_window import fit_messages
from .messages import Message
from .runtime import OllamaRuntimeData

_LOGGER = logging.getLogger(__name__)

# A raised num_ctx is rounded up to this, so that it does not change every request
# (a new num_ctx makes Ollama load the model again).
NUM_CTX_STEP = 256
# State lines of the changing tail tried, fewest last, before the directory shrinks.
TAIL_LINES = (10, 3, 0)
NUM_CTX_ISSUE_PREFIX = "num_ctx_too_small_"


def with_home_context(history: list[Message], context: HomeContext) -> list[Message]:
    """The request with the home's description added.

    The directory goes at the end of the system prompt: it changes rarely, so Ollama's
    prompt cache keeps it. The changing part goes after the current request.
    """
    messages = list(history)
    messages[0] = {
        **messages[0],
        "content": f"{messages[0]['content']}\n\n{context.directory}",
    }
    if not context.current:
        return messages
    current = max(
        index for index, message in enumerate(messages) if message["role"] == "user"
    )
    messages[current] = {
        **messages[current],
        "content": f"{messages[current]['content']}\n\n{context.current}",
    }
    return messages


@dataclass(frozen=True, slots=True)
class FitLimits:
    """What an agent's request must fit."""

    num_ctx: int
    prompt_budget: int
    max_history: int
    context_budget: int


class PromptFitter:
    """Fits each round's request of one turn; a trimmed home context stays trimmed."""

    def __init__(
        self,
        hass: HomeAssistant,
        runtime: OllamaRuntimeData,
        chat_log: conversation.ChatLog,
        agent_id: str,
        *,
        model: str,
        limits: FitLimits,
        home_context: HomeContext | None,
    ) -> None:
        """Hold what fitting needs."""
        self.hass = hass
        self.runtime = runtime
        self.chat_log = chat_log
        self.agent_id = agent_id
        self.model = model
        self.limits = limits
        self.home_context = home_context

    def fit(
        self, history: list[Message], tools_chars: int, info: ModelInfo
    ) -> tuple[list[Message], int]:
        """The messages to send and the num_ctx to send them with."""
        budget = self.limits.prompt_budget
        plain, messages = self._drop_old_turns(history, tools_chars)
        if self._size(messages, tools_chars) > budget:
            for smaller in self._smaller_contexts():
                self.home_context = smaller
                messages = with_home_context(plain, smaller)
                if self._size(messages, tools_chars) <= budget:
                    break
        size = self._size(messages, tools_chars)
        num_ctx = max(
            self.limits.num_ctx, self.runtime.raised_num_ctx.get(self.agent_id, 0)
        )
        if size > budget:
            num_ctx = max(num_ctx, self._raise(size, info))
        return messages, num_ctx

    def _size(self, messages: list[Message], tools_chars: int) -> int:
        return self.runtime.estimator.estimate(self.model, messages, tools_chars)

    def _apply(self, messages: list[Message]) -> list[Message]:
        if self.home_context is None:
            return messages
        return with_home_context(messages, self.home_context)

    def _drop_old_turns(
        self, history: list[Message], tools_chars: int
    ) -> tuple[list[Message], list[Message]]:
        """Drop the oldest turns until it fits; the plain and the described request."""
        plain, dropped = fit_messages(
            history,
            max_history=self.limits.max_history,
            budget=self.limits.prompt_budget,
            estimate=lambda candidate: self._size(self._apply(candidate), tools_chars),
        )
        if dropped:
            _LOGGER.info(
                "Dropped the %d oldest turn(s) of the conversation to fit num_ctx %d of %s",
                dropped,
                self.limits.num_ctx,
                self.model,
            )
        return plain, self._apply(plain)

    def _smaller_contexts(self) -> Iterator[HomeContext]:
        """The home described in less: the tail's lines first, then the directory."""
        if self.home_context is None:
            return
        index = device_index(self.hass)
        request = next(
            (
                item.content
                for item in reversed(self.chat_log.content)
                if isinstance(item, conversation.UserContent)
            ),
            "",
        )
        ratio = self.runtime.estimator.ratio(self.model)
        budget = self.limits.context_budget
        for lines in TAIL_LINES:
            yield build_context(
                index, request, budget=budget, chars_per_token=ratio, state_lines=lines
            )
        while budget > MIN_CONTEXT_BUDGET:
            budget = max(MIN_CONTEXT_BUDGET, budget // 2)
            yield build_context(
                index, request, budget=budget, chars_per_token=ratio, state_lines=0
            )

    def _raise(self, size: int, info: ModelInfo) -> int:
        """num_ctx just large enough for `size` prompt tokens and the answer."""
        reserve = self.limits.num_ctx - self.limits.prompt_budget
        needed = math.ceil((size + reserve) / NUM_CTX_STEP) * NUM_CTX_STEP
        limit = info.context_length or needed
        raised = min(needed, limit)
        if self.runtime.raised_num_ctx.get(self.agent_id, 0) >= raised:
            return raised
        first = self.agent_id not in self.runtime.raised_num_ctx
        self.runtime.raised_num_ctx[self.agent_id] = raised
        if first:
            _LOGGER.warning(
                "The instructions, tools and request of %s need about %d tokens, more "
                "than its num_ctx %d allows: sending them with num_ctx %d%s",
                self.agent_id,
                size,
                self.limits.num_ctx,
                raised,
                "" if needed <= limit else f", the most {self.model} supports",
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{NUM_CTX_ISSUE_PREFIX}{self.agent_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="num_ctx_too_small",
            translation_placeholders={
                "agent": self.agent_id,
                "num_ctx": str(self.limits.num_ctx),
                "needed": str(needed),
            },
        )
        return raised
