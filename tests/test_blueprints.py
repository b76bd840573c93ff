"""The blueprints: loaded by Home Assistant's blueprint integration, and the chat bridges.

Each blueprint is instantiated as an automation, triggered with its event or state and
checked for the service calls it makes, with the stand-in as the model; services
outside this integration (Telegram, notify) are the harness's mock services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from . import blueprint_harness
from .blueprint_harness import (
    SOURCE_URL,
    blueprint_files,
    chats,
    load_blueprint,
    use_blueprint,
    user_texts,
)
from .conftest import AGENT_ID
from .ollama_stub import OllamaStub

# The test's own configuration folder, with the blueprints imported into it.
hass_config_dir = blueprint_harness.hass_config_dir
blueprints = blueprint_harness.blueprints

BLUEPRINTS = [
    "morning_briefing.yaml",
    "evening_summary.yaml",
    "recommendation.yaml",
    "scene_choice.yaml",
    "sms_bridge.yaml",
    "telegram_bridge.yaml",
]


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


def test_readme_offers_every_blueprint_for_import() -> None:
    """Each blueprint has Home Assistant's import badge in the README, with its URL."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Blueprints") : readme.index("## Development")]
    for name in BLUEPRINTS:
        url = quote(SOURCE_URL + name, safe="")
        assert f"redirect/blueprint_import/?blueprint_url={url})" in section, name


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
