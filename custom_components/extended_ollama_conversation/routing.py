"""Model routing: each request to the model on the agent's server that suits it.

An agent may name a model per kind of request: `fast` for device commands, `general`
for questions, `code` and `creative`. Cheap rules decide first, from the request's
words and from whether Home Assistant's sentence matcher recognised it as a sentence
about the home, in this order:

1. the matcher recognised the sentence (and left it to the model) → fast;
2. a word that only means programming (python, yaml, regex, traceback …) → code;
3. a word asking for something made up (story, poem, joke, haiku …) → creative;
4. a command (an imperative, as tools/questions.py judges it) → fast;
5. a word that often means code (script, error, template) → code;
6. a question (tools/questions.py) → general.

Only when none applies is the fast model asked for one word, and only if one is set.
A kind without a model, or no answer, leaves the agent's own model. With no routes the
agent's own model answers every request, as it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
import logging
import re
from typing import Any, Final
import unicodedata

from .client import OllamaClient, OllamaError
from .const import (
    CONF_ROUTE_CODE,
    CONF_ROUTE_CREATIVE,
    CONF_ROUTE_FAST,
    CONF_ROUTE_GENERAL,
)
from .fallback import cannot_be_reached
from .tools.questions import is_command, is_question
from .turn import AgentSettings

_LOGGER = logging.getLogger(__name__)


class Kind(StrEnum):
    """A kind of request, each answered by its own model when one is set."""

    FAST = "fast"
    GENERAL = "general"
    CODE = "code"
    CREATIVE = "creative"


ROUTE_OPTIONS: Final = {
    Kind.FAST: CONF_ROUTE_FAST,
    Kind.GENERAL: CONF_ROUTE_GENERAL,
    Kind.CODE: CONF_ROUTE_CODE,
    Kind.CREATIVE: CONF_ROUTE_CREATIVE,
}


def _normal(text: str) -> str:
    """Lower case without accents, so that "poème" and "poeme" match."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _set(text: str) -> frozenset[str]:
    return frozenset(_normal(text).split())


# Words that mean programming in any language; "c++" and "c#" keep their marks.
_CODE_WORDS = _set(
    "python javascript typescript java kotlin golang rust php ruby perl lua c++ c# "
    "html css sql json yaml yml xml toml regex regexp jinja jinja2 bash powershell "
    "code coding program programming programmer function functions compile compiler "
    "syntax traceback stacktrace exception debug debugging refactor docker dockerfile "
    "git algorithm"
)
_CODE_PHRASES = ("regular expression", "stack trace", "shell script", "write a script")
# Words that often mean code, but not in "run the bedtime script" (a command).
_MAYBE_CODE_WORDS = _set("script scripts error errors template templates bug bugs")
# Per language; English is read for every language.
_CREATIVE_WORDS = {
    "en": _set(
        "story stories poem poems poetry haiku limerick sonnet joke jokes riddle "
        "riddles lyrics rhyme rhymes fairytale fable sing"
    ),
    "de": _set("geschichte gedicht gedichte witz witze marchen reim ratsel liedtext"),
    "fr": _set("histoire poeme poemes blague blagues conte devinette chanson"),
    "es": _set("cuento poema poemas chiste chistes historia adivinanza cancion"),
    "nl": _set("verhaal verhaaltje gedicht gedichtje grap grappen mop moppen sprookje"),
}
_CREATIVE_PHRASES = ("write me", "make up", "once upon a time", "fairy tale")

_WORD = re.compile(r"[\w+#]+")


def route(text: str, *, local_matched_device: bool, language: str) -> Kind | None:
    """The kind of a request by the rules alone, or None when they cannot tell."""
    if local_matched_device:
        return Kind.FAST
    normal = _normal(text)
    tokens = _WORD.findall(normal)
    words = {*tokens, *(token.strip("+#") for token in tokens)}
    joined = f" {' '.join(tokens)} "
    if words & _CODE_WORDS or any(f" {p} " in joined for p in _CODE_PHRASES):
        return Kind.CODE
    primary = language.replace("_", "-").partition("-")[0].strip().lower()
    creative = _CREATIVE_WORDS["en"] | _CREATIVE_WORDS.get(primary, frozenset())
    if words & creative or any(f" {p} " in joined for p in _CREATIVE_PHRASES):
        return Kind.CREATIVE
    if is_command(text, language):
        return Kind.FAST
    if words & _MAYBE_CODE_WORDS:
        return Kind.CODE
    if is_question(text, language):
        return Kind.GENERAL
    return None


@dataclass(frozen=True, slots=True)
class Route:
    """The model chosen for one turn, and why."""

    model: str
    kind: Kind | None = None
    # "rules" or "model" (the fast model's classification); None: not routed.
    by: str | None = None


def routes_of(options: Mapping[str, Any]) -> dict[Kind, str]:
    """The agent's routes: the kinds that have a model of their own."""
    return {
        kind: str(options[key]).strip()
        for kind, key in ROUTE_OPTIONS.items()
        if options.get(key) and str(options[key]).strip()
    }


def warm_up_model(options: Mapping[str, Any], default: str) -> str:
    """The model whose prompt cache the warm-up fills: the fast one, when routed.

    Device commands are the requests a person waits for, and with a fast model set
    every turn the rules cannot place touches it too; the others are not warmed.
    """
    return routes_of(options).get(Kind.FAST, default)


CLASSIFY_INSTRUCTIONS: Final = (
    "Sort the user's request into one kind. Answer with the one word only.\n"
    "fast: a command to a device in the home, or a question about one\n"
    "general: any other question, or conversation\n"
    "code: programming, scripts, YAML, formulas\n"
    "creative: stories, poems, jokes, songs"
)


async def async_route(
    client: OllamaClient,
    options: Mapping[str, Any],
    text: str,
    *,
    settings: AgentSettings,
    num_ctx: int,
    local_matched_device: bool,
    language: str,
) -> Route:
    """Choose the turn's model: the rules, then the fast model, then the default.

    The fast model is asked with the agent's `num_ctx` and keep-alive, so that Ollama
    does not load it again for another context size. A server that cannot be reached
    raises; any other failure of the question leaves the default model.
    """
    default = settings.model
    routes = routes_of(options)
    if not routes:
        return Route(default)
    kind = route(text, local_matched_device=local_matched_device, language=language)
    by = "rules"
    if kind is None and Kind.FAST in routes:
        kind = await _async_classify(
            client, replace(settings, model=routes[Kind.FAST]), text, num_ctx
        )
        by = "model"
    if kind is None:
        return Route(default)
    return Route(routes.get(kind, default), kind, by)


async def _async_classify(
    client: OllamaClient, settings: AgentSettings, text: str, num_ctx: int
) -> Kind | None:
    """Ask the fast model for the request's kind in one word."""
    model = settings.model
    request: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": CLASSIFY_INSTRUCTIONS},
            {"role": "user", "content": text},
        ],
        "options": {"num_ctx": num_ctx, "num_predict": 8, "temperature": 0},
        "keep_alive": -1 if settings.keep_alive < 0 else f"{settings.keep_alive}s",
    }
    answer = ""
    try:
        if "thinking" in (await client.model_info(model)).capabilities:
            request["think"] = False
        async for part in client.chat(**request):
            answer += part.message.content or ""
    except OllamaError as err:
        if cannot_be_reached(err, streamed=bool(answer)):
            raise
        _LOGGER.debug("The fast model %s could not sort a request: %s", model, err)
        return None
    kinds = {kind.value for kind in Kind}
    chosen = next((w for w in _WORD.findall(_normal(answer)) if w in kinds), None)
    _LOGGER.debug("The fast model %s sorted %r as %s", model, text, chosen)
    return Kind(chosen) if chosen else None
