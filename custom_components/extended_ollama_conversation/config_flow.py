"""Config flow: add an Ollama server, reconfigure it, and re-authenticate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_API_KEY,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from . import client_from_config
from .client import (
    CannotConnect,
    InvalidAuth,
    InvalidURL,
    OllamaError,
    RequestTimeout,
    display_host,
    normalize_url,
)
from .const import (
    CONF_RATE_PER_MINUTE,
    CONF_RATE_PER_USER_HOUR,
    CONF_UNREACHABLE_MINUTES,
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_RATE_PER_USER_HOUR,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    DEFAULT_VERIFY_SSL,
    DOMAIN,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    UNREACHABLE_ISSUE_MINUTES,
)
from .subentry_flow import AgentSubentryFlow

_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_API_KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_TIMEOUT_SELECTOR = NumberSelector(
    NumberSelectorConfig(
        min=MIN_TIMEOUT,
        max=MAX_TIMEOUT,
        step=1,
        mode=NumberSelectorMode.BOX,
        unit_of_measurement="s",
    )
)

_CONNECTION_FIELDS: dict[vol.Marker, Any] = {
    vol.Required(CONF_VERIFY_SSL, default=DEFAULT_VERIFY_SSL): BooleanSelector(),
    vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): _TIMEOUT_SELECTOR,
}
USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): _URL_SELECTOR,
        vol.Optional(CONF_API_KEY): _API_KEY_SELECTOR,
        **_CONNECTION_FIELDS,
    }
)
RECONFIGURE_SCHEMA = vol.Schema(
    {vol.Required(CONF_URL): _URL_SELECTOR, **_CONNECTION_FIELDS}
)
REAUTH_SCHEMA = vol.Schema({vol.Optional(CONF_API_KEY): _API_KEY_SELECTOR})


async def _connection_error(data: Mapping[str, Any]) -> str | None:
    """Try the server as a flow would use it; return the form error, if any."""
    client = client_from_config(data)
    try:
        await client.list_models()
    except InvalidAuth:
        return "invalid_auth"
    except RequestTimeout:
        return "timeout"
    except CannotConnect:
        return "cannot_connect"
    except OllamaError:
        return "bad_response"
    finally:
        await client.close()
    return None


def _server_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the fields a server entry stores, with the URL normalised and the key trimmed."""
    data: dict[str, Any] = {
        CONF_URL: normalize_url(user_input[CONF_URL]),
        CONF_VERIFY_SSL: user_input.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL),
        CONF_TIMEOUT: int(user_input.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
    }
    if api_key := (user_input.get(CONF_API_KEY) or "").strip():
        data[CONF_API_KEY] = api_key
    return data


class ExtendedOllamaConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add one Ollama server per URL."""

    VERSION = 1

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Agents and AI tasks are added under a server."""
        return {
            SUBENTRY_CONVERSATION: AgentSubentryFlow,
            SUBENTRY_AI_TASK: AgentSubentryFlow,
        }

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """The integration-wide limits."""
        return LimitsOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the server's address, check it answers, and create the entry."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _server_data(user_input)
            except InvalidURL:
                errors[CONF_URL] = "invalid_url"
            else:
                self._async_abort_entries_match({CONF_URL: data[CONF_URL]})
                if (error := await _connection_error(data)) is None:
                    return self.async_create_entry(
                        title=display_host(data[CONF_URL]), data=data
                    )
                errors["base"] = error
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address, TLS check or timeout of a server that is set up."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _server_data(
                    {CONF_API_KEY: entry.data.get(CONF_API_KEY), **user_input}
                )
            except InvalidURL:
                errors[CONF_URL] = "invalid_url"
            else:
                if data[CONF_URL] != entry.data[CONF_URL]:
                    self._async_abort_entries_match({CONF_URL: data[CONF_URL]})
                if (error := await _connection_error(data)) is None:
                    return self._async_save(
                        entry, title=display_host(data[CONF_URL]), data=data
                    )
                errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                RECONFIGURE_SCHEMA, user_input or entry.data
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start re-authentication when the server begins refusing the key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key and check the server accepts it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _server_data(
                {**entry.data, CONF_API_KEY: user_input.get(CONF_API_KEY)}
            )
            if (error := await _connection_error(data)) is None:
                return self._async_save(entry, data=data)
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            description_placeholders={"host": display_host(entry.data[CONF_URL])},
            errors=errors,
        )

    @callback
    def _async_save(self, entry: ConfigEntry, **changes: Any) -> ConfigFlowResult:
        """Store the new server settings, and have the entry reconnect with them.

        A loaded entry's update listener reloads it; one that failed to set up (a
        refused key, say) has no listener and is reloaded from here.
        """
        if entry.update_listeners:
            return self.async_update_and_abort(entry, **changes)
        return self.async_update_reload_and_abort(entry, **changes)


# --- The server's options: rate limits, and how the server is watched ----------------


class LimitsOptionsFlow(OptionsFlow):
    """Request limits for the agents; how often to read the server, when to report it."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form; the limits apply from the next request, without a reload."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_RATE_PER_MINUTE,
                        default=options.get(
                            CONF_RATE_PER_MINUTE, DEFAULT_RATE_PER_MINUTE
                        ),
                    ): _LIMIT_SELECTOR,
                    vol.Required(
                        CONF_RATE_PER_USER_HOUR,
                        default=options.get(
                            CONF_RATE_PER_USER_HOUR, DEFAULT_RATE_PER_USER_HOUR
                        ),
                    ): _LIMIT_SELECTOR,
                    vol.Required(
                        CONF_SCAN_INTERVAL,
                        default=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                    ): _SCAN_INTERVAL_SELECTOR,
                    vol.Required(
                        CONF_UNREACHABLE_MINUTES,
                        default=options.get(
                            CONF_UNREACHABLE_MINUTES, UNREACHABLE_ISSUE_MINUTES
                        ),
                    ): _UNREACHABLE_SELECTOR,
                }
            ),
        )


_LIMIT_SELECTOR = vol.All(
    NumberSelector(
        NumberSelectorConfig(min=1, max=10000, step=1, mode=NumberSelectorMode.BOX)
    ),
    vol.Coerce(int),
)
_SCAN_INTERVAL_SELECTOR = vol.All(
    NumberSelector(
        NumberSelectorConfig(
            min=MIN_SCAN_INTERVAL,
            max=MAX_SCAN_INTERVAL,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    ),
    vol.Coerce(int),
)
# One minute to one day.
_UNREACHABLE_SELECTOR = vol.All(
    NumberSelector(
        NumberSelectorConfig(
            min=1,
            max=1440,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="min",
        )
    ),
    vol.Coerce(int),
)
