"""Optional semantic ranking with an Ollama embedding model."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .helpers import ask, messages_of
from .ollama_stub import OllamaStub

EMBEDDER = "nomic-embed-text:latest"
SEMANTIC = {
    "model": "qwen2.5:3b",
    "llm_hass_api": [DOMAIN],
    "prefer_local": False,
    "embedding_model": EMBEDDER,
    "context_budget": 200,
}
pytestmark = pytest.mark.parametrize("agent_options", [SEMANTIC])


def feels_cold(text: str) -> list[float]:
    """A scripted embedding: being cold and the heat pump mean the same thing."""
    return [1.0, 0.0] if ("freezing" in text or "HeatPump" in text) else [0.0, 1.0]


async def _states(stub: OllamaStub, turn: int = -1) -> str:
    request = messages_of(stub.requests_to("/api/chat")[turn].body, "user")[-1][
        "content"
    ]
    return request.split("Current states: ", 1)[1]


async def test_meaning_ranks_the_right_device(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """'I'm freezing' shares no word with any device, yet the heat pump's state is given."""
    ollama_stub.add_model(EMBEDDER, capabilities=["embedding"])
    ollama_stub.embedder = feels_cold
    ollama_stub.reply("Let me warm it up.")
    await ask(hass, "I'm freezing")
    states = await _states(ollama_stub)
    assert states.startswith("HeatPump: heat")
    assert "Bed Light" not in states


async def test_devices_are_embedded_once(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """The first turn embeds every device; later turns only the request and renamed ones."""
    ollama_stub.add_model(EMBEDDER, capabilities=["embedding"])
    ollama_stub.reply("One.", "Two.", "Three.")
    await ask(hass, "first")
    await ask(hass, "second")
    er.async_get(hass).async_update_entity("light.kitchen_lights", name="Cooker Lamp")
    await hass.async_block_till_done()
    await ask(hass, "third")
    inputs = [
        request.body["input"] for request in ollama_stub.requests_to("/api/embed")
    ]
    assert len(inputs[0]) > 30
    assert inputs[0][0] == "first"
    assert inputs[1] == ["second"]
    assert inputs[2] == ["third", "Cooker Lamp (light)"]


async def test_a_missing_embedding_model_falls_back_to_names(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the embedding model the turn still works, with one warning."""
    ollama_stub.reply(
        "Kitchen Lights are on.", "Still on."
    )  # the embedding model is not installed
    await ask(hass, "are the kitchen lights on?")
    await ask(hass, "and now?")
    assert "Kitchen Lights: on" in await _states(ollama_stub, 0)
    assert caplog.text.count("Semantic ranking with") == 1
