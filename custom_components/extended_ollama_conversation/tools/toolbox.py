"""The tools offered to the model in one turn, and the checks a call passes first.

A call is resolved to an offered tool (the exact name, or the same name without the
API prefix that small models often drop), its arguments are repaired and validated,
and anything wrong becomes a tool result that tells the model what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.helpers import llm
import ollama
import probatio as vol

from .arguments import coerce_arguments


class Toolbox:
    """The tools of a chat log's LLM API, as Ollama is shown them."""

    def __init__(self, api: llm.APIInstance) -> None:
        """Describe each tool once per turn."""
        self._tools = {tool.name: tool for tool in api.tools}
        serializer: Callable[[Any], Any] = (
            api.custom_serializer or llm.selector_serializer
        )
        self._schemas: dict[str, dict[str, Any]] = {
            tool.name: vol.to_openapi(
                tool.parameters, custom_serializer=serializer, openapi_version="3.1.0"
            )
            for tool in api.tools
        }
        # Exactly what the ollama client will send (it drops schema keys it does not
        # model), so that the context-window estimate counts what the server reads.
        self.specs: list[dict[str, Any]] = [
            ollama.Tool.model_validate(
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description or "",
                        "parameters": self._schemas[tool.name],
                    },
                }
            ).model_dump(exclude_none=True)
            for tool in api.tools
        ]

    def resolve(self, name: str) -> str | None:
        """Return the offered tool a name means, if exactly one fits."""
        if name in self._tools:
            return name
        wanted = name.strip().lower()
        matches = [
            tool
            for tool in self._tools
            if tool.lower() == wanted or tool.lower().rpartition("__")[2] == wanted
        ]
        return matches[0] if len(matches) == 1 else None

    def is_tool_name(self, name: str) -> bool:
        """Whether a name means one of the offered tools."""
        return self.resolve(name) is not None

    def prepare(
        self, name: str, arguments: Any
    ) -> tuple[llm.ToolInput, llm.ToolResult | None]:
        """Turn a model's call into a tool input, or into the error to send back.

        The second item is None when the call is ready to run; otherwise the input is
        marked external (Home Assistant will not run it) and the result explains why.
        """
        resolved = self.resolve(name)
        if resolved is None:
            return _refused(
                name,
                arguments,
                "UnknownTool",
                f"There is no tool named {name!r}. Use one of: {', '.join(self._tools)}.",
            )
        repaired = coerce_arguments(arguments, self._schemas[resolved])
        if not isinstance(repaired, dict):
            return _refused(
                resolved,
                arguments,
                "InvalidArguments",
                "Arguments must be a JSON object.",
            )
        try:
            self._tools[resolved].parameters(repaired)
        except vol.Invalid as err:
            allowed = ", ".join(self._schemas[resolved].get("properties", {})) or "none"
            return _refused(
                resolved,
                repaired,
                "InvalidArguments",
                f"Invalid arguments for {resolved}: {err}. Allowed arguments: {allowed}.",
            )
        return llm.ToolInput(tool_name=resolved, tool_args=repaired), None


def _refused(
    name: str, arguments: Any, error: str, text: str
) -> tuple[llm.ToolInput, llm.ToolResult]:
    tool_input = llm.ToolInput(
        tool_name=name,
        tool_args=arguments if isinstance(arguments, dict) else {"raw": str(arguments)},
        external=True,
    )
    return tool_input, llm.ToolResult(
        data={"error": error, "error_text": text}, error=True
    )
