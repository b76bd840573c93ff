"""The repair issues the server's refreshes raise and clear (their fixes: repairs.py)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from homeassistant.const import CONF_MODEL
from homeassistant.core import HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_UNREACHABLE_MINUTES, DOMAIN, UNREACHABLE_ISSUE_MINUTES
from .runtime import OllamaConfigEntry

UNREACHABLE_PREFIX = "server_unreachable_"
MODEL_MISSING_PREFIX = "model_missing_"
# The issue runtime.py raises for a model without tool support (one per model).
NO_TOOLS_PREFIX = "model_without_tools_"


def is_installed(model: str, installed: Collection[str]) -> bool:
    """Whether a model an agent names is on the server (no tag means `latest`)."""
    return model in installed or (":" not in model and f"{model}:latest" in installed)


# Per entry, since when the server has not answered: its refreshes, or its setup while
# Home Assistant retries it (before a coordinator exists).
_SETUP_FAILING_SINCE: HassKey[dict[str, datetime]] = HassKey(
    f"{DOMAIN}_setup_failing_since"
)


def unreachable_minutes(entry: OllamaConfigEntry) -> int:
    """How long the server may be unreachable before the repair: the entry's option."""
    return int(entry.options.get(CONF_UNREACHABLE_MINUTES, UNREACHABLE_ISSUE_MINUTES))


def _missing_model_issue(entry_id: str, subentry_id: str) -> str:
    return f"{MODEL_MISSING_PREFIX}{entry_id}_{subentry_id}"


@callback
def async_raise_server_unreachable(
    hass: HomeAssistant, entry: OllamaConfigEntry
) -> None:
    """The server has not answered for long: say so where the user looks."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{UNREACHABLE_PREFIX}{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="server_unreachable",
        translation_placeholders={
            "host": entry.title,
            "minutes": str(unreachable_minutes(entry)),
        },
    )


@callback
def async_note_unreachable(
    hass: HomeAssistant, entry: OllamaConfigEntry, since: datetime | None = None
) -> datetime:
    """A read failed: the issue is raised once it has failed for long; since when.

    A server down while Home Assistant starts fails the entry's setup again and again,
    at growing intervals, before any coordinator exists: the first failure's time is
    kept for it, and a timer raises the issue on time. The delay is read at each check,
    so a changed option applies to an outage under way.
    """
    failing = hass.data.setdefault(_SETUP_FAILING_SINCE, {})
    if entry.entry_id not in failing:
        first = failing[entry.entry_id] = since or dt_util.utcnow()

        @callback
        def _still_failing(_now: datetime) -> None:
            if failing.get(entry.entry_id) != first:
                return  # it answered meanwhile
            if (left := _time_left(entry, first)) > timedelta(seconds=1):
                _schedule(left)  # the option was raised during the outage
            else:
                async_raise_server_unreachable(hass, entry)

        def _schedule(delay: timedelta) -> None:
            # Cancelled at shutdown like Home Assistant's own retry.
            async_call_later(
                hass, delay, HassJob(_still_failing, cancel_on_shutdown=True)
            )

        _schedule(_time_left(entry, first))
    first = failing[entry.entry_id]
    if _time_left(entry, first) <= timedelta(0):
        async_raise_server_unreachable(hass, entry)
    return first


def _time_left(entry: OllamaConfigEntry, first: datetime) -> timedelta:
    """How long until an outage that began at `first` is reported."""
    after = timedelta(minutes=unreachable_minutes(entry))
    return first + after - dt_util.utcnow()


@callback
def async_clear_server_unreachable(
    hass: HomeAssistant, entry: OllamaConfigEntry
) -> None:
    """The server answered again."""
    hass.data.get(_SETUP_FAILING_SINCE, {}).pop(entry.entry_id, None)
    ir.async_delete_issue(hass, DOMAIN, f"{UNREACHABLE_PREFIX}{entry.entry_id}")


@callback
def async_sync_missing_models(
    hass: HomeAssistant, entry: OllamaConfigEntry, installed: Collection[str]
) -> None:
    """Raise an issue for each agent whose model is gone; clear those that are back."""
    wanted: set[str] = set()
    for subentry in entry.subentries.values():
        model = subentry.data.get(CONF_MODEL)
        if not isinstance(model, str) or is_installed(model, installed):
            continue
        issue_id = _missing_model_issue(entry.entry_id, subentry.subentry_id)
        wanted.add(issue_id)
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key="model_missing",
            translation_placeholders={
                "agent": subentry.title,
                "model": model,
                "host": entry.title,
            },
            data={"entry_id": entry.entry_id, "subentry_id": subentry.subentry_id},
        )
    _delete_missing_models(hass, entry, keep=wanted)


@callback
def _delete_missing_models(
    hass: HomeAssistant, entry: OllamaConfigEntry, keep: Collection[str] = ()
) -> None:
    """Delete the entry's missing-model issues, except those to keep."""
    prefix = f"{MODEL_MISSING_PREFIX}{entry.entry_id}_"
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in keep:
            ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def async_clear_entry_issues(hass: HomeAssistant, entry: OllamaConfigEntry) -> None:
    """The entry is unloaded: its refreshes raise what still holds when it is back."""
    async_clear_server_unreachable(hass, entry)
    _delete_missing_models(hass, entry)
