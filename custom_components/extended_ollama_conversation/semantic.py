"""Optional semantic ranking: which devices a request is about, by meaning.

When an agent has an embedding model, each device's description is embedded once with
Ollama's /api/embed (again only when its name, area or kind changes), the request is
embedded at each turn, and the cosine similarity adds to the lexical relevance. A
failure never fails the turn: the lexical ranking alone is used, with one warning.
"""

from __future__ import annotations

import logging
import math

from .client import OllamaClient, OllamaError
from .context import Device

_LOGGER = logging.getLogger(__name__)

# Similarities below this say nothing: unrelated texts still score 0.1 to 0.3.
MIN_SIMILARITY = 0.35


def device_text(device: Device) -> str:
    """What is embedded for a device: its names, kind and place."""
    place = f" in {device.area}" if device.area else ""
    return f"{', '.join(device.names)} ({device.domain.replace('_', ' ')}){place}"


class SemanticRanker:
    """Device embeddings per model, kept by the text they were made from."""

    def __init__(self) -> None:
        """Start with nothing embedded."""
        self._vectors: dict[str, dict[str, list[float]]] = {}
        self._failed_models: set[str] = set()

    async def async_similarities(
        self, client: OllamaClient, model: str, devices: list[Device], request: str
    ) -> dict[str, float]:
        """Each device's similarity to the request (0 to 1); empty when embedding fails."""
        vectors = self._vectors.setdefault(model, {})
        texts = {device.entity_id: device_text(device) for device in devices}
        missing = sorted({text for text in texts.values() if text not in vectors})
        try:
            embedded = await client.embed(model, [request, *missing])
        except OllamaError as err:
            if model not in self._failed_models:
                self._failed_models.add(model)
                _LOGGER.warning(
                    "Semantic ranking with %s is off for now, using names only: %s",
                    model,
                    err,
                )
            return {}
        self._failed_models.discard(model)
        query, new = embedded[0], embedded[1:]
        vectors.update(zip(missing, new, strict=True))
        for stale in set(vectors) - set(texts.values()):
            del vectors[stale]  # a renamed or removed device
        return {
            entity_id: similarity
            for entity_id, text in texts.items()
            if (similarity := _cosine(query, vectors[text])) >= MIN_SIMILARITY
        }


def _cosine(first: list[float], second: list[float]) -> float:
    dot = sum(a * b for a, b in zip(first, second, strict=False))
    norms = math.sqrt(sum(a * a for a in first)) * math.sqrt(sum(b * b for b in second))
    return dot / norms if norms else 0.0
