"""One periodic read of the server: its version, installed models and loaded models.

The monitoring entities show what it read; the repairs learn from it that the server
has been down for long or that an agent's model has gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
import logging

from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import ollama

from .client import (
    BadResponse,
    InvalidAuth,
    ModelNotFound,
    OllamaClient,
    OllamaError,
    display_host,
)
from .const import DEFAULT_SCAN_INTERVAL, DOMAIN
from .issues import (
    async_clear_server_unreachable,
    async_note_unreachable,
    async_sync_missing_models,
)
from .runtime import OllamaConfigEntry

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """A model on the server's disk."""

    name: str
    size: int
    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model in the server's memory; `size` is all of it, `size_vram` its GPU part."""

    name: str
    size: int
    size_vram: int

    @property
    def size_ram(self) -> int:
        """The part held in the computer's main memory."""
        return max(0, self.size - self.size_vram)


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What one refresh read from the server."""

    version: str
    installed: tuple[InstalledModel, ...]
    loaded: tuple[LoadedModel, ...]

    @property
    def installed_names(self) -> frozenset[str]:
        """The installed models' names, as agents' options spell them."""
        return frozenset(model.name for model in self.installed)


def scan_interval(entry: OllamaConfigEntry) -> timedelta:
    """The refresh interval set in the server entry's options."""
    return timedelta(
        seconds=int(entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
    )


class ServerCoordinator(DataUpdateCoordinator[ServerStatus]):
    """Reads the server once per interval; a failed read makes the entities unavailable."""

    config_entry: OllamaConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: OllamaConfigEntry, client: OllamaClient
    ) -> None:
        """Set the interval from the entry's options; follow later changes to them."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"Ollama server {display_host(client.url)}",
            update_interval=scan_interval(entry),
        )
        self.client = client
        # When the current run of failed refreshes began (None while it answers).
        self.failing_since: datetime | None = None
        entry.async_on_unload(entry.add_update_listener(self._async_options_updated))

    async def _async_options_updated(
        self, hass: HomeAssistant, entry: OllamaConfigEntry
    ) -> None:
        """A new interval applies at once, without a reload."""
        if (interval := scan_interval(entry)) != self.update_interval:
            self.update_interval = interval
            self._schedule_refresh()

    async def _async_update_data(self) -> ServerStatus:
        """Read the server; track how long it has been unreachable."""
        try:
            status = await self._async_read()
        except InvalidAuth as err:
            raise ConfigEntryAuthFailed(str(err)) from err
        except OllamaError as err:
            self._note_failure()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="refresh_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.failing_since = None
        async_clear_server_unreachable(self.hass, self.config_entry)
        async_sync_missing_models(self.hass, self.config_entry, status.installed_names)
        self._update_device(status.version)
        return status

    async def _async_read(self) -> ServerStatus:
        """The three reads, at once; capabilities come from the client's cache."""
        version, installed, loaded = await asyncio.gather(
            self.client.version(),
            self.client.installed_models(),
            self._loaded_models(),
        )
        models = []
        for model in installed:
            name = str(model.model)
            try:
                capabilities = (await self.client.model_info(name)).capabilities
            except ModelNotFound:
                continue  # removed between the two requests
            models.append(InstalledModel(name, int(model.size or 0), capabilities))
        return ServerStatus(
            version=version,
            installed=tuple(sorted(models, key=lambda model: model.name)),
            loaded=tuple(
                LoadedModel(
                    str(model.model or model.name),
                    int(model.size or 0),
                    int(model.size_vram or 0),
                )
                for model in loaded
            ),
        )

    async def _loaded_models(self) -> list[ollama.ProcessResponse.Model]:
        """/api/ps; a server without it (older, or behind a proxy) shows none loaded.

        Only its 404 is forgiven: the server answered, so it is reachable.
        """
        try:
            return await self.client.loaded_models()
        except BadResponse as err:
            if err.status != HTTPStatus.NOT_FOUND:
                raise
            _LOGGER.debug("%s has no /api/ps: no loaded models shown", self.name)
            return []

    def _note_failure(self) -> None:
        """Remember when the failures began; after long enough, raise the repair."""
        self.failing_since = async_note_unreachable(
            self.hass, self.config_entry, self.failing_since
        )

    def _update_device(self, version: str) -> None:
        """Keep the server device's software version up to date."""
        devices = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        device = devices.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
        if device is not None and device.sw_version != version:
            devices.async_update_device(device.id, sw_version=version)
