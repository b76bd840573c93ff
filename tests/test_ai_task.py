"""The AI Task entity: free text, JSON structures and images."""

from __future__ import annotations

import base64

from homeassistant.components import ai_task
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import TASK_ID
from .ollama_stub import OllamaStub, Reply

CAMERA = {
    "media_content_id": "media-source://camera/camera.demo_camera",
    "media_content_type": "image/jpeg",
}


async def test_generates_text(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Without a structure, the answer is the text."""
    ollama_stub.reply(Reply(["A quiet ", "evening."]))
    result = await ai_task.async_generate_data(
        hass,
        task_name="summary",
        entity_id=TASK_ID,
        instructions="Summarise the evening.",
    )
    assert result.data == "A quiet evening."
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert body["messages"][-1] == {"role": "user", "content": "Summarise the evening."}
    assert not body.get("format")


STRUCTURE = vol.Schema(
    {vol.Required("title"): cv.string, vol.Required("count"): vol.Coerce(int)}
)


async def test_generates_structured_data(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The structure is sent as Ollama's `format` schema and the reply is parsed."""
    ollama_stub.reply('{"title": "Lights", "count": 3}')
    result = await ai_task.async_generate_data(
        hass,
        task_name="count",
        entity_id=TASK_ID,
        instructions="Count",
        structure=STRUCTURE,
    )
    assert result.data == {"title": "Lights", "count": 3}
    schema = ollama_stub.requests_to("/api/chat")[0].body["format"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"title", "count"}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("Sure! Here it is: title Lights", "not valid JSON"),
        ('{"title": "Lights"}', "does not fit the requested structure"),
    ],
)
async def test_structured_answer_that_does_not_fit(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    answer: str,
    message: str,
) -> None:
    """A reply that is not JSON, or not the asked shape, is a clear error."""
    ollama_stub.reply(answer)
    with pytest.raises(HomeAssistantError, match=message):
        await ai_task.async_generate_data(
            hass,
            task_name="count",
            entity_id=TASK_ID,
            instructions="Count",
            structure=STRUCTURE,
        )


async def test_server_failure_is_a_clear_error(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An unreachable server is named in the error, in one sentence."""
    await agent_entry.runtime_data.client.model_info("qwen2.5:3b")
    await ollama_stub.stop()
    with pytest.raises(HomeAssistantError, match="couldn't reach the Ollama server"):
        await ai_task.async_generate_data(
            hass, task_name="x", entity_id=TASK_ID, instructions="Hello"
        )


async def test_image_needs_a_vision_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """With vision the image is sent base64-encoded; without it, a clear error."""
    assert await async_setup_component(hass, "media_source", {})
    with pytest.raises(HomeAssistantError, match="cannot see images"):
        await ai_task.async_generate_data(
            hass,
            task_name="look",
            entity_id=TASK_ID,
            instructions="What is on the camera?",
            attachments=[CAMERA],
        )
    assert ollama_stub.requests_to("/api/chat") == []

    ollama_stub.models["qwen2.5:3b"].capabilities = ["completion", "tools", "vision"]
    agent_entry.runtime_data.client.forget_model_info()
    ollama_stub.reply("A demo picture.")
    result = await ai_task.async_generate_data(
        hass,
        task_name="look",
        entity_id=TASK_ID,
        instructions="What is on the camera?",
        attachments=[CAMERA],
    )
    assert result.data == "A demo picture."
    image = ollama_stub.requests_to("/api/chat")[0].body["messages"][-1]["images"][0]
    assert base64.b64decode(image)[:2] == b"\xff\xd8"  # a JPEG
