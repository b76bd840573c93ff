"""The `generate` service: one prompt to a model, text or JSON back, for automations.

It is tool-less: the request carries no tools, so the model cannot call any and the
service never changes the home. The safe executor's policy is never bypassed because
no tool runs. The home's description, when asked for, is the agent's compact one and
holds only entities exposed to the conversation assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_MODEL, Platform
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    TemplateError,
)
from homeassistant.helpers import (
    config_validation as cv,
    entity_registry as er,
    service,
    template as template_helper,
)
import ollama
import probatio as vol

from .client import ModelInfo, OllamaClient, OllamaError
from .const import (
    ATTR_AGENT,
    ATTR_CONFIG_ENTRY,
    ATTR_IMAGES,
    ATTR_INCLUDE_HOME_CONTEXT,
    ATTR_INSTRUCTIONS,
    ATTR_MODEL,
    ATTR_PROMPT,
    ATTR_STRUCTURE,
    ATTR_TIMEOUT,
    DOMAIN,
    GENERATE_HOME_INSTRUCTIONS,
    MAX_TIMEOUT,
    SERVICE_GENERATE,
    SUBENTRY_CONVERSATION,
)
from .context import build_context, device_index
from .generate_images import async_images
from .messages import Message
from .prompt_fit import with_home_context
from .runtime import OllamaConfigEntry
from .structured import (
    SchemaMismatch,
    check_schema,
    mismatch_error,
    parse_json,
    validate,
)
from .thinking import ThinkingFilter
from .turn import AgentSettings

GENERATE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_PROMPT): cv.template,
        vol.Optional(ATTR_INSTRUCTIONS): cv.template,
        vol.Optional(ATTR_AGENT): cv.entity_domain(Platform.CONVERSATION),
        vol.Optional(ATTR_MODEL): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY): cv.string,
        vol.Optional(ATTR_INCLUDE_HOME_CONTEXT, default=False): cv.boolean,
        vol.Optional(ATTR_STRUCTURE): dict,
        vol.Optional(ATTR_IMAGES, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=MAX_TIMEOUT)
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """Which server answers, with which model and options."""

    entry: OllamaConfigEntry
    settings: AgentSettings


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the service once for the integration (not per server entry)."""

    async def handle(call: ServiceCall) -> ServiceResponse:
        return await async_generate(hass, call.data)

    hass.services.async_register(
        DOMAIN,
        SERVICE_GENERATE,
        handle,
        schema=GENERATE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


async def async_generate(hass: HomeAssistant, data: dict[str, Any]) -> ServiceResponse:
    """Send one tool-less request and return its answer and token counts."""
    if (structure := data.get(ATTR_STRUCTURE)) is not None:
        try:
            check_schema(structure)
        except SchemaMismatch as err:
            raise _invalid("invalid_structure", error=str(err)) from err
    target = _target(hass, data)
    model = target.settings.model
    client = target.entry.runtime_data.client
    info = await _model_info(client, model)
    if data[ATTR_IMAGES] and "vision" not in info.capabilities:
        raise _invalid("no_vision", model=model)
    messages = await _messages(hass, target, data)
    request = _request(target.settings, info, messages, structure)
    text, counts = await _async_answer(target, request, data.get(ATTR_TIMEOUT))
    response: dict[str, Any] = {"model": model, **counts}
    if structure is None:
        return {"text": text, **response}
    return {"data": _structured(structure, text), **response}


def _request(
    settings: AgentSettings,
    info: ModelInfo,
    messages: list[Message],
    structure: dict[str, Any] | None,
) -> dict[str, Any]:
    """The /api/chat request: the agent's options, no tools, the schema as format."""
    request: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        "options": {"num_ctx": settings.num_ctx, **settings.sampling},
        # -1 must be sent as a number; any other value as a duration.
        "keep_alive": -1 if settings.keep_alive < 0 else f"{settings.keep_alive}s",
        "format": structure,
    }
    if "thinking" in info.capabilities:
        request["think"] = settings.think
    return request


def _target(hass: HomeAssistant, data: dict[str, Any]) -> Target:
    """The agent's entry and options, or the chosen entry with `model`."""
    if agent := data.get(ATTR_AGENT):
        entry, options = _agent(hass, agent)
        if model := data.get(ATTR_MODEL):
            options = {**options, CONF_MODEL: model}
        return Target(entry, AgentSettings.from_options(options))
    entry = service.async_get_config_entry(hass, DOMAIN, data.get(ATTR_CONFIG_ENTRY))
    if model := data.get(ATTR_MODEL):
        return Target(entry, AgentSettings.from_options({CONF_MODEL: model}))
    agents = [
        subentry.data
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_CONVERSATION
    ]
    if len(agents) != 1:
        raise _invalid("agent_or_model")
    return Target(entry, AgentSettings.from_options(agents[0]))


def _agent(hass: HomeAssistant, entity_id: str) -> tuple[OllamaConfigEntry, Any]:
    """A conversation agent of this integration: its loaded entry and options."""
    registered = er.async_get(hass).async_get(entity_id)
    if (
        registered is None
        or registered.platform != DOMAIN
        or registered.config_entry_id is None
        or registered.config_subentry_id is None
    ):
        raise _invalid("not_an_agent", agent=entity_id)
    entry: OllamaConfigEntry | None = hass.config_entries.async_get_entry(
        registered.config_entry_id
    )
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        raise _invalid("agent_not_loaded", agent=entity_id)
    return entry, entry.subentries[registered.config_subentry_id].data


async def _messages(
    hass: HomeAssistant, target: Target, data: dict[str, Any]
) -> list[Message]:
    """The system prompt (with the home's description) and the rendered request."""
    prompt = _render(data[ATTR_PROMPT])
    instructions = (
        _render(template) if (template := data.get(ATTR_INSTRUCTIONS)) else ""
    )
    user: Message = {"role": "user", "content": prompt}
    if data[ATTR_IMAGES]:
        user["images"] = await async_images(hass, data[ATTR_IMAGES])
    if not data[ATTR_INCLUDE_HOME_CONTEXT]:
        system = [{"role": "system", "content": instructions}] if instructions else []
        return [*system, user]
    context = build_context(
        device_index(hass),
        prompt,
        budget=target.settings.context_budget,
        chars_per_token=target.entry.runtime_data.estimator.ratio(
            target.settings.model
        ),
    )
    system_prompt = instructions or GENERATE_HOME_INSTRUCTIONS
    return with_home_context(
        [{"role": "system", "content": system_prompt}, user], context
    )


def _render(template: template_helper.Template) -> str:
    """A template field as text; a broken template is the caller's mistake."""
    try:
        return str(template.async_render(parse_result=False))
    except TemplateError as err:
        raise _invalid("template_error", error=str(err)) from err


async def _model_info(client: OllamaClient, model: str) -> ModelInfo:
    try:
        return await client.model_info(model)
    except OllamaError as err:
        raise HomeAssistantError(err.speech) from err


async def _async_answer(
    target: Target, request: dict[str, Any], seconds: float | None
) -> tuple[str, dict[str, int]]:
    """Stream the answer within the call's timeout; return it and Ollama's counts."""
    runtime = target.entry.runtime_data
    runtime.usage.requests += 1
    try:
        # A timeout or failure is raised inside the stream, which closes it.
        async with asyncio.timeout(seconds):
            text, counts = await _async_collect(runtime.client.chat(**request))
    except TimeoutError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="generate_timeout",
            translation_placeholders={"seconds": f"{seconds or 0:g}"},
        ) from err
    except OllamaError as err:
        raise HomeAssistantError(err.speech) from err
    runtime.usage.prompt_tokens += counts["prompt_tokens"]
    runtime.usage.generated_tokens += counts["generated_tokens"]
    return text, counts


async def _async_collect(
    stream: AsyncIterator[ollama.ChatResponse],
) -> tuple[str, dict[str, int]]:
    """The streamed answer without its thinking, and the last line's counts."""
    thoughts = ThinkingFilter()
    said: list[str] = []
    counts = {"prompt_tokens": 0, "generated_tokens": 0}
    async for part in stream:
        said.append(thoughts.split(part.message.content, done=bool(part.done))[0])
        if part.done:
            counts["prompt_tokens"] = part.prompt_eval_count or 0
            counts["generated_tokens"] = part.eval_count or 0
    return "".join(said).strip(), counts


def _structured(structure: dict[str, Any], text: str) -> Any:
    """The answer parsed as JSON, checked against the requested JSON schema."""
    data = parse_json(text)
    try:
        validate(structure, data)
    except SchemaMismatch as err:
        raise mismatch_error(err) from err
    return data


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about the call's own data."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )
