"""Small-model robustness: calls written as text, sloppy arguments, wrong tools, no tools."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .conftest import AGENT_OPTIONS
from .helpers import ask, ask_streaming, messages_of, speech, tool_call
from .ollama_stub import Fault, OllamaStub, Reply

TURN_OFF = '{"name": "intent__HassTurnOff", "arguments": {"name": "Kitchen Lights"}}'


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([TURN_OFF], id="json-object"),
        pytest.param(["```json\n", TURN_OFF, "\n```"], id="fenced-block"),
        pytest.param(
            ["<tool_call>\n", TURN_OFF, "\n</tool_call>"], id="tool-call-tags"
        ),
        pytest.param(
            [
                '{"function": {"name": "intent__HassTurnOff", "arguments": {"name": "Kitchen Lights"}}}'
            ],
            id="function-object",
        ),
        pytest.param(
            ['{"name": "HassTurnOff", "parameters": {"name": "Kitchen Lights"}}'],
            id="name-parameters-unprefixed",
        ),
        pytest.param(
            ["Sure, I'll do that.\n```json\n", TURN_OFF, "\n```"],
            id="inside-a-sentence",
        ),
    ],
)
async def test_tool_calls_written_as_text_are_run_not_spoken(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    chunks: list[str],
) -> None:
    """The light goes off and nothing of the JSON reaches the speech stream."""
    ollama_stub.reply(Reply(chunks), "The kitchen lights are off.")
    result, deltas = await ask_streaming(hass, "turn off the kitchen light")
    assert hass.states.get("light.kitchen_lights").state == "off"
    spoken = "".join(d.get("content") or "" for d in deltas)
    assert "{" not in spoken
    assert "HassTurnOff" not in spoken
    assert "```" not in spoken
    assert "tool_call" not in spoken
    assert speech(result) == "The kitchen lights are off."
    second = ollama_stub.requests_to("/api/chat")[1].body
    assistant = messages_of(second, "assistant")[-1]
    assert assistant["tool_calls"][0]["function"]["name"] == "intent__HassTurnOff"


async def test_text_that_only_looks_like_json_is_still_spoken(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Braces that are not a tool call are held back while streaming, then said."""
    ollama_stub.reply(Reply(["Use the set ", "{a, b} for that."]))
    result = await ask(hass, "what set?")
    assert speech(result) == "Use the set {a, b} for that."
    assert len(ollama_stub.requests_to("/api/chat")) == 1


@pytest.mark.parametrize(
    ("reply", "expected_temperature"),
    [
        pytest.param(
            Reply(
                [
                    json.dumps(
                        {
                            "name": "climate__HassClimateSetTemperature",
                            "arguments": json.dumps(
                                {"name": "HeatPump", "temperature": "21"}
                            ),
                        }
                    )
                ]
            ),
            21,
            id="arguments-as-json-string",
        ),
        pytest.param(
            Reply(
                tool_calls=[
                    tool_call(
                        "climate__HassClimateSetTemperature",
                        name="HeatPump",
                        temperature="21.5",
                    )
                ]
            ),
            21.5,
            id="number-as-string",
        ),
        pytest.param(
            Reply(
                tool_calls=[
                    tool_call(
                        "climate__HassClimateSetTemperature",
                        name="HeatPump",
                        temperature=22,
                        area="None",
                        floor="",
                    )
                ]
            ),
            22,
            id="junk-placeholders",
        ),
    ],
)
async def test_sloppy_arguments_are_repaired(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    reply: Reply,
    expected_temperature: float,
) -> None:
    """Arguments the schema makes unambiguous are coerced, and the action happens."""
    ollama_stub.reply(reply, "Done.")
    await ask(hass, "set the heat pump")
    assert (
        hass.states.get("climate.heatpump").attributes["temperature"]
        == expected_temperature
    )


async def test_single_value_where_a_list_is_expected(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A lone domain where the schema wants a list is wrapped, and the call works."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call("intent__HassTurnOff", name="Kitchen Lights", domain="light")
            ]
        ),
        "Off.",
    )
    await ask(hass, "kitchen lights off")
    assert hass.states.get("light.kitchen_lights").state == "off"
    sent = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "assistant")[-1]
    assert sent["tool_calls"][0]["function"]["arguments"]["domain"] == ["light"]


async def test_unknown_tool_is_explained_and_the_model_corrects_itself(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A made-up tool name comes back as an error listing the real tools."""
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("switch_off_light", name="Kitchen Lights")]),
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")]),
        "Done.",
    )
    result = await ask(hass, "turn off the kitchen light")
    assert speech(result) == "Done."
    assert hass.states.get("light.kitchen_lights").state == "off"
    error = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "tool")[0]
    assert "There is no tool named 'switch_off_light'" in error["content"]
    assert "intent__HassTurnOff" in error["content"]


async def test_invalid_arguments_are_explained(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Arguments that cannot be repaired come back saying what is wrong."""
    ollama_stub.reply(
        Reply(
            tool_calls=[
                tool_call(
                    "climate__HassClimateSetTemperature",
                    name="HeatPump",
                    temperature="warm",
                )
            ]
        ),
        "I could not set it.",
    )
    result = await ask(hass, "make the heat pump warm")
    assert speech(result) == "I could not set it."
    error = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "tool")[0][
        "content"
    ]
    assert "InvalidArguments" in error
    assert "temperature" in error


async def test_failing_action_goes_back_to_the_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An action on a device that does not exist returns an error the model can read."""
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOn", name="Garage Disco Ball")]),
        "There is no disco ball.",
    )
    result = await ask(hass, "turn on the disco ball")
    assert speech(result) == "There is no disco ball."
    error = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "tool")[0][
        "content"
    ]
    assert "error" in error.lower()


DESCRIBED_CALL = [
    (
        "To get the target temperature, you can use the "
        "`climate__HassClimateSetTemperature` function with the following arguments:\n"
    ),
    '```json\n{\n  "temperature": 21,\n  "name": "HeatPump"\n}\n```',
]


async def test_json_without_a_call_is_sent_back_not_spoken(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A described call is neither run nor read aloud: the model is asked for words."""
    before = hass.states.get("climate.heatpump").attributes["temperature"]
    ollama_stub.reply(Reply(DESCRIBED_CALL), "The heat pump is set to 20 degrees.")
    result, deltas = await ask_streaming(hass, "what is the heat pump set to?")
    assert speech(result) == "The heat pump is set to 20 degrees."
    assert "{" not in "".join(d.get("content") or "" for d in deltas)
    assert hass.states.get("climate.heatpump").attributes["temperature"] == before
    second = ollama_stub.requests_to("/api/chat")[1].body
    assert "NotSpeakable" in messages_of(second, "tool")[0]["content"]


async def test_an_answer_in_flat_json_is_said_in_words(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """'{"temperature": "19.5 °C"}' is the answer in the wrong form: said, not re-asked.

    Measured with the real 1.5B model: asked again, it answered "No JSON, no tool, no
    response." instead of the value it had given.
    """
    ollama_stub.reply(
        '```json\n{"temperature": "19.5 °C"}\n```', '{"answer": "It is 19.5 °C."}'
    )
    result, deltas = await ask_streaming(hass, "what's the temperature outside?")
    assert speech(result) == "Temperature: 19.5 °C."
    assert "{" not in "".join(d.get("content") or "" for d in deltas)
    assert len(ollama_stub.requests_to("/api/chat")) == 1
    # An answer under an answer key is just its value.
    assert speech(await ask(hass, "and now?")) == "It is 19.5 °C."


@pytest.mark.parametrize(
    ("agent_options", "requests"),
    [
        pytest.param({**AGENT_OPTIONS, "max_tool_iterations": 6}, 2, id="asked-once"),
        pytest.param(
            {**AGENT_OPTIONS, "max_tool_iterations": 1}, 1, id="no-round-left"
        ),
    ],
)
async def test_json_is_spoken_when_asking_again_cannot_help(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    requests: int,
) -> None:
    """The model is asked once a turn, and only with a round left; then it is said."""
    answer = '{"answer": {"value": 20, "unit": "degrees"}}'
    ollama_stub.reply(*[Reply([answer]) for _ in range(requests)])
    result = await ask(hass, "what is the heat pump set to?")
    assert speech(result) == answer
    assert len(ollama_stub.requests_to("/api/chat")) == requests


async def test_out_of_rounds_ends_with_one_sentence(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model that keeps calling tools is stopped after max_tool_iterations rounds."""
    ollama_stub.reply(
        *[
            Reply(tool_calls=[tool_call("homeassistant__GetLiveContext")])
            for _ in range(6)
        ]
    )
    result = await ask(hass, "what is going on?")
    assert len(ollama_stub.requests_to("/api/chat")) == 6
    assert speech(result).startswith("Sorry, I couldn't finish that")
    assert "Traceback" not in speech(result)


async def test_model_without_tool_support_still_answers(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server's 400 "does not support tools": answer without tools, warn once, repair."""
    ollama_stub.models["qwen2.5:3b"].capabilities = ["completion", "tools"]
    ollama_stub.add_model("gemma:2b", capabilities=["completion"])
    # The server says no even though /api/show claimed tools (older servers do that).
    ollama_stub.fail(Fault.NO_TOOLS, path="/api/chat")
    ollama_stub.reply("It is 20 degrees.", "Still 20 degrees.")
    first = await ask(hass, "how warm is it?")
    second = await ask(hass, "and now?")
    assert speech(first) == "It is 20 degrees."
    assert speech(second) == "Still 20 degrees."
    chats = ollama_stub.requests_to("/api/chat")
    assert chats[0].body["tools"]
    assert not chats[1].body.get("tools")
    assert not chats[2].body.get("tools")
    assert caplog.text.count("does not support tools: it can answer questions") == 1
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "model_without_tools_qwen2.5:3b")
    assert issue is not None
    assert issue.translation_placeholders == {"model": "qwen2.5:3b"}


@pytest.mark.parametrize(
    "agent_options",
    [{"model": "gemma:2b", "llm_hass_api": ["assist"], "prefer_local": False}],
)
async def test_capabilities_without_tools_send_none(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_options: dict[str, Any],
    home: None,
) -> None:
    """A model whose capabilities lack tools is never sent tools."""
    ollama_stub.add_model("gemma:2b", capabilities=["completion"])
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"url": ollama_stub.url, "timeout": 2},
        subentries_data=[
            {
                "subentry_type": "conversation",
                "data": agent_options,
                "title": "Ollama Conversation",
                "unique_id": None,
            }
        ],
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    ollama_stub.reply("Hi.")
    assert speech(await ask(hass, "hello")) == "Hi."
    assert not ollama_stub.requests_to("/api/chat")[0].body.get("tools")
    assert ir.async_get(hass).async_get_issue(DOMAIN, "model_without_tools_gemma:2b")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(
            {"name": "Decorative Lights", "area": "no area"}, id="area-that-is-not"
        ),
        pytest.param(
            {"name": "Decorative Lights", "domain": ["light"], "floor": "Living Room"},
            id="wrong-kind-and-floor",
        ),
    ],
)
async def test_wrong_place_or_kind_for_a_named_device_is_dropped(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    arguments: dict[str, Any],
) -> None:
    """A call naming a device exactly still works when the model adds a wrong area or kind."""
    assert hass.states.get("switch.decorative_lights").state == "on"
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOff", **arguments)]), "Off."
    )
    await ask(hass, "turn off the decorative lights")
    assert hass.states.get("switch.decorative_lights").state == "off"
    sent = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "assistant")[-1]
    assert sent["tool_calls"][0]["function"]["arguments"] == {
        "name": "Decorative Lights"
    }


async def test_a_repeated_call_is_not_run_again(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The same call twice in a turn is refused with a hint to answer instead."""
    call = Reply(tool_calls=[tool_call("intent__HassTurnOn", name="Garage Disco Ball")])
    ollama_stub.reply(call, call, "There is no disco ball.")
    result = await ask(hass, "turn on the disco ball")
    assert speech(result) == "There is no disco ball."
    results = messages_of(ollama_stub.requests_to("/api/chat")[2].body, "tool")
    assert "RepeatedCall" not in results[0]["content"]
    assert "RepeatedCall" in results[1]["content"]
    assert "answer the user now" in results[1]["content"]
