"""Which model wrote an answer, and whether any of it reached the chat log yet.

Each assistant message a turn streams carries an `AnsweredBy` as its `native` content,
so the chat log (and the conversation's debug trace, which shows the chat log) says
which model on which server wrote it. Whether anything was streamed tells the caller if
the turn may still be sent elsewhere: once words were heard or a tool ran, it may not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from homeassistant.components import conversation

from .client import display_host

type Delta = (
    conversation.AssistantContentDeltaDict | conversation.ToolResultContentDeltaDict
)


@dataclass(frozen=True, slots=True)
class AnsweredBy:
    """The model and server of one assistant message (its `native` content)."""

    model: str
    server: str


class AnswerMark:
    """Tags one runner's assistant messages and notes what it streamed."""

    def __init__(self, model: str, url: str) -> None:
        """Nothing is streamed yet."""
        self.answered_by = AnsweredBy(model, display_host(url))
        # Anything beyond the start of a message: words, thoughts, tool calls, results.
        self.streamed = False
        # Requests to /api/chat whose answer was read (the turn's rounds).
        self.rounds = 0

    async def tagged(self, deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        """Pass the deltas on; the first one with content of a message gets the tag."""
        self.rounds += 1
        # A tool result ends the assistant message: a tag after it would make a new one.
        tagged = True
        async for delta in deltas:
            role = delta.get("role")
            if role is not None:
                tagged = role != "assistant"
                if len(delta) == 1:
                    yield delta
                    continue
            self.streamed = True
            yield delta
            if not tagged:
                tagged = True
                yield {"native": self.answered_by}
