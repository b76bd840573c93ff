"""The generate service: one tool-less prompt, text or JSON back, for automations."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import (
    CONF_TEMPERATURE,
    DOMAIN,
)
from custom_components.extended_ollama_conversation.structured import (
    SchemaMismatch,
    validate,
)

from .conftest import AGENT_ID, AGENT_OPTIONS
from .ollama_stub import Fault, OllamaStub, Reply

SCENES = {
    "type": "object",
    "properties": {
        "scene": {"type": "string", "enum": ["scene.movie", "scene.reading"]},
        "reason": {"type": "string"},
    },
    "required": ["scene", "reason"],
}
# The smallest valid PNG: one transparent pixel.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


async def generate(hass: HomeAssistant, **data: Any) -> ServiceResponse:
    """Call the service the way an automation or the developer tools do."""
    return await hass.services.async_call(
        DOMAIN, "generate", data, blocking=True, return_response=True
    )


def last_chat(stub: OllamaStub) -> dict[str, Any]:
    """The body of the last /api/chat request the server received."""
    return stub.requests_to("/api/chat")[-1].body


def vision(stub: OllamaStub, entry: MockConfigEntry) -> None:
    """Give the stand-in's model vision (and forget what was read of it)."""
    stub.models["qwen2.5:3b"].capabilities = ["completion", "tools", "vision"]
    entry.runtime_data.client.forget_model_info()


async def test_prompt_is_rendered_and_answered_without_tools(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The template is rendered; the answer, model and token counts come back."""
    ollama_stub.reply(Reply(["Good ", "morning!"], prompt_eval_count=42, eval_count=3))
    response = await generate(
        hass,
        prompt="Greet me. It is {{ 20 + 1 }} degrees.",
        instructions="You write {{ 'short' }} notifications.",
        agent=AGENT_ID,
    )
    assert response == {
        "text": "Good morning!",
        "model": "qwen2.5:3b",
        "prompt_tokens": 42,
        "generated_tokens": 3,
    }
    body = last_chat(ollama_stub)
    assert body["messages"] == [
        {"role": "system", "content": "You write short notifications."},
        {"role": "user", "content": "Greet me. It is 21 degrees."},
    ]
    assert not body.get("tools")
    assert not body.get("format")


@pytest.mark.parametrize(
    "agent_options", [{**AGENT_OPTIONS, CONF_TEMPERATURE: 0.2, "num_ctx": 4096}]
)
async def test_agent_options_are_used(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """With an agent, its model and options go with the request."""
    ollama_stub.reply("Hi.")
    await generate(hass, prompt="Hello", agent=AGENT_ID)
    options = last_chat(ollama_stub)["options"]
    assert options["temperature"] == 0.2
    assert options["num_ctx"] == 4096


async def test_model_on_the_only_server(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model without an agent: the only server entry is used, or the one named."""
    ollama_stub.add_model("llama3.2:1b")
    ollama_stub.reply("One.", "Two.")
    first = await generate(hass, prompt="Count", model="llama3.2:1b")
    second = await generate(
        hass, prompt="Count", model="llama3.2:1b", config_entry=agent_entry.entry_id
    )
    assert (first["text"], second["text"]) == ("One.", "Two.")
    assert last_chat(ollama_stub)["model"] == "llama3.2:1b"


async def test_model_replaces_the_agents_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Agent and model together: the agent's options with another model."""
    ollama_stub.add_model("llama3.2:1b")
    ollama_stub.reply("Hi.")
    response = await generate(hass, prompt="Hi", agent=AGENT_ID, model="llama3.2:1b")
    assert response["model"] == "llama3.2:1b"
    assert last_chat(ollama_stub)["options"]["num_ctx"] == AGENT_OPTIONS["num_ctx"]


async def test_without_agent_or_model_the_only_agent_answers(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A server entry with one conversation agent needs neither field."""
    ollama_stub.reply("Yes.")
    assert (await generate(hass, prompt="Ready?"))["model"] == "qwen2.5:3b"


async def test_server_without_agent_needs_a_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """A server entry with no agent cannot guess a model: the call says what to give."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    with pytest.raises(ServiceValidationError, match="Choose an agent, or a model"):
        await generate(hass, prompt="Hello")
    ollama_stub.reply("Hello!")
    assert (await generate(hass, prompt="Hello", model="qwen2.5:3b"))["text"]


async def test_missing_model_is_a_clear_error(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model that is not on the server is named in one sentence."""
    with pytest.raises(HomeAssistantError, match="model mistral:7b is not on"):
        await generate(hass, prompt="Hello", model="mistral:7b")


async def test_not_an_agent_of_this_integration(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Home Assistant's own agent cannot be chosen."""
    with pytest.raises(ServiceValidationError, match="not a conversation agent"):
        await generate(hass, prompt="Hello", agent="conversation.home_assistant")


async def test_no_server_loaded(hass: HomeAssistant) -> None:
    """Without a loaded server entry the call says so instead of failing later."""
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError):
        await generate(hass, prompt="Hello", model="qwen2.5:3b")


async def test_broken_template_is_invalid_input(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A template that fails to render is the caller's error, nothing is sent."""
    with pytest.raises(ServiceValidationError, match="could not be rendered"):
        await generate(hass, prompt="{{ states.light.bed_light.attributes.x.y }}")
    assert ollama_stub.requests_to("/api/chat") == []


async def test_home_context_holds_only_exposed_devices(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The home's description lists exposed devices, never an unexposed one."""
    async_expose_entity(hass, "conversation", "light.kitchen_lights", False)
    ollama_stub.reply("The ceiling lights are on.")
    await generate(
        hass,
        prompt="Which lights are on? Also the kitchen lights?",
        include_home_context=True,
    )
    sent = "\n".join(m["content"] for m in last_chat(ollama_stub)["messages"])
    assert "Ceiling Lights" in sent
    assert "Front Door" in sent  # exposed by the fixture
    assert "Kitchen Lights" not in sent
    assert "Kitchen Door" not in sent  # locks are not exposed by default
    assert not last_chat(ollama_stub).get("tools")


async def test_without_home_context_nothing_of_the_home_is_sent(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The home's description is only added when asked for."""
    ollama_stub.reply("Fine.")
    await generate(hass, prompt="Which lights are on?")
    assert last_chat(ollama_stub)["messages"] == [
        {"role": "user", "content": "Which lights are on?"}
    ]


async def test_structure_is_sent_and_parsed(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The JSON schema is Ollama's `format`; the parsed answer comes back as data."""
    ollama_stub.reply('{"scene": "scene.movie", "reason": "It is late."}')
    response = await generate(hass, prompt="Pick a scene", structure=SCENES)
    assert response["data"] == {"scene": "scene.movie", "reason": "It is late."}
    assert "text" not in response
    assert last_chat(ollama_stub)["format"] == SCENES


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("I would pick the movie scene.", "not valid JSON"),
        ('{"scene": "scene.disco", "reason": "x"}', "answer.scene should be one of"),
        ('{"scene": "scene.movie"}', "answer is missing 'reason'"),
    ],
)
async def test_structured_answer_that_does_not_fit(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    answer: str,
    message: str,
) -> None:
    """An answer that is not JSON, or not the asked shape, is a clear error."""
    ollama_stub.reply(answer)
    with pytest.raises(HomeAssistantError, match=message):
        await generate(hass, prompt="Pick a scene", structure=SCENES)


async def test_structure_that_is_not_a_schema_is_invalid_input(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A type no answer could have is refused before the model is asked."""
    structure = {"type": "object", "properties": {"scene": {"type": "text"}}}
    with pytest.raises(ServiceValidationError, match="unknown type 'text'"):
        await generate(hass, prompt="Pick a scene", structure=structure)
    assert ollama_stub.requests_to("/api/chat") == []


async def test_allowed_image_file_is_sent(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """An image file in an allowed folder reaches a vision model base64-encoded."""
    picture = tmp_path / "door.png"
    picture.write_bytes(PNG)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    vision(ollama_stub, agent_entry)
    ollama_stub.reply("A door.")
    response = await generate(hass, prompt="What is this?", images=[str(picture)])
    assert response["text"] == "A door."
    image = last_chat(ollama_stub)["messages"][-1]["images"][0]
    assert base64.b64decode(image) == PNG


async def test_camera_image_is_sent(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A camera entity's snapshot is sent as the image."""
    vision(ollama_stub, agent_entry)
    ollama_stub.reply("A demo picture.")
    await generate(hass, prompt="What is on it?", images="camera.demo_camera")
    image = last_chat(ollama_stub)["messages"][-1]["images"][0]
    assert base64.b64decode(image)[:2] == b"\xff\xd8"  # a JPEG


async def test_image_outside_allowed_folders_is_refused(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """A file Home Assistant may not read is refused before it is opened."""
    picture = tmp_path / "secret.png"
    picture.write_bytes(PNG)
    hass.config.allowlist_external_dirs = set()
    vision(ollama_stub, agent_entry)
    with pytest.raises(ServiceValidationError, match="not allowed to read"):
        await generate(hass, prompt="What is this?", images=[str(picture)])
    assert ollama_stub.requests_to("/api/chat") == []


async def test_image_needs_a_vision_model(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A model without vision gets no images: the call says which model."""
    with pytest.raises(ServiceValidationError, match=r"qwen2\.5:3b cannot see images"):
        await generate(hass, prompt="Look", images=["camera.demo_camera"])


async def test_timeout_is_a_clear_error(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A server slower than the call's timeout fails with the seconds named."""
    await agent_entry.runtime_data.client.model_info("qwen2.5:3b")
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=3)
    with pytest.raises(HomeAssistantError, match="within 1 seconds"):
        await generate(hass, prompt="Hello", timeout=1)


async def test_server_down_is_a_clear_error(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An unreachable server is named in one sentence."""
    await agent_entry.runtime_data.client.model_info("qwen2.5:3b")
    await ollama_stub.stop()
    with pytest.raises(HomeAssistantError, match="couldn't reach the Ollama server"):
        await generate(hass, prompt="Hello")


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"type": "integer"}, True, "answer should be an integer"),
        ({"type": "integer"}, 2.0, None),
        ({"type": ["string", "null"]}, None, None),
        ({"type": "array", "items": {"type": "string"}}, ["a", 1], r"answer\[1\]"),
        (
            {"type": "object", "properties": {"n": {"type": "number"}}},
            {"n": "1"},
            "answer.n should be a number",
        ),
        ({"enum": [1, 2]}, 3, "one of 1, 2"),
    ],
)
def test_schema_subset(schema: dict[str, Any], value: Any, message: str | None) -> None:
    """The JSON schema checks Ollama's structured outputs use, with the place named."""
    if message is None:
        validate(schema, value)
        return
    with pytest.raises(SchemaMismatch, match=message):
        validate(schema, value)
