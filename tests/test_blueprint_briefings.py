"""The morning briefing and evening summary blueprints, at their time, with the stand-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from . import blueprint_harness
from .blueprint_harness import (
    chats,
    use_blueprint,
)
from .conftest import AGENT_ID
from .ollama_stub import OllamaStub

# The test's own configuration folder, with the blueprints imported into it.
hass_config_dir = blueprint_harness.hass_config_dir
blueprints = blueprint_harness.blueprints

# --- Briefings -------------------------------------------------------------------------


def one_second_before(hour: int) -> datetime:
    """The next moment, local time, one second before `hour` o'clock."""
    moment = dt_util.now().replace(hour=hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(seconds=1)
    return moment if moment > dt_util.now() else moment + timedelta(days=1)


@pytest.fixture
def clock(freezer: FrozenDateTimeFactory, request: pytest.FixtureRequest) -> datetime:
    """The clock at one second before the briefing's hour, before the home is set up.

    The demo calendars' events are set from the clock when the demo home starts: one
    event is half an hour ahead.
    """
    before = one_second_before(request.param)
    freezer.move_to(before)
    return before + timedelta(seconds=1)


async def reach(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    """Let the clock reach `when`, as Home Assistant's time triggers see it."""
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


@pytest.mark.parametrize("clock", [7], indirect=True)
async def test_morning_briefing_is_written_and_sent_at_its_time(
    hass: HomeAssistant,
    clock: datetime,
    freezer: FrozenDateTimeFactory,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """At 07:00 the generate service writes it from the chosen facts; it is sent."""
    notified = async_mock_service(hass, "notify", "mobile_app_pixel")
    await use_blueprint(
        hass,
        "morning_briefing.yaml",
        {
            "agent": AGENT_ID,
            "notify_action": "notify.mobile_app_pixel",
            "calendars": ["calendar.calendar_1"],
            "weather": "weather.demo_weather_south",
            "energy_sensors": ["sensor.power_consumption"],
        },
    )
    ollama_stub.reply("Sunny day, one meeting.")
    await reach(hass, freezer, clock - timedelta(seconds=1))
    assert chats(ollama_stub) == []

    await reach(hass, freezer, clock)

    (body,) = chats(ollama_stub)
    assert not body.get("tools")
    system, user = body["messages"]
    assert "Front Door" in system["content"]  # the home, from the agent's description
    prompt = user["content"]
    assert prompt.startswith("Write my morning briefing")
    assert "Weather now: sunny, 21.6 °C; today " in prompt
    assert "Appointments left today:\n- 07:29 Future Event" in prompt
    assert "Power consumption: 100 W" in prompt
    assert [call.data for call in notified] == [
        {"title": "Good morning", "message": "Sunny day, one meeting."}
    ]


@pytest.mark.parametrize("clock", [7], indirect=True)
async def test_briefing_leaves_out_what_was_not_chosen(
    hass: HomeAssistant,
    clock: datetime,
    freezer: FrozenDateTimeFactory,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """No calendar, weather, energy or home status chosen: none of it is sent."""
    notified = async_mock_service(hass, "notify", "notify")
    await use_blueprint(
        hass,
        "morning_briefing.yaml",
        {"agent": AGENT_ID, "home_status": False, "title": "Today"},
    )
    ollama_stub.reply("Have a nice day.")
    await reach(hass, freezer, clock)

    (body,) = chats(ollama_stub)
    (user,) = body["messages"]
    assert user["role"] == "user"
    for left_out in ("Front Door", "Weather", "Appointments", "Energy"):
        assert left_out not in user["content"]
    assert [call.data for call in notified] == [
        {"title": "Today", "message": "Have a nice day."}
    ]


@pytest.mark.parametrize("clock", [21], indirect=True)
async def test_evening_summary_is_written_and_sent_at_its_time(
    hass: HomeAssistant,
    clock: datetime,
    freezer: FrozenDateTimeFactory,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
) -> None:
    """At 21:00: tonight's and tomorrow's appointments, tomorrow's weather, sent."""
    notified = async_mock_service(hass, "notify", "family")
    await use_blueprint(
        hass,
        "evening_summary.yaml",
        {
            "agent": AGENT_ID,
            "notify_action": "notify.family",
            "calendars": ["calendar.calendar_1", "calendar.calendar_2"],
            "weather": "weather.demo_weather_north",
            "energy_sensors": ["sensor.total_energy_kwh"],
        },
    )
    ollama_stub.reply("All quiet; rain tomorrow.")
    await reach(hass, freezer, clock - timedelta(seconds=1))
    assert chats(ollama_stub) == []

    await reach(hass, freezer, clock)

    (body,) = chats(ollama_stub)
    system, user = body["messages"]
    assert "Front Door" in system["content"]
    prompt = user["content"]
    assert prompt.startswith("Write my evening summary")
    assert "; tomorrow " in prompt
    day = clock.strftime("%A")
    assert (
        "Appointments until the end of tomorrow:\n"
        f"- {day} 20:29 Current Event\n- {day} 21:29 Future Event"
    ) in prompt
    assert "Energy:\n- Total energy 1: " in prompt
    assert [call.data for call in notified] == [
        {"title": "Good evening", "message": "All quiet; rain tomorrow."}
    ]
