"""Tool calls that a small model wrote into its answer instead of `tool_calls`.

Small local models often write `{"name": ..., "arguments": ...}` as text, in a fenced
JSON block, between <tool_call> tags, or in a sentence, or a call like
`control("Kitchen Lights", "turn_off")` (see `function_calls`). Such text must be run, not
spoken: `SpeechFilter` holds back anything that may be a call while the answer streams,
and `extract_tool_calls` finds the calls once the answer is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import json
import re
from typing import Any

from .function_calls import call_start, find_function_calls, trailing_name

_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
_NAME_KEYS = ("name", "tool", "tool_name", "function")

# Where a call written as text may begin: a JSON object, a fence, a tag, a list of objects.
_OPENER = re.compile(r"\{|```|<tool_call>|\[\s*\{")
# The end of a chunk that may be the first characters of an opener.
_PARTIAL_OPENER = re.compile(r"(`{1,2}|<(t(o(o(l(_(c(a(l(l)?)?)?)?)?)?)?)?)?|\[\s*)$")
_TAGGED = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```[\w-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TextToolCall:
    """One call found in the text: a tool name and its raw arguments."""

    name: str
    arguments: Any


def extract_tool_calls(
    text: str, is_tool_name: Callable[[str], bool]
) -> tuple[str, list[TextToolCall]]:
    """Split an answer into what is left to say and the tool calls written in it.

    An object with an explicit arguments key (or a `function` key) is a call even when
    its name is unknown, so the model can be told it used a wrong name. A bare
    `{"name": ...}` is a call only when the name is one of the offered tools.
    """
    calls: list[TextToolCall] = []
    spans: list[tuple[int, int]] = []
    for pattern in (_TAGGED, _FENCED):
        for match in pattern.finditer(text):
            if _overlaps(match.span(), spans):
                continue
            found = list(_calls_in(match.group(1), is_tool_name)) or [
                TextToolCall(call.name, call.arguments)
                for call in find_function_calls(match.group(1), is_tool_name)
            ]
            if found:
                calls.extend(found)
                spans.append(match.span())
    decoder = json.JSONDecoder()
    position = 0
    while (opener := _OPENER.search(text, position)) is not None:
        start = opener.start()
        if _overlaps((start, start + 1), spans):
            position = start + 1
            continue
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        found = list(_calls_from_value(value, is_tool_name))
        if found:
            calls.extend(found)
            spans.append((start, end))
        position = end if found else start + 1
    for call in find_function_calls(text, is_tool_name):
        if not _overlaps((call.start, call.end), spans):
            calls.append(TextToolCall(call.name, call.arguments))
            spans.append((call.start, call.end))
    return _remove_spans(text, spans), calls


def has_json_object(text: str) -> bool:
    """Whether the text holds a JSON object: not something to read aloud."""
    decoder = json.JSONDecoder()
    for opener in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, opener.start())
        except ValueError:
            continue
        if isinstance(value, dict) and value:
            return True
    return False


# An answer written as a small flat JSON object ({"temperature": "19.5 °C"}) is said
# in words when it has at most this many values.
_MAX_WORDED_VALUES = 4
# Keys under which the value is the whole answer.
_ANSWER_KEYS = frozenset({"answer", "response", "reply", "text", "message", "speech"})


def json_as_words(text: str) -> str | None:
    """Words for an answer that is only a small flat JSON object, else None.

    A small model asked "what's the temperature in the bedroom?" may answer
    `{"temperature": "19.5 °C"}`: the value is right, only the form is wrong, and
    asking again makes it worse. An object that may be a call is never worded.
    """
    body = text.strip()
    if fenced := _FENCED.fullmatch(body):
        body = fenced.group(1).strip()
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if (
        not isinstance(value, dict)
        or not 0 < len(value) <= _MAX_WORDED_VALUES
        or any(key in value for key in (*_NAME_KEYS, *_ARGUMENT_KEYS, "type"))
        or not all(isinstance(v, str | int | float) for v in value.values())
    ):
        return None
    if len(value) == 1 and (key := next(iter(value))) in _ANSWER_KEYS:
        return str(value[key]).strip() or None
    words = "; ".join(
        f"{str(key).replace('_', ' ')}: {item}" for key, item in value.items()
    )
    return f"{words[:1].upper()}{words[1:]}."


def _calls_in(
    block: str, is_tool_name: Callable[[str], bool]
) -> Iterator[TextToolCall]:
    """Yield the calls in a fenced or tagged block (one value, or one per line)."""
    block = block.strip()
    try:
        yield from _calls_from_value(json.loads(block), is_tool_name)
    except ValueError:
        for line in block.splitlines():
            try:
                yield from _calls_from_value(json.loads(line), is_tool_name)
            except ValueError:
                continue


def _calls_from_value(
    value: Any, is_tool_name: Callable[[str], bool]
) -> Iterator[TextToolCall]:
    """Yield the calls a decoded JSON value describes, if it has the shape of calls."""
    if isinstance(value, list):
        candidates = [_as_call(item, is_tool_name) for item in value]
        if candidates and all(candidates):
            yield from (call for call in candidates if call is not None)
        return
    if (call := _as_call(value, is_tool_name)) is not None:
        yield call


def _as_call(value: Any, is_tool_name: Callable[[str], bool]) -> TextToolCall | None:
    """Read one object as a tool call, in any of the shapes small models write."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "function" and isinstance(value.get("function"), dict):
        value = value["function"]
    function = value.get("function")
    if isinstance(function, dict):
        name = function.get("name")
        arguments: Any = next(
            (function[k] for k in _ARGUMENT_KEYS if k in function), {}
        )
        return TextToolCall(name, arguments) if isinstance(name, str) and name else None
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if not name:
        return None
    has_arguments = any(key in value for key in _ARGUMENT_KEYS)
    if not has_arguments and (len(value) != 1 or not is_tool_name(name)):
        return None
    arguments = next((value[k] for k in _ARGUMENT_KEYS if k in value), {})
    return TextToolCall(name, arguments)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Return the text without the spans, with the white space tidied.

    Nothing is left when only punctuation remains, such as the outer braces of a call
    a model wrapped in `{{ }}`.
    """
    kept = []
    position = 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    rest = re.sub(
        r"[ \t]*\n[ \t\n]*", "\n", re.sub(r"[ \t]{2,}", " ", "".join(kept))
    ).strip()
    return rest if re.search(r"\w", rest) else ""


class SpeechFilter:
    """Pass streamed text on at once, except what may be a tool call written as text.

    From the first possible opener on, the text is held until the answer ends; then it
    is either a call (not spoken) or plain text (spoken late, but never lost).
    """

    def __init__(self, is_tool_name: Callable[[str], bool] | None = None) -> None:
        """Start with nothing held.

        `is_tool_name`: also hold calls written like `control("Lamp", "turn_on")`;
        the last word of each chunk then waits for the next one, to see whether a
        "(" follows it.
        """
        self._pending = ""
        self._holding = False
        self._is_tool_name = is_tool_name

    def feed(self, chunk: str) -> str:
        """Take a chunk of the answer; return the part that is safe to say now."""
        self._pending += chunk
        if self._holding:
            return ""
        if (start := self._opener(self._pending)) is not None:
            self._holding = True
            return self._release_before(start)
        if (start := self._partial(self._pending)) is not None:
            return self._release_before(start)
        safe, self._pending = self._pending, ""
        return safe

    def _opener(self, text: str) -> int | None:
        """Where something that may be a call begins."""
        starts = [opener.start()] if (opener := _OPENER.search(text)) else []
        if self._is_tool_name is not None:
            call = call_start(text, self._is_tool_name)
            starts += [] if call is None else [call]
        return min(starts, default=None)

    def _partial(self, text: str) -> int | None:
        """Where the end of the text may be the first characters of an opener."""
        starts = [partial.start()] if (partial := _PARTIAL_OPENER.search(text)) else []
        if self._is_tool_name and (word := trailing_name(text)) is not None:
            starts.append(word)
        return min(starts, default=None)

    def _release_before(self, start: int) -> str:
        safe, self._pending = self._pending[:start], self._pending[start:]
        return safe

    def finish(
        self, is_tool_name: Callable[[str], bool]
    ) -> tuple[str, list[TextToolCall]]:
        """At the end of the answer: the held text left to say, and the calls in it."""
        held, self._pending, self._holding = self._pending, "", False
        if not held:
            return "", []
        rest, calls = extract_tool_calls(held, is_tool_name)
        if not calls:
            return held, []
        return (f" {rest}" if rest and held[:1].isspace() else rest), calls
