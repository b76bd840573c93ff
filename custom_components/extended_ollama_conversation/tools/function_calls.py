"""Tool calls written like a function call: `control("Kitchen Lights", "turn_off")`.

A small model writes such a call in 8 to 12 tokens where the JSON form takes 25 to 35;
on a CPU that generates 10 to 15 tokens a second this is most of a command's time. The
prompt shows the form (see `home_api`), and the model keeps to it. The arguments are
read with Python's own parser (literals only, never evaluated as code); arguments given
by position are named later, by the tool they turn out to belong to (see `Toolbox`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
import re
from typing import Any

# A name directly followed by "(", not part of a longer word or a dotted path.
_CALL_START = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")
# The end of a chunk that may be the start of a call's name.
_TRAILING_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*$")
_QUOTES = "\"'"


@dataclass(frozen=True, slots=True)
class FunctionArguments:
    """A call's arguments as written: by position and by name."""

    positional: tuple[Any, ...] = ()
    named: dict[str, Any] = field(default_factory=dict)

    def by_name(self, parameters: Sequence[str]) -> dict[str, Any]:
        """Name the positional arguments in the tool's parameter order.

        Positional arguments beyond the tool's parameters are dropped; a named one wins
        over a positional one of the same name.
        """
        return {**dict(zip(parameters, self.positional, strict=False)), **self.named}


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One call found in the text, with where it stands."""

    start: int
    end: int
    name: str
    arguments: FunctionArguments


def find_function_calls(
    text: str, is_tool_name: Callable[[str], bool]
) -> Iterator[FunctionCall]:
    """Yield the calls of offered tools written in the text, in order."""
    position = 0
    while (match := _CALL_START.search(text, position)) is not None:
        name = match.group(1)
        if not is_tool_name(name):
            position = match.end()
            continue
        end = _closing(text, match.end())
        arguments = _arguments(text[match.end() : end - 1 if end else len(text)])
        if arguments is None:
            position = match.end()
            continue
        stop = end or len(text)
        yield FunctionCall(match.start(), stop, name, arguments)
        position = stop


def call_start(text: str, is_tool_name: Callable[[str], bool]) -> int | None:
    """Where a call of an offered tool begins in streamed text, if one does."""
    for match in _CALL_START.finditer(text):
        if is_tool_name(match.group(1)):
            return match.start()
    return None


def trailing_name(text: str) -> int | None:
    """Where a word at the very end begins: it may turn out to be a call's name."""
    match = _TRAILING_NAME.search(text)
    return match.start() if match else None


def _closing(text: str, start: int) -> int | None:
    """The index just past the ")" that closes the call opened before `start`."""
    depth, quote, escaped = 1, "", False
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _arguments(inner: str) -> FunctionArguments | None:
    """Read the text between the parentheses; None when it is no list of arguments."""
    try:
        node = ast.parse(f"f({inner})", mode="eval").body
    except SyntaxError:
        return _bare_arguments(inner)
    if not isinstance(node, ast.Call):
        return None
    try:
        positional = tuple(ast.literal_eval(arg) for arg in node.args)
        named = {
            keyword.arg: ast.literal_eval(keyword.value)
            for keyword in node.keywords
            if keyword.arg is not None
        }
    except ValueError:
        return _bare_arguments(inner)
    return FunctionArguments(positional, named)


def _bare_arguments(inner: str) -> FunctionArguments | None:
    """Arguments written without quotes (`control(Office Lights, turn_off)`)."""
    parts = [part.strip().strip(_QUOTES).strip() for part in inner.split(",")]
    if not parts or not all(parts) or any("(" in part or ")" in part for part in parts):
        return None
    positional: list[str] = []
    named: dict[str, str] = {}
    for part in parts:
        key, sign, value = part.partition("=")
        if sign and key.strip().isidentifier():
            named[key.strip()] = value.strip().strip(_QUOTES)
        else:
            positional.append(part)
    return FunctionArguments(tuple(positional), named)
