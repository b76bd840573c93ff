"""The conversation agent end to end.

Through Home Assistant's conversation API, with real entities and the stand-in as model.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import AGENT_ID
from .helpers import ask, ask_streaming, messages_of, speech, tool_call
from .ollama_stub import OllamaStub, Reply


async def test_turn_off_the_kitchen_light(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The model calls HassTurnOff; the real light goes off; the answer is spoken."""
    assert hass.states.get("light.kitchen_lights").state == "on"
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")]),
        "The kitchen lights are off.",
    )
    result = await ask(hass, "turn off the kitchen light")
    assert hass.states.get("light.kitchen_lights").state == "off"
    assert speech(result) == "The kitchen lights are off."
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE

    first, second = (r.body for r in ollama_stub.requests_to("/api/chat"))
    assert first["model"] == "qwen2.5:3b"
    assert first["options"]["num_ctx"] == 8192
    # An agent that never chose one samples at 0.1, not at Ollama's own 0.8.
    assert first["options"]["temperature"] == 0.1
    assert "intent__HassTurnOff" in {t["function"]["name"] for t in first["tools"]}
    assert messages_of(first, "user")[-1]["content"] == "turn off the kitchen light"
    tool_result = messages_of(second, "tool")[0]
    assert tool_result["tool_name"] == "intent__HassTurnOff"
    assert "Kitchen Lights" in tool_result["content"]


async def test_read_then_act_in_two_rounds(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Round one reads the home; round two acts on what it read; then it answers."""
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("homeassistant__GetLiveContext")]),
        Reply(
            tool_calls=[
                tool_call(
                    "climate__HassClimateSetTemperature",
                    name="HeatPump",
                    temperature=20,
                )
            ]
        ),
        "The heat pump is set to 20 degrees.",
    )
    result = await ask(hass, "set the heat pump to 20 degrees")
    assert speech(result) == "The heat pump is set to 20 degrees."
    assert hass.states.get("climate.heatpump").attributes["temperature"] == 20
    requests = ollama_stub.requests_to("/api/chat")
    assert len(requests) == 3
    live_context = messages_of(requests[1].body, "tool")[0]["content"]
    assert "HeatPump" in live_context


async def test_streaming_deltas_reach_the_chat_log_in_order(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A voice pipeline can speak while the answer streams: deltas arrive in order."""
    ollama_stub.reply(
        Reply(["The kitchen ", "lights are ", "on."], thinking=["Let me ", "see."])
    )
    result, deltas = await ask_streaming(hass, "are the kitchen lights on?")
    assert [d.get("content") for d in deltas if d.get("content")] == [
        "The kitchen ",
        "lights are ",
        "on.",
    ]
    assert [d["thinking_content"] for d in deltas if "thinking_content" in d] == [
        "Let me ",
        "see.",
    ]
    assert deltas[0] == {"role": "assistant"}
    assert speech(result) == "The kitchen lights are on."
    assert (
        conversation.ConversationEntityFeature.CONTROL
        & hass.states.get(AGENT_ID).attributes["supported_features"]
    )


async def test_http_conversation_process(
    hass: HomeAssistant,
    hass_client: Any,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """POST /api/conversation/process (what the companion app and bots use) works too."""
    assert await async_setup_component(hass, "http", {})
    client: TestClient = await hass_client()
    ollama_stub.reply(
        Reply(tool_calls=[tool_call("intent__HassTurnOff", name="Kitchen Lights")]),
        "Done.",
    )
    response = await client.post(
        "/api/conversation/process",
        json={
            "text": "turn off the kitchen light",
            "agent_id": AGENT_ID,
            "language": "en",
        },
    )
    assert response.status == 200
    body = await response.json()
    assert body["response"]["speech"]["plain"]["speech"] == "Done."
    assert hass.states.get("light.kitchen_lights").state == "off"


async def test_question_continues_the_conversation(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """When the model asks something back, the satellite keeps listening."""
    ollama_stub.reply("Which light do you mean?", "Done.")
    result = await ask(hass, "turn on the light")
    assert result.continue_conversation
    follow_up = await ask(hass, "the kitchen one", result.conversation_id)
    assert not follow_up.continue_conversation
    history = ollama_stub.requests_to("/api/chat")[1].body["messages"]
    assert [m["role"] for m in history[1:]] == ["user", "assistant", "user"]
    assert history[2]["content"] == "Which light do you mean?"


async def test_no_answer_still_says_something(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model that only thinks and says nothing still gets the person a sentence."""
    ollama_stub.reply(Reply(thinking="hmm"))
    result = await ask(hass, "hello")
    assert speech(result) == "Sorry, the model gave no answer."


@pytest.mark.parametrize(
    "agent_options", [{"model": "qwen2.5:3b", "prefer_local": True}]
)
async def test_without_llm_api_it_only_talks(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An agent without an LLM API sends no tools and cannot control the home."""
    ollama_stub.reply("Hello!")
    result = await ask(hass, "hello there")
    assert speech(result) == "Hello!"
    assert not ollama_stub.requests_to("/api/chat")[0].body.get("tools")
    assert not hass.states.get(AGENT_ID).attributes["supported_features"]
    assert json.loads(json.dumps(result.as_dict()))


@pytest.mark.parametrize(
    "agent_options", [{"model": "qwen3:4b", "think": True, "prefer_local": False}]
)
async def test_think_is_sent_only_to_thinking_models(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A thinking model gets `think`; one request per turn; capabilities read once."""
    ollama_stub.add_model("qwen3:4b", capabilities=["completion", "tools", "thinking"])
    ollama_stub.requests.clear()  # the monitoring's reads at setup
    ollama_stub.reply("One.", "Two.")
    await ask(hass, "first")
    await ask(hass, "second")
    chats = ollama_stub.requests_to("/api/chat")
    assert [c.body["think"] for c in chats] == [True, True]
    assert [r.body["model"] for r in ollama_stub.requests_to("/api/show")] == [
        "qwen3:4b"
    ]

    ollama_stub.models["qwen3:4b"].capabilities = ["completion", "tools"]
    agent_entry.runtime_data.client.forget_model_info()
    ollama_stub.reply("Three.")
    await ask(hass, "third")
    assert "think" not in ollama_stub.requests_to("/api/chat")[-1].body
