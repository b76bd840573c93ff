"""The blueprints: loaded by Home Assistant, instantiated, triggered, their calls checked.

The model is the wire-level stand-in; the services the blueprints call outside this
integration (Telegram, notify, scenes) are recorded by the harness's mock services.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from .blueprint_harness import (
    SOURCE_URL,
    blueprint_files,
    install_blueprints,
    load_blueprint,
    runs,
    stop_automations,
    until,
    use_blueprint,
)
from .conftest import AGENT_ID
from .helpers import messages_of
from .ollama_stub import OllamaStub

BLUEPRINTS = [
    "morning_briefing.yaml",
    "evening_summary.yaml",
    "recommendation.yaml",
    "scene_choice.yaml",
    "sms_bridge.yaml",
    "telegram_bridge.yaml",
]


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


# --- loading ---------------------------------------------------------------------------


def test_every_blueprint_is_tested() -> None:
    """A blueprint added to the folder needs a test here."""
    assert blueprint_files() == sorted(BLUEPRINTS)


@pytest.mark.parametrize("name", BLUEPRINTS)
async def test_blueprint_loads(hass: HomeAssistant, name: str) -> None:
    """Home Assistant's blueprint integration reads it; its metadata is complete."""
    blueprint = await load_blueprint(hass, name)
    assert blueprint.domain == "automation"
    assert blueprint.metadata["source_url"] == SOURCE_URL + name
    assert blueprint.metadata["description"]
    assert blueprint.validate() is None
    for key, spec in blueprint.inputs.items():
        assert spec.get("name"), f"{name}: input {key} has no name"
        assert spec.get("selector"), f"{name}: input {key} has no selector"


# --- Telegram --------------------------------------------------------------------------


def telegram_message(chat_id: int, text: str, message_id: int = 1) -> dict[str, Any]:
    """A `telegram_text` event's data, as the Telegram bot integration fires it."""
    return {
        "id": message_id,
        "chat_id": chat_id,
        "text": text,
        "user_id": chat_id,
        "from_first": "Ann",
        "bot": {"config_entry_id": "telegram_entry", "id": 99, "username": "home_bot"},
    }


async def test_telegram_bridge_answers_allowed_chats_in_their_conversation(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Each allowed chat has its own conversation; the answer goes back to it."""
    sent = async_mock_service(hass, "telegram_bot", "send_message")
    await use_blueprint(
        hass,
        "telegram_bridge.yaml",
        {"allowed_chats": ["1111", "-2222"], "agent": AGENT_ID},
    )
    ollama_stub.reply("Hello Ann!", "You said hello.", "Hi group!")

    for chat_id, text, message_id in (
        (1111, "Hello, I am Ann", 10),
        (1111, "What did I say?", 11),
        (-2222, "Hi from the group", 12),
    ):
        hass.bus.async_fire(
            "telegram_text", telegram_message(chat_id, text, message_id)
        )
        await hass.async_block_till_done()

    bodies = chats(ollama_stub)
    assert user_texts(bodies[0]) == ["Hello, I am Ann"]
    assert user_texts(bodies[1]) == ["Hello, I am Ann", "What did I say?"]
    assert user_texts(bodies[2]) == ["Hi from the group"]
    assert [call.data for call in sent] == [
        {
            "config_entry_id": "telegram_entry",
            "chat_id": chat_id,
            "reply_to_message_id": message_id,
            "message": answer,
        }
        for chat_id, message_id, answer in (
            (1111, 10, "Hello Ann!"),
            (1111, 11, "You said hello."),
            (-2222, 12, "Hi group!"),
        )
    ]


async def test_telegram_bridge_ignores_other_chats(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """A message from a chat that is not allowed reaches neither model nor chat."""
    sent = async_mock_service(hass, "telegram_bot", "send_message")
    await use_blueprint(
        hass, "telegram_bridge.yaml", {"allowed_chats": ["1111"], "agent": AGENT_ID}
    )
    ollama_stub.reply("Secret answer.")
    hass.bus.async_fire("telegram_text", telegram_message(3333, "Unlock the door"))
    await hass.async_block_till_done()
    assert chats(ollama_stub) == []
    assert sent == []
    assert ollama_stub.pending_replies == 1


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
    """No button within the time to answer: the buttons stop working."""
    scripts, heated = allowed_scripts
    notified = await recommend(hass, ollama_stub, scripts, HEAT)
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await until(lambda: runs(hass, RECOMMENDER) == 0)
    await press(hass, buttons(notified[0])["Execute"])
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


# --- SMS -------------------------------------------------------------------------------

PHONE = "sensor.pixel_last_notification"
MESSAGES_APP = "com.google.android.apps.messaging"


def sms(
    hass: HomeAssistant, sender: str, text: str, package: str = MESSAGES_APP
) -> None:
    """The companion app's last notification sensor, as a new notification sets it."""
    hass.states.async_set(
        PHONE,
        text,
        {
            "android.title": sender,
            "android.text": text,
            "package": package,
            "post_time": dt_util.utcnow().timestamp() * 1000,
        },
    )


async def sms_bridge(hass: HomeAssistant, **inputs: Any) -> None:
    """The SMS bridge for one authorised sender, answering through notify.sms."""
    sms(hass, "", "")
    await use_blueprint(
        hass,
        "sms_bridge.yaml",
        {
            "notification_sensor": PHONE,
            "authorised_senders": ["+49 151 12345678", " Ann "],
            "agent": AGENT_ID,
            **inputs,
        },
    )


async def test_sms_bridge_answers_authorised_senders_cut_to_length(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """An authorised sender's SMS is answered; a long answer is cut to 160."""
    texts = async_mock_service(hass, "notify", "sms")
    await sms_bridge(hass)
    long_answer = "The kitchen lights are on. " + "All other lights are off. " * 10
    ollama_stub.reply(long_answer, "Yes.")

    sms(hass, "+4915112345678", "Which lights are on?")
    await hass.async_block_till_done()
    sms(hass, "ann", "Thanks")
    await hass.async_block_till_done()

    bodies = chats(ollama_stub)
    assert [user_texts(body) for body in bodies] == [
        ["Which lights are on?"],
        ["Thanks"],
    ]
    first, second = (call.data for call in texts)
    assert first["target"] == ["+4915112345678"]
    assert len(first["message"]) <= 160
    assert first["message"].endswith("…")
    assert long_answer.startswith(first["message"][:-1])
    assert second == {"message": "Yes.", "target": ["ann"]}


async def test_sms_bridge_length_is_the_users(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The longest answer is an input; a short answer is sent whole."""
    texts = async_mock_service(hass, "notify", "sms")
    await sms_bridge(hass, max_length=30)
    ollama_stub.reply("The front door is locked and the garage door is closed.")
    sms(hass, "+4915112345678", "Is the house closed?")
    await hass.async_block_till_done()
    assert [call.data["message"] for call in texts] == ["The front door is locked and…"]


async def test_sms_bridge_ignores_strangers_and_other_apps(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Unknown senders and other apps' notifications reach neither model nor SMS."""
    texts = async_mock_service(hass, "notify", "sms")
    await sms_bridge(hass)
    ollama_stub.reply("Secret.")
    sms(hass, "+4917000000000", "Unlock the front door")
    await hass.async_block_till_done()
    sms(hass, "Ann", "Unlock the front door", package="com.whatsapp")
    await hass.async_block_till_done()
    assert chats(ollama_stub) == []
    assert texts == []


def test_readme_offers_every_blueprint_for_import() -> None:
    """Each blueprint has Home Assistant's import badge in the README, with its URL."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Blueprints") : readme.index("## Development")]
    for name in BLUEPRINTS:
        url = quote(SOURCE_URL + name, safe="")
        assert f"redirect/blueprint_import/?blueprint_url={url})" in section, name
