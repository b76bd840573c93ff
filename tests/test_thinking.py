"""<think> in the answer's text is never said, also while it streams; it is kept as thinking."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.thinking import ThinkingFilter

from .helpers import ask, ask_streaming, messages_of, speech, tool_call
from .ollama_stub import OllamaStub, Reply

ANSWER = "<think>The user wants the lights. I will check.</think>\n\nThe lights are on."


def _run(chunks: list[str]) -> tuple[list[str], str]:
    """Feed chunks; return each step's said text and all the thinking."""
    thoughts = ThinkingFilter()
    said: list[str] = []
    thought = ""
    for chunk in chunks:
        text, thinking = thoughts.feed(chunk)
        said.append(text)
        thought += thinking
    text, thinking = thoughts.finish()
    return [*said, text], thought + thinking


@pytest.mark.parametrize("cut", range(1, len(ANSWER)))
def test_split_anywhere(cut: int) -> None:
    """Wherever the stream splits, nothing of the thought is said at any step."""
    said, thought = _run([ANSWER[:cut], ANSWER[cut:]])
    assert "".join(said) == "The lights are on."
    assert thought == "The user wants the lights. I will check."
    for step in said:
        assert "think" not in step
        assert "<" not in step


def test_character_by_character_and_unclosed() -> None:
    """One character a chunk works; an unclosed thought is never said; '<' alone is."""
    said, thought = _run(list(ANSWER))
    assert "".join(said) == "The lights are on."
    assert thought == "The user wants the lights. I will check."
    said, thought = _run(["Sure. <think>still thinking", " when the stream ends"])
    assert "".join(said) == "Sure. "
    assert thought == "still thinking when the stream ends"
    said, thought = _run(["2 <", " 3 and a <b>"])
    assert "".join(said) == "2 < 3 and a <b>"
    assert thought == ""


async def test_streamed_think_is_not_said_and_goes_to_the_chat_log(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A voice satellite gets only the answer; the next request carries the thinking."""
    ollama_stub.reply(
        Reply(
            [
                "<thi",
                "nk>Let me check",
                " the kitchen.</th",
                "ink>\n\nThe kitchen",
                " lights are on.",
            ]
        )
    )
    result, deltas = await ask_streaming(hass, "are the kitchen lights on?")
    assert speech(result) == "The kitchen lights are on."
    streamed = "".join(d.get("content") or "" for d in deltas)
    assert streamed == "The kitchen lights are on."
    assert (
        "".join(d.get("thinking_content") or "" for d in deltas)
        == "Let me check the kitchen."
    )

    ollama_stub.reply("You're welcome.")
    await ask(hass, "thanks", result.conversation_id)
    earlier = messages_of(ollama_stub.requests_to("/api/chat")[-1].body, "assistant")
    assert earlier[-1]["content"] == "The kitchen lights are on."
    assert earlier[-1]["thinking"] == "Let me check the kitchen."


async def test_think_before_a_tool_call_and_an_endless_thought(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Thinking then a call runs the call; an answer that is all thought is not said."""
    assert hass.states.get("light.kitchen_lights").state == "on"
    ollama_stub.reply(
        Reply(
            "<think>Turn it off.</think>",
            tool_calls=[tool_call("HassTurnOff", name="Kitchen Lights")],
        ),
        "Done, the kitchen lights are off.",
    )
    result = await ask(hass, "kitchen lights off")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == "Done, the kitchen lights are off."

    ollama_stub.reply("<think>I could say many things and never stop")
    result = await ask(hass, "tell me something")
    assert "never stop" not in speech(result)
    assert "think" not in speech(result)
