"""Reasoning written into the answer between <think> and </think>.

Some models and servers put their reasoning in the text instead of Ollama's `thinking`
field. It must never be spoken or shown, also while the answer streams (a voice
satellite starts reading the first words), and it belongs in the chat log as thinking.
A tag may arrive split across stream chunks, so a chunk's end that could start a tag
is held back until the next chunk says what it is.
"""

from __future__ import annotations

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def _partial_tag_length(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


class ThinkingFilter:
    """Splits streamed text into what may be said and what was thought."""

    def __init__(self) -> None:
        """Start outside a thought, with nothing said yet."""
        self._inside = False
        self._pending = ""
        self._said_anything = False
        self._after_thought = False

    def feed(self, chunk: str) -> tuple[str, str]:
        """Take one chunk; return the text to say and the thinking, as far as known."""
        text = self._pending + chunk
        self._pending = ""
        said: list[str] = []
        thought: list[str] = []
        while text:
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            index = text.find(tag)
            if index < 0:
                keep = _partial_tag_length(text, tag)
                part, self._pending = text[: len(text) - keep], text[len(text) - keep :]
                (thought if self._inside else said).append(part)
                break
            (thought if self._inside else said).append(text[:index])
            text = text[index + len(tag) :]
            self._inside = not self._inside
            self._after_thought = True
        return self._say("".join(said)), "".join(thought)

    def split(self, chunk: str | None, *, done: bool) -> tuple[str, str]:
        """`feed`, and `finish` with the stream's last line."""
        said, thought = self.feed(chunk) if chunk else ("", "")
        if done:
            said_last, thought_last = self.finish()
            said, thought = said + said_last, thought + thought_last
        return said, thought

    def finish(self) -> tuple[str, str]:
        """The end of the stream: what was held back, said or thought."""
        rest, self._pending = self._pending, ""
        if self._inside:
            return "", rest  # an unclosed thought is still not for the listener
        return self._say(rest), ""

    def _say(self, text: str) -> str:
        """Text to say; the blank lines a model leaves after a thought are dropped."""
        if not self._said_anything and self._after_thought:
            text = text.lstrip()
        if text:
            self._said_anything = True
        return text
