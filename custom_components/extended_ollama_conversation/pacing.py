"""How long the server may take to start answering, from the speed it has shown.

Ollama says nothing until it has read the whole prompt, and on a CPU that takes
minutes for a few thousand tokens. So the first line of an answer may take as long as
the prompt needs at the slowest speed the server has shown lately (with a margin), up
to a limit; once the answer streams, the configured timeout is the longest silence
allowed between two lines.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
import json
from typing import Any

# Until the server has answered once, assume the slowest reading the integration is
# meant for (a 2-core CPU) so that the first request after start-up does not fail.
ASSUMED_TOKENS_PER_SECOND = 15.0
# Prompts of fewer tokens measure overhead more than speed.
MIN_SAMPLE_TOKENS = 32
# Speeds remembered: the slowest of them is used, since a shared machine varies.
SAMPLES = 5
SAFETY_FACTOR = 1.5
# The first answer may take at most this many times the configured timeout ...
LIMIT_FACTOR = 10
# ... and never more than this many seconds.
MAX_FIRST_ANSWER_SECONDS = 900.0
# A conservative characters-per-token for sizing a prompt before it is sent.
CHARS_PER_TOKEN = 3.0
NANOSECONDS = 1e9


def prompt_tokens(request: dict[str, Any]) -> int:
    """Roughly the tokens a request's prompt holds (erring high)."""
    chars = sum(
        len(str(message.get("content") or "")) + len(str(message.get("thinking") or ""))
        for message in request.get("messages") or ()
    )
    if tools := request.get("tools"):
        chars += len(json.dumps(tools, default=str))
    return int(chars / CHARS_PER_TOKEN) + 1


@dataclass
class ServerPace:
    """The server's prompt reading speed and model load time, as it reported them."""

    timeout: float
    speeds: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    load_seconds: float = 0.0

    def record(self, final: Any) -> None:
        """Learn from the last line of an answer (Ollama's statistics)."""
        count = getattr(final, "prompt_eval_count", None) or 0
        duration = getattr(final, "prompt_eval_duration", None) or 0
        if count >= MIN_SAMPLE_TOKENS and duration > 0:
            self.speeds.append(count / (duration / NANOSECONDS))
        if load := getattr(final, "load_duration", None):
            self.load_seconds = max(self.load_seconds, load / NANOSECONDS)

    @property
    def tokens_per_second(self) -> float:
        """The slowest recent speed, or the assumed one before any answer."""
        return min(self.speeds, default=ASSUMED_TOKENS_PER_SECOND)

    @property
    def limit(self) -> float:
        """The longest any first answer may take."""
        return max(
            self.timeout, min(self.timeout * LIMIT_FACTOR, MAX_FIRST_ANSWER_SECONDS)
        )

    def first_answer_seconds(self, tokens: int) -> float:
        """How long to wait for the first line of an answer to a prompt of `tokens`."""
        reading = tokens / self.tokens_per_second * SAFETY_FACTOR
        return min(self.limit, self.timeout + self.load_seconds + reading)
