"""Blueprints of the repository, loaded and instantiated the way Home Assistant does it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from .helpers import messages_of
from .ollama_stub import OllamaStub

NAMESPACE = "extended_ollama_conversation"
SOURCE = Path(__file__).parent.parent / "blueprints" / "automation" / NAMESPACE
SOURCE_URL = (
    "https://github.com/extended-ollama/extended_ollama_conversation/blob/main/"
    f"blueprints/automation/{NAMESPACE}/"
)


def blueprint_files() -> list[str]:
    """The names of the repository's automation blueprints."""
    return sorted(path.name for path in SOURCE.glob("*.yaml"))


def install_blueprints(hass: HomeAssistant) -> None:
    """Copy the blueprints where Home Assistant looks for them, as an import does."""
    folder = Path(hass.config.path("blueprints", "automation", NAMESPACE))
    folder.mkdir(parents=True, exist_ok=True)
    for name in blueprint_files():
        shutil.copy(SOURCE / name, folder / name)


async def load_blueprint(hass: HomeAssistant, name: str) -> Blueprint:
    """One blueprint, read and validated by the blueprint integration."""
    return await async_get_blueprints(hass).async_get_blueprint(f"{NAMESPACE}/{name}")


async def use_blueprint(
    hass: HomeAssistant, name: str, inputs: dict[str, Any], automation_id: str = "bp"
) -> str:
    """Set up one automation from a blueprint; return its entity id, checked on.

    An automation whose blueprint or inputs do not validate is not created, so the
    check fails for any such mistake.
    """
    config = {
        "id": automation_id,
        "alias": automation_id,
        "use_blueprint": {"path": f"{NAMESPACE}/{name}", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    entity_id = f"automation.{automation_id}"
    state = hass.states.get(entity_id)
    assert state is not None, f"{name} did not make an automation"
    assert state.state == STATE_ON, f"{name} is {state.state}: {state.attributes}"
    return entity_id


async def stop_automations(hass: HomeAssistant) -> None:
    """Turn every automation off, which detaches its triggers and timers."""
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


async def until(check: Callable[[], bool], turns: int = 200_000) -> None:
    """Let the loop run until `check()` holds.

    `async_block_till_done` would wait for an automation paused on `wait_for_trigger`
    as long as it waits; the model's answer comes over a real socket meanwhile. The
    loop is turned rather than slept on, since a frozen clock never ends a sleep.
    """
    for _ in range(turns):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the automation did not get there")


def runs(hass: HomeAssistant, entity_id: str) -> int:
    """How many runs of an automation are under way."""
    state = hass.states.get(entity_id)
    assert state is not None
    return int(state.attributes.get("current", 0))


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of the test's own, to import the blueprints into."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
async def blueprints(hass: HomeAssistant) -> AsyncIterator[None]:
    """The repository's blueprints, where an import from the README puts them.

    The automations are turned off at the end, which cancels their time triggers.
    """
    install_blueprints(hass)
    yield
    await stop_automations(hass)


def chats(stub: OllamaStub) -> list[dict[str, Any]]:
    """The bodies of the /api/chat requests the model received, in order."""
    return [request.body for request in stub.requests_to("/api/chat")]


def user_texts(body: dict[str, Any]) -> list[str]:
    """What the user said in one request, oldest first."""
    return [message["content"] for message in messages_of(body, "user")]
