"""Unit tests of the pieces behind small-model robustness."""

from __future__ import annotations

import pytest

from custom_components.extended_ollama_conversation.tools.arguments import (
    coerce_arguments,
)
from custom_components.extended_ollama_conversation.tools.text_calls import (
    SpeechFilter,
    TextToolCall,
    extract_tool_calls,
)

KNOWN = {"intent__HassTurnOn", "homeassistant__GetLiveContext"}


def known(name: str) -> bool:
    return name in KNOWN or f"homeassistant__{name}" in KNOWN


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "brightness": {"type": "integer"},
        "level": {"type": "number"},
        "on": {"type": "boolean"},
        "domain": {"type": "array", "items": {"type": "string"}},
        "mode": {"type": "string", "enum": ["heat", "cool"]},
        "nested": {"type": "object", "properties": {"count": {"type": "integer"}}},
        "either": {"type": ["string", "integer"]},
    },
    "required": ["name"],
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"name": "x", "brightness": "50"}, {"name": "x", "brightness": 50}),
        ({"name": "x", "brightness": "50 %"}, {"name": "x", "brightness": 50}),
        ({"name": "x", "brightness": 50.0}, {"name": "x", "brightness": 50}),
        ({"name": "x", "brightness": "bright"}, {"name": "x", "brightness": "bright"}),
        ({"name": "x", "level": "2.5"}, {"name": "x", "level": 2.5}),
        ({"name": "x", "on": "yes"}, {"name": "x", "on": True}),
        ({"name": "x", "on": "off"}, {"name": "x", "on": False}),
        ({"name": "x", "on": "maybe"}, {"name": "x", "on": "maybe"}),
        ({"name": "x", "domain": "light"}, {"name": "x", "domain": ["light"]}),
        (
            {"name": "x", "domain": '["light", "switch"]'},
            {"name": "x", "domain": ["light", "switch"]},
        ),
        ({"name": "x", "mode": "HEAT"}, {"name": "x", "mode": "heat"}),
        ({"name": 12}, {"name": "12"}),
        (
            {"name": "x", "nested": '{"count": "3"}'},
            {"name": "x", "nested": {"count": 3}},
        ),
        ({"name": "x", "either": "5"}, {"name": "x", "either": "5"}),
        ({"name": "x", "floor": "None", "area": None}, {"name": "x"}),
        ({"name": "None"}, {"name": "None"}),
        ('{"name": "x", "brightness": "7"}', {"name": "x", "brightness": 7}),
        (None, {}),
        ({"name": "x", "extra": "kept"}, {"name": "x", "extra": "kept"}),
    ],
)
def test_coerce_arguments(given: object, expected: object) -> None:
    """Only repairs the schema makes unambiguous; required values are never dropped."""
    assert coerce_arguments(given, SCHEMA) == expected


@pytest.mark.parametrize(
    ("text", "speech", "calls"),
    [
        (
            '{"name": "intent__HassTurnOn", "arguments": {"name": "Lamp"}}',
            "",
            [TextToolCall("intent__HassTurnOn", {"name": "Lamp"})],
        ),
        (
            'Okay. {"name": "GetLiveContext"} Done.',
            "Okay. Done.",
            [TextToolCall("GetLiveContext", {})],
        ),
        ('{"name": "Kitchen"}', '{"name": "Kitchen"}', []),
        ('{"name": "made_up", "arguments": {}}', "", [TextToolCall("made_up", {})]),
        (
            '{"type": "function", "function": {"name": "intent__HassTurnOn", "parameters": {"x": 1}}}',
            "",
            [TextToolCall("intent__HassTurnOn", {"x": 1})],
        ),
        (
            '{"tool": "intent__HassTurnOn", "args": {"name": "A"}}',
            "",
            [TextToolCall("intent__HassTurnOn", {"name": "A"})],
        ),
        (
            '[{"name": "intent__HassTurnOn", "arguments": {"name": "A"}}, {"name": "intent__HassTurnOn", "arguments": {"name": "B"}}]',
            "",
            [
                TextToolCall("intent__HassTurnOn", {"name": "A"}),
                TextToolCall("intent__HassTurnOn", {"name": "B"}),
            ],
        ),
        (
            '<tool_call>\n{"name": "intent__HassTurnOn", "arguments": {"name": "A"}}\n</tool_call>',
            "",
            [TextToolCall("intent__HassTurnOn", {"name": "A"})],
        ),
        (
            'Here:\n```json\n{"name": "intent__HassTurnOn", "arguments": {"name": "A"}}\n{"name": "intent__HassTurnOn", "arguments": {"name": "B"}}\n```',
            "Here:",
            [
                TextToolCall("intent__HassTurnOn", {"name": "A"}),
                TextToolCall("intent__HassTurnOn", {"name": "B"}),
            ],
        ),
        ("```python\nprint(1)\n```", "```python\nprint(1)\n```", []),
        ("The set {a, b} is small.", "The set {a, b} is small.", []),
        (
            '<tool_call>{"name": "intent__HassTurnOn", "arguments": {}}',
            "",
            [TextToolCall("intent__HassTurnOn", {})],
        ),
    ],
)
def test_extract_tool_calls(text: str, speech: str, calls: list[TextToolCall]) -> None:
    """Every shape small models use is found; text that is not a call is kept."""
    assert extract_tool_calls(text, known) == (speech, calls)


def test_speech_filter_streams_plain_text_at_once() -> None:
    """Plain words pass straight through; a possible opener is held until the end."""
    speech = SpeechFilter()
    assert speech.feed("The lights ") == "The lights "
    assert speech.feed("are on`") == "are on"
    assert speech.feed("``json\n{") == ""
    assert speech.feed('"name": "intent__HassTurnOn", "arguments": {}}\n```') == ""
    assert speech.finish(known) == ("", [TextToolCall("intent__HassTurnOn", {})])


def test_speech_filter_releases_held_plain_text() -> None:
    """Held text that turns out to be plain is said at the end, not lost."""
    speech = SpeechFilter()
    assert speech.feed("Pick <t") == "Pick "
    assert speech.feed("wo> or {three}") == "<two> or "
    assert speech.finish(known) == ("{three}", [])
    assert speech.finish(known) == ("", [])


def test_double_braces_leave_nothing_to_say() -> None:
    """A call wrapped in {{ }} (as small models write it) leaves no stray braces."""
    assert extract_tool_calls(
        '{{"name": "intent__HassTurnOn", "arguments": {"name": "A"}}}', known
    ) == ("", [TextToolCall("intent__HassTurnOn", {"name": "A"})])
