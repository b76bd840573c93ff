"""The three kinds of user tool, and offering an agent's user tools with its API.

Arguments reach templates as variables, never as template text. Results (a rendered
template, an HTTP response) are untrusted: they go back to the model as JSON values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import json
from typing import Any

import aiohttp
from homeassistant.components.homeassistant.exposed_entities import (
    async_should_expose,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, TemplateError
from homeassistant.helpers import config_validation as cv, llm, template
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ..const import DOMAIN
from .device_tools import frozen
from .effects import Effect
from .user_tools import (
    KIND_REST,
    KIND_SCRIPT,
    KIND_TEMPLATE,
    MAX_RESPONSE_BYTES,
    UserToolConfig,
    UserToolsError,
    parameters_schema,
    parse_user_tools,
)
from .wording import NOT_FOUND

_READ_ONLY = llm.ToolAnnotations(
    read_only=True, destructive=False, idempotent=True, open_world=False
)


def _error(code: str, text: str) -> llm.ToolResult:
    return llm.ToolResult(data={"error": code, "error_text": text}, error=True)


def _render(hass: HomeAssistant, value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every string of a structure as a template with the call's arguments."""
    if isinstance(value, str):
        return template.Template(value, hass).async_render(variables)
    if isinstance(value, Mapping):
        return {key: _render(hass, item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(hass, item, variables) for item in value]
    return value


class UserTool(llm.Tool):
    """What the three kinds share: name, description and parameters from the YAML."""

    integration = DOMAIN

    def __init__(self, config: UserToolConfig) -> None:
        """Take the tool's definition from its config."""
        self.config = config.config
        self.name = config.name
        self.description = str(self.config["description"])
        self.parameters = parameters_schema(self.config)

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """Nothing in the home, unless a kind says otherwise."""
        return []


class ScriptUserTool(UserTool):
    """Call an exposed script, or a service on exposed entities, with templated data."""

    annotations = llm.ToolAnnotations(open_world=False)

    def call(
        self, hass: HomeAssistant, args: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any], list[str]]:
        """The service's domain and name, its data, and the entities it acts on."""
        domain, _, service = str(self.config["action"]).partition(".")
        data = {
            **_render(hass, self.config["data"], args),
            **_render(hass, self.config["target"], args),
        }
        entities = cv.comp_entity_ids(data["entity_id"]) if "entity_id" in data else []
        if domain == "script" and service not in ("turn_on", "turn_off", "toggle"):
            entities = [f"script.{service}", *entities]
        return domain, service, data, entities

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """The service on each entity, when every one of them is exposed."""
        try:
            domain, service, data, entities = self.call(hass, args)
        except TemplateError, vol.Invalid:
            return []
        if not all(_exposed(hass, llm_context, e) for e in entities):
            return []
        details = frozen({k: v for k, v in data.items() if k != "entity_id"})
        action = "turn_on" if domain == "script" and entities else service
        return [Effect(entity, action, details) for entity in entities]

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Call the service and wait for it; refuse entities that are not exposed."""
        try:
            domain, service, data, entities = self.call(hass, tool_input.tool_args)
        except (TemplateError, vol.Invalid) as err:
            return _error("InvalidArguments", f"The data could not be made: {err}")
        if hidden := [e for e in entities if not _exposed(hass, llm_context, e)]:
            return _error("NotFound", NOT_FOUND.format(name=hidden[0]))
        try:
            await hass.services.async_call(
                domain, service, data, blocking=True, context=llm_context.context
            )
        except (HomeAssistantError, vol.Invalid) as err:
            return _error("ActionFailed", str(err))
        return llm.ToolResult(
            data={
                "done": [
                    {
                        "entity": e,
                        "state": state.state if (state := hass.states.get(e)) else None,
                    }
                    for e in entities
                ]
                or True
            }
        )


class TemplateUserTool(UserTool):
    """Render a Home Assistant template with the call's arguments; read-only."""

    annotations = _READ_ONLY

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """The rendered text, as a value."""
        try:
            rendered = template.Template(
                str(self.config["template"]), hass
            ).async_render(tool_input.tool_args, parse_result=False)
        except TemplateError as err:
            return _error("TemplateError", str(err))
        return llm.ToolResult(data={"result": str(rendered).strip()})


class RestUserTool(UserTool):
    """An HTTP request through Home Assistant's session, with a timeout and a size cap."""

    def __init__(self, config: UserToolConfig) -> None:
        """A GET only reads; other methods may change something outside."""
        super().__init__(config)
        if self.config["method"] == "GET":
            self.annotations = llm.ToolAnnotations(
                read_only=True, destructive=False, idempotent=True, open_world=True
            )

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """The response's status and body (JSON when it is JSON), cut at the cap."""
        args = tool_input.tool_args
        try:
            url = str(_render(hass, self.config["url"], args))
            headers = _render(hass, self.config["headers"], args)
            payload = _render(hass, self.config.get("payload"), args)
        except TemplateError as err:
            return _error("InvalidArguments", f"The request could not be made: {err}")
        session = async_get_clientsession(hass)
        try:
            async with asyncio.timeout(self.config["timeout"]):
                async with session.request(
                    self.config["method"],
                    url,
                    headers=headers,
                    **(
                        {"json": payload}
                        if isinstance(payload, dict | list)
                        else {"data": payload}
                    ),
                ) as response:
                    body = await response.content.read(MAX_RESPONSE_BYTES + 1)
                    status = response.status
        except TimeoutError:
            return _error("Timeout", f"No answer within {self.config['timeout']} s.")
        except (aiohttp.ClientError, ValueError) as err:
            return _error("RequestFailed", f"The request failed: {err}")
        return llm.ToolResult(data=_response(status, body), error=status >= 400)


def _response(status: int, body: bytes) -> dict[str, Any]:
    """A response as JSON values: its body parsed when it is JSON, else text."""
    truncated = len(body) > MAX_RESPONSE_BYTES
    text = body[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")
    content: Any = text
    if not truncated:
        try:
            content = json.loads(text)
        except ValueError:
            content = text
    result: dict[str, Any] = {"status": status, "body": content}
    if truncated:
        result["truncated"] = True
    return result


def _exposed(hass: HomeAssistant, llm_context: llm.LLMContext, entity_id: str) -> bool:
    return hass.states.get(entity_id) is not None and async_should_expose(
        hass, llm_context.assistant, entity_id
    )


_CLASSES: dict[str, type[UserTool]] = {
    KIND_SCRIPT: ScriptUserTool,
    KIND_TEMPLATE: TemplateUserTool,
    KIND_REST: RestUserTool,
}


def user_tools(text: str | None) -> list[llm.Tool]:
    """The tools of an agent's YAML (checked on save; if it has gone bad, none)."""
    try:
        configs = parse_user_tools(text or "")
    except UserToolsError:
        return []
    return [_CLASSES[config.kind](config) for config in configs]


def add_user_tools(api: llm.APIInstance | None, text: str | None) -> None:
    """Offer an agent's user tools with its LLM API, after the API's own tools."""
    if api is None or not text:
        return
    taken = {tool.name for tool in api.tools}
    api.tools.extend(tool for tool in user_tools(text) if tool.name not in taken)
