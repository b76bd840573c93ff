"""Icons a user sees: each service and entity has one, and the integration its picture."""

from __future__ import annotations

from http import HTTPStatus
import json
from pathlib import Path
import struct
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.icon import async_get_icons
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.extended_ollama_conversation.const import DOMAIN

PACKAGE = (
    Path(__file__).parent.parent / "custom_components" / "extended_ollama_conversation"
)
ICONS: dict[str, Any] = json.loads((PACKAGE / "icons.json").read_text())
STRINGS: dict[str, Any] = json.loads((PACKAGE / "strings.json").read_text())


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def test_every_service_and_entity_has_an_icon(hass: HomeAssistant) -> None:
    """Home Assistant reads icons.json: one mdi icon per service and per entity key."""
    services = load_yaml_dict(str(PACKAGE / "services.yaml"))
    loaded = await async_get_icons(hass, "services", [DOMAIN])
    assert set(loaded[DOMAIN]) == set(services)
    for service, icon in loaded[DOMAIN].items():
        assert icon["service"].startswith("mdi:"), service
    entities = (await async_get_icons(hass, "entity", [DOMAIN]))[DOMAIN]
    assert set(entities) == set(STRINGS["entity"])
    for platform, keys in STRINGS["entity"].items():
        assert set(entities[platform]) == set(keys), platform
        for key, icon in entities[platform].items():
            assert icon["default"].startswith("mdi:"), key
            for state_icon in icon.get("state", {}).values():
                assert state_icon.startswith("mdi:"), key
    sensors = entities["sensor"]
    assert len({sensors[key]["default"] for key in sensors}) == len(sensors)


@pytest.mark.parametrize(
    ("image", "file", "size"),
    [
        ("icon.png", "icon.png", 256),
        ("icon@2x.png", "icon@2x.png", 512),
        ("logo.png", "icon.png", 256),
        ("dark_icon.png", "icon.png", 256),
    ],
)
async def test_home_assistant_shows_the_integrations_own_icon(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    image: str,
    file: str,
    size: int,
) -> None:
    """The brands view serves brand/ of a custom integration, without the brands CDN."""
    expected = (PACKAGE / "brand" / file).read_bytes()
    assert _size(expected) == (size, size)
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    response = await client.get(f"/api/brands/integration/{DOMAIN}/{image}")
    assert response.status == HTTPStatus.OK
    assert await response.read() == expected
