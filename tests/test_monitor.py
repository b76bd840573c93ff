"""The server's monitoring entities: values after setup, unavailable while it is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    CONF_API_KEY,
    CONF_MODEL,
    CONF_NAME,
    CONF_SCAN_INTERVAL,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.extended_ollama_conversation.const import (
    CONF_RATE_PER_MINUTE,
    CONF_RATE_PER_USER_HOUR,
    CONF_WARM_UP,
    DOMAIN,
)

from .ollama_stub import Fault, OllamaStub
from .ollama_stub.server import OLLAMA_VERSION

SENSORS = (
    "version",
    "installed_models",
    "loaded_models",
    "loaded_memory",
    "loaded_vram",
)
GB = 1_000_000_000


def entity_state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> State:
    """The state of one of the server's entities, found by its unique id."""
    platform = "binary_sensor" if key == "server" else "sensor"
    entity_id = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{key}"
    )
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def move_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let time pass, so that the refreshes due in it run."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
async def server_entry(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """A loaded server entry whose server has two models, one of them loaded."""
    ollama_stub.add_model(
        "nomic-embed-text:latest", capabilities=["embedding"], size=274_302_450
    )
    ollama_stub.loaded["qwen2.5:3b"] = datetime.now(UTC) + timedelta(minutes=5)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


async def test_every_entity_has_a_value_after_setup(
    hass: HomeAssistant, server_entry: MockConfigEntry, ollama_stub: OllamaStub
) -> None:
    """Version, models with sizes and capabilities, memory in GB, on the server device."""
    assert entity_state(hass, server_entry, "server").state == STATE_ON
    assert entity_state(hass, server_entry, "version").state == OLLAMA_VERSION

    installed = entity_state(hass, server_entry, "installed_models")
    assert installed.state == "2"
    assert installed.attributes["models"] == [
        {
            "name": "nomic-embed-text:latest",
            "size": 274_302_450,
            "capabilities": ["embedding"],
        },
        {
            "name": "qwen2.5:3b",
            "size": 1_929_912_432,
            "capabilities": ["completion", "tools"],
        },
    ]
    loaded = entity_state(hass, server_entry, "loaded_models")
    assert loaded.state == "1"
    # The stand-in holds a loaded model wholly in VRAM.
    assert loaded.attributes["models"] == [
        {"name": "qwen2.5:3b", "ram": 0, "vram": 1_929_912_432}
    ]
    memory = entity_state(hass, server_entry, "loaded_memory")
    assert memory.attributes["unit_of_measurement"] == "GB"
    assert float(memory.state) == pytest.approx(1_929_912_432 / GB)
    vram = entity_state(hass, server_entry, "loaded_vram")
    assert float(vram.state) == pytest.approx(1_929_912_432 / GB)

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, server_entry.entry_id), server_entry.entry_id
    )
    assert device is not None
    assert device.name == server_entry.title
    assert device.manufacturer == "Ollama"
    assert device.sw_version == OLLAMA_VERSION
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.configuration_url == ollama_stub.url

    registry = er.async_get(hass)
    for key in ("server", "version"):
        entity_id = entity_state(hass, server_entry, key).entity_id
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.entity_category is not None  # diagnostic
        assert entry.device_id == device.id


async def test_unavailable_while_the_server_is_down_and_back_by_itself(
    hass: HomeAssistant,
    server_entry: MockConfigEntry,
    ollama_stub: OllamaStub,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The sensors go unavailable, connectivity goes off, and both come back."""
    await ollama_stub.stop()
    await move_time(hass, freezer, 61)
    connectivity = entity_state(hass, server_entry, "server")
    assert connectivity.state == STATE_OFF
    for key in SENSORS:
        assert entity_state(hass, server_entry, key).state == "unavailable", key

    await ollama_stub.start()
    ollama_stub.loaded.clear()  # the restarted server has nothing in memory
    await move_time(hass, freezer, 61)
    assert entity_state(hass, server_entry, "server").state == STATE_ON
    assert entity_state(hass, server_entry, "version").state == OLLAMA_VERSION
    assert entity_state(hass, server_entry, "loaded_models").state == "0"
    assert float(entity_state(hass, server_entry, "loaded_memory").state) == 0


async def test_newly_loaded_models_show_at_the_next_refresh(
    hass: HomeAssistant,
    server_entry: MockConfigEntry,
    ollama_stub: OllamaStub,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A model pulled and loaded elsewhere appears within one interval."""
    ollama_stub.add_model("llama3.2:3b", size=2_019_393_189)
    ollama_stub.loaded["llama3.2:3b"] = datetime.now(UTC) + timedelta(minutes=5)
    await move_time(hass, freezer, 61)
    assert entity_state(hass, server_entry, "installed_models").state == "3"
    assert entity_state(hass, server_entry, "loaded_models").state == "2"
    memory = float(entity_state(hass, server_entry, "loaded_memory").state)
    assert memory == pytest.approx((1_929_912_432 + 2_019_393_189) / GB)


async def test_the_refresh_interval_is_an_option(
    hass: HomeAssistant,
    server_entry: MockConfigEntry,
    ollama_stub: OllamaStub,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Set in the server's options, it applies without a reload."""
    flow = await hass.config_entries.options.async_init(server_entry.entry_id)
    done = await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {
            CONF_RATE_PER_MINUTE: 20,
            CONF_RATE_PER_USER_HOUR: 60,
            CONF_SCAN_INTERVAL: 300,
        },
    )
    assert done["type"] == "create_entry"
    assert server_entry.options[CONF_SCAN_INTERVAL] == 300
    await hass.async_block_till_done()

    await ollama_stub.stop()
    await move_time(hass, freezer, 61)
    assert entity_state(hass, server_entry, "server").state == STATE_ON
    await move_time(hass, freezer, 300)
    assert entity_state(hass, server_entry, "server").state == STATE_OFF


async def test_a_server_whose_ps_fails_still_sets_up(
    hass: HomeAssistant, ollama_stub: OllamaStub, config_entry: MockConfigEntry
) -> None:
    """The setup's own check passed: a failing first read leaves the sensors unavailable."""
    ollama_stub.fail(Fault.SERVER_ERROR, path="/api/ps")
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, config_entry, "server").state == STATE_OFF
    assert entity_state(hass, config_entry, "version").state == "unavailable"


async def test_a_refused_key_at_a_refresh_asks_for_a_new_one(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    entry_data: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The proxy starts refusing the key: Home Assistant's re-authentication starts."""
    ollama_stub.token = "old-key"
    entry = MockConfigEntry(
        domain=DOMAIN, title="127.0.0.1", data={**entry_data, CONF_API_KEY: "old-key"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ollama_stub.token = "new-key"
    await move_time(hass, freezer, 61)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


def connected_devices(
    hass: HomeAssistant, entry: MockConfigEntry
) -> tuple[dr.DeviceEntry, set[str]]:
    """The server's device, and the names of the devices connected through it."""
    devices = dr.async_get(hass)
    server = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert server is not None
    connected = {
        str(device.name)
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
        if device.via_device_id == server.id
    }
    return server, connected


async def test_the_server_device_lists_its_agents(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """Each agent's device is connected through the server's, also one added later."""
    server, connected = connected_devices(hass, agent_entry)
    assert connected == {"Ollama Conversation", "Ollama AI Task"}
    assert server.via_device_id is None
    assert server.sw_version == OLLAMA_VERSION  # however the platforms were ordered

    flow = await hass.config_entries.subentries.async_init(
        (agent_entry.entry_id, "conversation"), context={"source": "user"}
    )
    done = await hass.config_entries.subentries.async_configure(
        flow["flow_id"],
        {CONF_NAME: "Kitchen agent", CONF_MODEL: "qwen2.5:3b", CONF_WARM_UP: False},
    )
    assert done["type"] == "create_entry"
    await hass.async_block_till_done()
    assert hass.states.get("conversation.kitchen_agent") is not None
    same_server, connected = connected_devices(hass, agent_entry)
    assert same_server.id == server.id
    assert connected == {"Ollama Conversation", "Ollama AI Task", "Kitchen agent"}


async def test_a_server_without_ps_stays_reachable(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An older or proxied server answers 404 on /api/ps: connected, nothing loaded.

    Its version and models still show; refused connections still mean unreachable.
    """
    ollama_stub.missing_routes.add("/api/ps")
    ollama_stub.loaded["qwen2.5:3b"] = datetime.now(UTC) + timedelta(minutes=5)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, config_entry, "server").state == STATE_ON
    assert entity_state(hass, config_entry, "version").state == OLLAMA_VERSION
    assert entity_state(hass, config_entry, "installed_models").state == "1"
    loaded = entity_state(hass, config_entry, "loaded_models")
    assert loaded.state == "0"
    assert loaded.attributes["models"] == []
    assert float(entity_state(hass, config_entry, "loaded_memory").state) == 0
    assert ollama_stub.requests_to("/api/ps")  # it was asked, and answered 404

    await move_time(hass, freezer, 61)
    assert entity_state(hass, config_entry, "server").state == STATE_ON
    await ollama_stub.stop()
    await move_time(hass, freezer, 61)
    assert entity_state(hass, config_entry, "server").state == STATE_OFF
    assert entity_state(hass, config_entry, "loaded_models").state == "unavailable"
