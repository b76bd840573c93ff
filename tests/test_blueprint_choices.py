"""The scene choice and the confirmed recommendation blueprints, with the stand-in.

The model's structured answer picks a scene or a script; the scene is turned on at
once, the script only after the notification's Execute button.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from . import blueprint_harness
from .blueprint_harness import (
    chats,
    runs,
    until,
    use_blueprint,
)
from .conftest import AGENT_ID
from .helpers import messages_of
from .ollama_stub import OllamaStub

# The test's own configuration folder, with the blueprints imported into it.
hass_config_dir = blueprint_harness.hass_config_dir
blueprints = blueprint_harness.blueprints

# --- Scene choice ----------------------------------------------------------------------


@pytest.fixture
async def scenes(hass: HomeAssistant, agent_entry: MockConfigEntry) -> list[str]:
    """Two real scenes of the demo home's bed light."""
    assert await async_setup_component(
        hass,
        "scene",
        {
            "scene": [
                {"name": "Movie", "entities": {"light.bed_light": "off"}},
                {"name": "Reading", "entities": {"light.bed_light": "on"}},
            ]
        },
    )
    await hass.async_block_till_done()
    return ["scene.movie", "scene.reading"]


async def test_scene_choice_turns_on_the_scene_the_model_chose(
    hass: HomeAssistant, ollama_stub: OllamaStub, scenes: list[str]
) -> None:
    """The answer can only be one of the scenes; that scene is turned on."""
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": "light.bed_light"}, blocking=True
    )
    calls = async_capture_events(hass, "call_service")
    await use_blueprint(
        hass,
        "scene_choice.yaml",
        {
            "agent": AGENT_ID,
            "scenes": scenes,
            "choice_trigger": [{"trigger": "event", "event_type": "time_to_read"}],
            "request": "I want to read a book.",
        },
    )
    ollama_stub.reply('{"scene": "scene.reading"}')
    hass.bus.async_fire("time_to_read")
    await hass.async_block_till_done()

    (body,) = chats(ollama_stub)
    assert body["format"] == {
        "type": "object",
        "properties": {"scene": {"type": "string", "enum": scenes}},
        "required": ["scene"],
    }
    prompt = messages_of(body, "user")[0]["content"]
    assert "I want to read a book." in prompt
    assert "- scene.reading: Reading" in prompt
    turned_on = [
        call.data["service_data"]
        for call in calls
        if (call.data["domain"], call.data["service"]) == ("scene", "turn_on")
    ]
    assert turned_on == [{"entity_id": ["scene.reading"]}]
    assert hass.states.get("light.bed_light").state == "on"


async def test_scene_choice_turns_on_nothing_outside_the_list(
    hass: HomeAssistant, ollama_stub: OllamaStub, scenes: list[str]
) -> None:
    """An answer that is not one of the scenes is refused: no scene is turned on."""
    calls = async_capture_events(hass, "call_service")
    await use_blueprint(
        hass,
        "scene_choice.yaml",
        {
            "agent": AGENT_ID,
            "scenes": scenes,
            "choice_trigger": [{"trigger": "event", "event_type": "choose"}],
        },
    )
    ollama_stub.reply('{"scene": "scene.party"}')
    hass.bus.async_fire("choose")
    await hass.async_block_till_done()
    assert len(chats(ollama_stub)) == 1
    assert not [call for call in calls if call.data["domain"] == "scene"]


# --- Recommendation with confirmation ---------------------------------------------------


@pytest.fixture
async def allowed_scripts(
    hass: HomeAssistant, agent_entry: MockConfigEntry
) -> tuple[list[str], list[ServiceCall]]:
    """Two scripts the model may recommend; the heating one records its runs."""
    heated = async_mock_service(hass, "test", "heat")
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "heat_up": {"alias": "Heat up", "sequence": [{"action": "test.heat"}]},
                "open_windows": {
                    "alias": "Open the windows",
                    "sequence": [{"action": "test.open"}],
                },
            }
        },
    )
    await hass.async_block_till_done()
    return ["script.heat_up", "script.open_windows"], heated


RECOMMENDER = "automation.recommend"


async def recommend(
    hass: HomeAssistant, stub: OllamaStub, scripts: list[str], answer: str
) -> list[ServiceCall]:
    """Set the blueprint up, let the living room get cold; return the notifications.

    Returns once the notification is sent, or once the run ended without one.
    """
    notified = async_mock_service(hass, "notify", "mobile_app_pixel")
    hass.states.async_set(
        "sensor.living_room_temperature", "21", {"unit_of_measurement": "°C"}
    )
    await use_blueprint(
        hass,
        "recommendation.yaml",
        {
            "agent": AGENT_ID,
            "situation_trigger": [
                {"trigger": "state", "entity_id": "sensor.living_room_temperature"}
            ],
            "allowed_actions": scripts,
            "notify_action": "notify.mobile_app_pixel",
            "home_status": False,
        },
        automation_id="recommend",
    )
    stub.reply(answer)
    hass.states.async_set(
        "sensor.living_room_temperature",
        "15",
        {"unit_of_measurement": "°C", "friendly_name": "Living room temperature"},
    )
    await until(
        lambda: bool(notified) or (bool(chats(stub)) and runs(hass, RECOMMENDER) == 0)
    )
    return notified


def buttons(notification: ServiceCall) -> dict[str, str]:
    """The notification's buttons: title to action id."""
    return {
        button["title"]: button["action"]
        for button in notification.data["data"]["actions"]
    }


async def press(hass: HomeAssistant, action: str) -> None:
    """The companion app's event for a pressed notification button."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    for _ in range(5):
        await asyncio.sleep(0)


HEAT = '{"action": "script.heat_up", "reason": "The living room is cold."}'


async def test_recommendation_runs_only_after_execute(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    allowed_scripts: tuple[list[str], list[ServiceCall]],
) -> None:
    """The chosen script waits for the button; Execute runs it, once."""
    scripts, heated = allowed_scripts
    notified = await recommend(hass, ollama_stub, scripts, HEAT)

    (body,) = chats(ollama_stub)
    assert body["format"]["properties"]["action"]["enum"] == [*scripts, "none"]
    prompt = messages_of(body, "user")[0]["content"]
    assert "Living room temperature is now 15°C" in prompt
    assert "- script.heat_up: Heat up" in prompt
    (notification,) = notified
    assert notification.data["title"] == "Recommended: Heat up"
    assert notification.data["message"] == "The living room is cold."
    ids = buttons(notification)
    assert set(ids) == {"Execute", "Ignore"}
    await asyncio.sleep(0.1)
    assert heated == []
    assert runs(hass, RECOMMENDER) == 1

    await press(hass, "EXECUTE_someone_elses_notification")
    assert heated == []
    assert runs(hass, RECOMMENDER) == 1
    await press(hass, ids["Execute"])
    await until(lambda: runs(hass, RECOMMENDER) == 0)
    await hass.async_block_till_done()
    assert len(heated) == 1
    await press(hass, ids["Execute"])
    await hass.async_block_till_done()
    assert len(heated) == 1


async def test_recommendation_ignored_runs_nothing(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    allowed_scripts: tuple[list[str], list[ServiceCall]],
) -> None:
    """Ignore ends the wait: nothing runs, not even a later Execute of it."""
    scripts, heated = allowed_scripts
    notified = await recommend(hass, ollama_stub, scripts, HEAT)
    ids = buttons(notified[0])
    await press(hass, ids["Ignore"])
    await until(lambda: runs(hass, RECOMMENDER) == 0)
    await press(hass, ids["Execute"])
    await hass.async_block_till_done()
    assert heated == []


async def test_recommendation_times_out_without_running(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    allowed_scripts: tuple[list[str], list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """No button within the time to answer: the notification is cleared, nothing runs."""
    scripts, heated = allowed_scripts
    notified = await recommend(hass, ollama_stub, scripts, HEAT)
    freezer.tick(timedelta(minutes=9))
    async_fire_time_changed(hass)
    await press(hass, "IGNORE_nothing")
    assert runs(hass, RECOMMENDER) == 1
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await until(lambda: runs(hass, RECOMMENDER) == 0)
    asked, cleared = notified
    assert cleared.data == {
        "message": "clear_notification",
        "data": {"tag": asked.data["data"]["tag"]},
    }
    await press(hass, buttons(asked)["Execute"])
    await hass.async_block_till_done()
    assert heated == []


async def test_recommendation_of_nothing_sends_nothing(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    allowed_scripts: tuple[list[str], list[ServiceCall]],
) -> None:
    """The answer "none" is valid: no notification, nothing runs."""
    scripts, heated = allowed_scripts
    notified = await recommend(
        hass, ollama_stub, scripts, '{"action": "none", "reason": "All is fine."}'
    )
    assert len(chats(ollama_stub)) == 1
    assert notified == []
    assert heated == []
