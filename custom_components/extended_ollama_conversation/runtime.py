"""What a loaded server entry holds while it runs (its `runtime_data`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .agent_stats import AgentStats
from .client import OllamaClient
from .const import DOMAIN
from .context_window import TokenEstimator
from .semantic import SemanticRanker

_LOGGER = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .coordinator import ServerCoordinator
    from .warmup import PromptWarmer


@dataclass(slots=True)
class Usage:
    """Counters since the entry was loaded, for diagnostics and sensors."""

    turns: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    local_turns: int = 0
    failed_turns: int = 0


@dataclass(slots=True)
class OllamaRuntimeData:
    """The client and what is learned while the entry runs."""

    client: OllamaClient
    # The server settings it connected with: a change to them needs a reload.
    server_data: Mapping[str, Any] = field(default_factory=dict)
    estimator: TokenEstimator = field(default_factory=TokenEstimator)
    usage: Usage = field(default_factory=Usage)
    semantic: SemanticRanker = field(default_factory=SemanticRanker)
    # Models already reported as lacking tool support (one warning each).
    models_without_tools: set[str] = field(default_factory=set)
    # The agents the entry was set up with: adding or removing one needs a reload.
    subentry_ids: frozenset[str] = frozenset()
    # Per agent, the num_ctx its prompts were found to need (it stays: a new num_ctx
    # makes Ollama load the model again).
    raised_num_ctx: dict[str, int] = field(default_factory=dict)
    # Keeps the agents' prompt prefixes in Ollama's cache (set once the entry is up).
    warmer: PromptWarmer | None = None
    # What each agent did: today's counters, the last turns (agent_stats.py).
    stats: AgentStats = field(default_factory=AgentStats)
    # Reads the server's version and models for the monitoring entities and repairs.
    coordinator: ServerCoordinator | None = None

    def report_model_without_tools(self, hass: HomeAssistant, model: str) -> None:
        """Warn once per model and raise a repair issue suggesting one with tools."""
        if model in self.models_without_tools:
            return
        self.models_without_tools.add(model)
        _LOGGER.warning(
            "The model %s does not support tools: it can answer questions but cannot "
            "control the home. Choose a model with tool support",
            model,
        )
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"model_without_tools_{model}",
            is_fixable=True,  # repairs.py: pick a model with tools for its agents
            severity=ir.IssueSeverity.WARNING,
            translation_key="model_without_tools",
            translation_placeholders={"model": model},
            data={"model": model},
        )


type OllamaConfigEntry = ConfigEntry[OllamaRuntimeData]
