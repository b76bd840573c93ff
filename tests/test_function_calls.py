"""Calls written like a function call: `control("Kitchen Lights", "turn_off")`.

The compact API's prompt shows this form because a small model writes it in a third of
the tokens of the JSON form; it must run like any other call and never be spoken.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import (
    CONF_DIRECT_ANSWERS,
    DOMAIN,
)
from custom_components.extended_ollama_conversation.tools.function_calls import (
    FunctionArguments,
)
from custom_components.extended_ollama_conversation.tools.text_calls import (
    SpeechFilter,
    TextToolCall,
    extract_tool_calls,
)

from .conftest import AGENT_OPTIONS
from .helpers import ask_streaming, messages_of, say, speech
from .ollama_stub import OllamaStub, Reply

OFFERED = {"control", "get_state"}


def offered(name: str) -> bool:
    return name in OFFERED


def call(tool: str, /, *positional: Any, **named: Any) -> TextToolCall:
    return TextToolCall(tool, FunctionArguments(positional, named))


@pytest.mark.parametrize(
    ("text", "speech_left", "calls"),
    [
        (
            'control("Kitchen Lights", "turn_off")',
            "",
            [call("control", "Kitchen Lights", "turn_off")],
        ),
        (
            "control('Porch Light', 'set', 50)",
            "",
            [call("control", "Porch Light", "set", 50)],
        ),
        (
            'get_state(name="Front Door")',
            "",
            [call("get_state", name="Front Door")],
        ),
        (
            "control(Office Lights, turn_off)",
            "",
            [call("control", "Office Lights", "turn_off")],
        ),
        (
            '```python\ncontrol("Bed Light", "turn_on")\n```',
            "",
            [call("control", "Bed Light", "turn_on")],
        ),
        (
            'control("A", "turn_off")\ncontrol("B", "turn_on")',
            "",
            [call("control", "A", "turn_off"), call("control", "B", "turn_on")],
        ),
        (
            'Sure. control("A", "turn_off")',
            "Sure.",
            [call("control", "A", "turn_off")],
        ),
        ('control("A", "turn_off"', "", [call("control", "A", "turn_off")]),
        ("```python\nprint(1)\n```", "```python\nprint(1)\n```", []),
        ("The lights (both of them) are on.", "The lights (both of them) are on.", []),
        ("Call print(x) to see it.", "Call print(x) to see it.", []),
    ],
)
def test_function_calls_are_found(
    text: str, speech_left: str, calls: list[TextToolCall]
) -> None:
    """Calls of offered tools are found in any spelling; other parentheses are words."""
    assert extract_tool_calls(text, offered) == (speech_left, calls)


def test_positional_arguments_take_the_tools_parameter_order() -> None:
    """By position: the tool's own parameters in order; a named argument wins."""
    arguments = FunctionArguments(("Lamp", "set", "50%", "extra"), {"action": "open"})
    assert arguments.by_name(["name", "action", "value"]) == {
        "name": "Lamp",
        "action": "open",
        "value": "50%",
    }


def test_a_call_is_held_back_while_it_streams() -> None:
    """Not even the tool's name is said: the last word waits to see if "(" follows."""
    speech_filter = SpeechFilter(offered)
    assert speech_filter.feed("control") == ""
    assert speech_filter.feed('("Kitchen') == ""
    assert speech_filter.feed(' Lights", "turn_off")') == ""
    assert speech_filter.finish(offered) == (
        "",
        [call("control", "Kitchen Lights", "turn_off")],
    )


def test_plain_words_stream_one_word_late() -> None:
    """Words are passed on as soon as the next chunk shows no "(" after them."""
    speech_filter = SpeechFilter(offered)
    assert speech_filter.feed("The lights") == "The "
    assert speech_filter.feed(" are") == "lights "
    assert speech_filter.feed(" on (both).") == "are on (both)."
    assert speech_filter.finish(offered) == ("", [])


COMPACT_DIRECT = {**AGENT_OPTIONS, "llm_hass_api": [DOMAIN], CONF_DIRECT_ANSWERS: True}


@pytest.mark.parametrize("agent_options", [COMPACT_DIRECT])
async def test_the_prompt_shows_the_short_form(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The system prompt shows how to write a call, with names of no real device."""
    ollama_stub.reply("Hello.")
    await say(hass, "hello there, how are you?")
    system = ollama_stub.requests_to("/api/chat")[0].body["messages"][0]["content"]
    assert 'control("Desk Lamp", "turn_off")' in system
    assert 'control("Porch Light", "set", "50%")' in system
    assert 'get_state("Side Gate")' in system


@pytest.mark.parametrize("agent_options", [COMPACT_DIRECT])
@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(["control", '("Kitchen Lights", ', '"turn_off")'], id="control"),
        pytest.param(['turn_off("Kitchen Lights")'], id="an-action-as-the-name"),
        pytest.param(
            ["```python\n", 'control(name="Kitchen Lights", action="turn_off")\n```'],
            id="named-in-a-fence",
        ),
    ],
)
async def test_a_short_call_acts_and_is_never_spoken(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    chunks: list[str],
) -> None:
    """The light goes off; the voice hears the result, nothing of the call."""
    ollama_stub.reply(Reply(chunks))
    result, deltas = await ask_streaming(hass, "the kitchen is too bright, lights off")
    assert hass.states.get("light.kitchen_lights").state == "off"
    spoken = "".join(d.get("content") or "" for d in deltas)
    assert "control" not in spoken
    assert "turn_off" not in spoken
    assert "(" not in spoken
    assert speech(result) == "The kitchen lights are now off."
    assert len(ollama_stub.requests_to("/api/chat")) == 1


@pytest.mark.parametrize("agent_options", [COMPACT_DIRECT])
async def test_a_short_read_answers_a_question(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """`get_state("Front Door")` reads the lock; the answer is its true state."""
    ollama_stub.reply(Reply(['get_state("Front Door")']))
    result = await say(hass, "is the front door locked?")
    assert speech(result) == "The front door is locked."
    assert len(ollama_stub.requests_to("/api/chat")) == 1


@pytest.mark.parametrize(
    "agent_options", [{**COMPACT_DIRECT, CONF_DIRECT_ANSWERS: False}]
)
async def test_the_model_reads_its_short_call_back_as_a_call(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The next round shows the call as a tool call with named arguments."""
    ollama_stub.reply(Reply(['control("Kitchen Lights", "turn_off")']), "Done.")
    result = await say(hass, "the kitchen is too bright, lights off")
    assert speech(result) == "Done."
    second = ollama_stub.requests_to("/api/chat")[1].body
    made = messages_of(second, "assistant")[-1]["tool_calls"][0]["function"]
    assert made["name"] == "control"
    assert made["arguments"] == {"name": "Kitchen Lights", "action": "turn_off"}
