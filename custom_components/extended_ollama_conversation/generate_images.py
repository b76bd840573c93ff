"""Images for the generate service: camera or image entities, or local files.

Ollama takes images base64-encoded in the user message. A file is read only when Home
Assistant is allowed to read its path (`allowlist_external_dirs`, the config folder's
`www` and `media`); anything else is refused before it is opened.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from homeassistant.core import HomeAssistant, split_entity_id, valid_entity_id
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN

IMAGE_ENTITY_DOMAINS = ("camera", "image")


async def async_images(hass: HomeAssistant, sources: list[str]) -> list[str]:
    """Each source's image, base64-encoded, in the order given."""
    return [await _async_image(hass, source) for source in sources]


async def _async_image(hass: HomeAssistant, source: str) -> str:
    """One image: a snapshot of an entity, or the bytes of an allowed file."""
    if valid_entity_id(source) and split_entity_id(source)[0] in IMAGE_ENTITY_DOMAINS:
        content = await _async_entity_image(hass, source)
    else:
        content = await hass.async_add_executor_job(_read_file, hass, source)
    return base64.b64encode(content).decode()


async def _async_entity_image(hass: HomeAssistant, entity_id: str) -> bytes:
    """The current picture of a camera or image entity."""
    try:
        if entity_id.startswith("camera."):
            from homeassistant.components import camera  # noqa: PLC0415

            return (await camera.async_get_image(hass, entity_id)).content
        from homeassistant.components import image  # noqa: PLC0415

        return (await image.async_get_image(hass, entity_id)).content
    except (HomeAssistantError, KeyError) as err:
        raise _invalid("image_unavailable", entity_id) from err


def _read_file(hass: HomeAssistant, source: str) -> bytes:
    """Read a file in the executor (resolving the path touches the disk too)."""
    if not hass.config.is_allowed_path(source):
        raise _invalid("image_not_allowed", source)
    mime_type = mimetypes.guess_type(source)[0] or "unknown"
    if not mime_type.startswith("image/"):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unsupported_attachment",
            translation_placeholders={"mime_type": mime_type},
        )
    try:
        return Path(source).read_bytes()
    except OSError as err:
        raise _invalid("image_unavailable", source) from err


def _invalid(key: str, source: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"source": source},
    )
