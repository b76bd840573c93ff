"""The tools offered to the model in one turn, and the checks a call passes first.

A call is resolved to an offered tool (the exact name, or the same name without the
API prefix that small models often drop), its arguments are repaired and validated,
and anything wrong becomes a tool result that tells the model what to fix.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
import json
from typing import Any

from homeassistant.helpers import llm
import ollama
import probatio as vol

from ..context import Device
from .aliases import alias_call, alias_name, bare_name
from .arguments import coerce_arguments
from .function_calls import FunctionArguments
from .targets import repair_targets

# Describing a tool (probatio.to_openapi, then the ollama client's own model) is most of
# a turn's own work, and the Assist API rebuilds its tools every turn. Descriptions are
# kept by the schema's text, so a schema that changes (new areas, say) is described anew.
_DESCRIPTION_CACHE_SIZE = 512
# Positional arguments of a call under a name the model knows from training (`turn_off(
# "Lamp")`, `set("Lamp", "50%")`): the device first, then the value.
_ALIAS_POSITIONS = ("name", "value")
# The name under which an unspeakable answer is sent back (it is no offered tool).
SPEAK = "speak"
MAX_ECHOED_ANSWER = 1000
type _Description = tuple[dict[str, Any], dict[str, Any], int]
_descriptions: OrderedDict[Hashable, _Description] = OrderedDict()


def _describe(tool: llm.Tool, serializer: Callable[[Any], Any]) -> _Description:
    """Return a tool's JSON schema, its definition as Ollama gets it, and its size."""
    key = (tool.name, tool.description, repr(tool.parameters.schema), serializer)
    if (cached := _descriptions.get(key)) is not None:
        _descriptions.move_to_end(key)
        return cached
    schema = vol.to_openapi(
        tool.parameters, custom_serializer=serializer, openapi_version="3.1.0"
    )
    # What the ollama client sends (it drops schema keys it does not model), so that
    # the context-window estimate counts what the server reads.
    spec = ollama.Tool.model_validate(
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description or "",
                "parameters": schema,
            },
        }
    ).model_dump(exclude_none=True)
    _descriptions[key] = described = (schema, spec, len(json.dumps(spec)))
    if len(_descriptions) > _DESCRIPTION_CACHE_SIZE:
        _descriptions.popitem(last=False)
    return described


class Toolbox:
    """The tools of a chat log's LLM API, as Ollama is shown them."""

    def __init__(
        self, api: llm.APIInstance, devices: list[Device] | None = None
    ) -> None:
        """Describe each tool (from the cache when its schema is unchanged).

        `devices`, the exposed devices, lets a call's target be repaired.
        """
        self._tools = {tool.name: tool for tool in api.tools}
        self._devices = devices or []
        # Calls made in this turn: the same call twice gets the same answer.
        self._made: set[str] = set()
        self._asked_for_words = False
        serializer: Callable[[Any], Any] = (
            api.custom_serializer or llm.selector_serializer
        )
        described = {tool.name: _describe(tool, serializer) for tool in api.tools}
        self._schemas = {name: schema for name, (schema, _, _) in described.items()}
        self.specs: list[dict[str, Any]] = [spec for _, spec, _ in described.values()]
        # The length of the tool list as JSON, for the context-window estimate.
        self.specs_chars = sum(size + 2 for _, _, size in described.values())

    def resolve(self, name: str) -> str | None:
        """Return the offered tool a name means, if exactly one fits.

        The exact name, the name under another prefix or none, or a name the model
        knows from training (see `aliases`).
        """
        if name in self._tools:
            return name
        return alias_name(name, self._tools)

    def resolve_call(self, name: str, arguments: Any) -> tuple[str | None, Any]:
        """Return the offered tool a call means, with its arguments in that tool's terms."""
        resolved = alias_call(name, arguments, self._tools, self._devices)
        return resolved if resolved is not None else (None, arguments)

    @property
    def tool_names(self) -> list[str]:
        """The offered tools' names."""
        return list(self._tools)

    def is_tool_name(self, name: str) -> bool:
        """Whether a name means one of the offered tools."""
        return self.resolve(name) is not None

    def prepare(
        self, name: str, arguments: Any
    ) -> tuple[llm.ToolInput, llm.ToolResult | None]:
        """Turn a model's call into a tool input, or into the error to send back.

        Every input is marked external: the integration runs each call itself, after
        the policy. The second item is None when the call is ready for the policy;
        otherwise it is the result that explains what to fix.
        """
        if isinstance(arguments, FunctionArguments):
            arguments = arguments.by_name(self._positions(name))
        resolved, arguments = self.resolve_call(name, arguments)
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
        if "name" in self._schemas[resolved].get("properties", {}):
            repaired = repair_targets(repaired, self._devices)
        call = json.dumps([resolved, repaired], sort_keys=True, default=str)
        if call in self._made:
            return _refused(
                resolved,
                repaired,
                "RepeatedCall",
                "You already made this exact call in this conversation turn and got "
                "its result. Do not repeat it: answer the user now, or call a "
                "different tool or different arguments.",
            )
        self._made.add(call)
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
        return llm.ToolInput(
            tool_name=resolved, tool_args=repaired, external=True
        ), None

    def _positions(self, name: str) -> list[str] | tuple[str, ...]:
        """The parameter names that positional arguments of a call to `name` fill."""
        resolved = self.resolve(name)
        if resolved is None or bare_name(resolved) != bare_name(name):
            return _ALIAS_POSITIONS
        return list(self._schemas[resolved].get("properties", {}))

    def ask_for_words(self, answer: str) -> tuple[llm.ToolInput, llm.ToolResult] | None:
        """Send back an answer that holds JSON but no call, once a turn.

        Small models describe a call ("use HassClimateSetTemperature with: ```json
        {...}```") instead of making it, or answer in JSON. That is neither safe to run
        (the intent is unclear) nor fit to be read aloud, so the model is asked again.
        """
        if self._asked_for_words:
            return None
        self._asked_for_words = True
        return _refused(
            SPEAK,
            {"answer": answer[:MAX_ECHOED_ANSWER]},
            "NotSpeakable",
            "Your answer contained JSON, which cannot be read aloud to the user, and "
            "no tool was called. To call a tool, use the tool-calling format with the "
            "tool's exact name. Otherwise answer the user in one or two plain "
            "sentences, without JSON or code.",
        )


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
