"""The AI Task entity: ai_task.generate_data, free text or a JSON structure."""

from __future__ import annotations

from homeassistant.components import ai_task, conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.json import JsonValueType
import probatio as vol

from .client import ModelInfo, OllamaError
from .const import DOMAIN, SUBENTRY_AI_TASK
from .entity import OllamaLLMEntity, add_subentry_entities
from .runtime import OllamaConfigEntry
from .structured import mismatch_error, parse_json
from .turn import AgentSettings


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OllamaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one AI Task entity per AI task subentry."""
    add_subentry_entities(entry, SUBENTRY_AI_TASK, OllamaTaskEntity, async_add_entities)


class OllamaTaskEntity(ai_task.AITaskEntity, OllamaLLMEntity):
    """Generates text or structured data with a model on the Ollama server."""

    _attr_supported_features = (
        ai_task.AITaskEntityFeature.GENERATE_DATA
        | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    async def _async_generate_data(
        self,
        task: ai_task.GenDataTask,
        chat_log: conversation.ChatLog,
    ) -> ai_task.GenDataTaskResult:
        """Run the task through the turn loop; check structured answers fit."""
        if task.attachments:
            model = AgentSettings.from_options(self.options).model
            info = await self._model_info(model)
            if "vision" not in info.capabilities:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="no_vision",
                    translation_placeholders={"model": model},
                )
        output_format = (
            vol.to_openapi(
                task.structure,
                custom_serializer=llm.selector_serializer,
                openapi_version="3.1.0",
            )
            if task.structure
            else None
        )
        try:
            await self._async_run_turn(chat_log, output_format)
        except OllamaError as err:
            raise HomeAssistantError(err.speech) from err
        last = chat_log.content[-1]
        text = (
            last.content if isinstance(last, conversation.AssistantContent) else None
        ) or ""
        if task.structure is None:
            return ai_task.GenDataTaskResult(
                conversation_id=chat_log.conversation_id, data=text
            )
        return ai_task.GenDataTaskResult(
            conversation_id=chat_log.conversation_id,
            data=_structured(task.structure, text),
        )

    async def _model_info(self, model: str) -> ModelInfo:
        try:
            return await self.entry.runtime_data.client.model_info(model)
        except OllamaError as err:
            raise HomeAssistantError(err.speech) from err


def _structured(structure: vol.Schema, text: str) -> JsonValueType:
    """Parse the model's JSON answer and check it against the requested structure."""
    data = parse_json(text)
    try:
        structure(data)
    except vol.Invalid as err:
        raise mismatch_error(err) from err
    return data
