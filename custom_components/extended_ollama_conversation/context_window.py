"""Keep a request inside the model's context window.

Ollama silently drops the start of a prompt longer than num_ctx, which throws away the
instructions and the home's state. So the prompt's size is estimated before sending
(characters per token, calibrated per model from the prompt_eval_count Ollama reports),
and whole earlier turns are dropped, oldest first, until it fits. The system prompt and
the current request are never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import logging
from typing import Any

_LOGGER = logging.getLogger(__name__)

# A cautious starting point: most tokenizers average 3.5 to 4.5 characters a token on
# English prompts; JSON-heavy prompts are denser.
DEFAULT_CHARS_PER_TOKEN = 3.2
# Measurements outside this range are not a tokenizer's (see `calibrate`).
MIN_CHARS_PER_TOKEN = 1.5
MAX_CHARS_PER_TOKEN = 6.0
# Per-message overhead of chat templates (role markers and separators), in tokens.
MESSAGE_OVERHEAD_TOKENS = 4


@dataclass
class TokenEstimator:
    """Characters per token for each model, learned from what Ollama reports."""

    chars_per_token: dict[str, float] = field(default_factory=dict)

    def estimate(
        self, model: str, messages: list[dict[str, Any]], tools_chars: int
    ) -> int:
        """Estimate the prompt tokens of a request."""
        return self.tokens(model, _prompt_chars(messages) + tools_chars) + (
            MESSAGE_OVERHEAD_TOKENS * len(messages)
        )

    def tokens(self, model: str, chars: int) -> int:
        """Estimate the tokens of `chars` characters for a model."""
        return int(chars / self.ratio(model)) + 1

    def ratio(self, model: str) -> float:
        """Characters per token for a model (a cautious default until measured)."""
        return self.chars_per_token.get(model, DEFAULT_CHARS_PER_TOKEN)

    def calibrate(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools_chars: int,
        prompt_tokens: int,
    ) -> None:
        """Learn from a request Ollama has counted (a moving average, cautious side)."""
        text_tokens = prompt_tokens - MESSAGE_OVERHEAD_TOKENS * len(messages)
        if text_tokens <= 0:
            return
        measured = (_prompt_chars(messages) + tools_chars) / text_tokens
        if not MIN_CHARS_PER_TOKEN <= measured <= MAX_CHARS_PER_TOKEN:
            return  # a prompt served partly from Ollama's cache counts fewer tokens
        previous = self.chars_per_token.get(model)
        ratio = measured if previous is None else 0.7 * previous + 0.3 * measured
        # Round down a little: overestimating tokens trims a turn early, underestimating
        # lets Ollama cut the instructions.
        self.chars_per_token[model] = ratio * 0.95


def _prompt_chars(messages: list[dict[str, Any]]) -> int:
    text = sum(
        len(m.get("content") or "") + len(m.get("thinking") or "") for m in messages
    )
    calls = sum(
        len(json.dumps(m["tool_calls"])) for m in messages if m.get("tool_calls")
    )
    return text + calls


def fit_messages(
    messages: list[dict[str, Any]],
    *,
    max_history: int,
    budget: int,
    estimate: Any,
) -> tuple[list[dict[str, Any]], int]:
    """Drop the oldest earlier turns until the request fits; return it and the count dropped.

    A turn starts at a user message. `estimate(messages)` gives a request's tokens.
    """
    system, rest = messages[:1], messages[1:]
    starts = [index for index, message in enumerate(rest) if message["role"] == "user"]
    if not starts:
        return messages, 0
    turns = [rest[a:b] for a, b in zip(starts, [*starts[1:], len(rest)], strict=True)]
    leading = rest[: starts[0]]  # content before the first user message, if any
    current, earlier = turns[-1], turns[:-1]
    dropped = 0
    if max_history > 0 and len(earlier) > max_history:
        dropped = len(earlier) - max_history
        earlier = earlier[dropped:]
        leading = []

    def assemble() -> list[dict[str, Any]]:
        return [*system, *leading, *(m for turn in earlier for m in turn), *current]

    fitted = assemble()
    while earlier and estimate(fitted) > budget:
        earlier = earlier[1:]
        leading = []
        dropped += 1
        fitted = assemble()
    return fitted, dropped
