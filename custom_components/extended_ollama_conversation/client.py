"""The only place that talks to the Ollama server.

It wraps `ollama.AsyncClient` and turns every way a request can fail into one of the
integration's own exceptions, so callers never see httpx, pydantic or JSON errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
import json
import logging
import re
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.ssl import get_default_context, get_default_no_verify_context
import httpx
import ollama
import pydantic
from yarl import URL

from .const import CONNECT_TIMEOUT, DEFAULT_PORT
from .pacing import ServerPace, prompt_tokens

_LOGGER = logging.getLogger(__name__)

# Host names, IPv4 and IPv6 addresses (yarl gives the latter without brackets).
_HOST = re.compile(r"[\w.\-:%]+")


class OllamaError(HomeAssistantError):
    """A request to the Ollama server failed.

    `speech` is the one sentence a person hears about it, in the assistant's voice.
    """

    def __init__(self, message: str, *, speech: str | None = None) -> None:
        """Keep the log message and the spoken sentence."""
        super().__init__(message)
        self.speech = speech or f"{message}."


class CannotConnect(OllamaError):
    """The server could not be reached."""


class ConnectionLost(CannotConnect):
    """The connection dropped in the middle of a reply."""


class InvalidAuth(OllamaError):
    """The server (or the proxy in front of it) refused the credentials."""


class RequestTimeout(OllamaError):
    """The server did not answer within the configured timeout."""


class ModelNotFound(OllamaError):
    """The requested model is not on the server."""


class ToolsNotSupported(OllamaError):
    """The model cannot be given tools."""


class BadResponse(OllamaError):
    """The server answered with something that is not a valid Ollama response."""

    def __init__(
        self, message: str, *, speech: str | None = None, status: int | None = None
    ) -> None:
        """`status`: the HTTP status of an error answer, when there was one."""
        super().__init__(message, speech=speech)
        self.status = status


class InvalidURL(ValueError):
    """The text cannot be made into an http(s) URL."""


def normalize_url(text: str) -> str:
    """Return the canonical server URL for what a person typed.

    A missing scheme becomes http://, and plain http without a port gets Ollama's own
    port 11434, since that is where a server on the network listens. An https URL keeps
    its scheme's default port: that is a reverse proxy, not Ollama itself.
    """
    text = text.strip()
    if not text:
        raise InvalidURL(text)
    if "://" not in text:
        text = f"http://{text}"
    try:
        url = URL(text)
    except ValueError as err:
        raise InvalidURL(text) from err
    if url.scheme not in ("http", "https") or not _HOST.fullmatch(url.host or ""):
        raise InvalidURL(text)
    if url.scheme == "http" and url.explicit_port is None:
        url = url.with_port(DEFAULT_PORT)
    if url.query_string or url.fragment:
        raise InvalidURL(text)
    return str(url).rstrip("/")


def display_host(url: str) -> str:
    """Return host:port, the part of a URL a person recognises in a message."""
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else str(parsed.host)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the server says about one model."""

    name: str
    capabilities: tuple[str, ...]
    context_length: int | None

    @property
    def supports_tools(self) -> bool:
        """Whether the model accepts tool definitions."""
        return "tools" in self.capabilities


class OllamaClient:
    """An Ollama server at one URL, with the integration's error handling."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        verify_ssl: bool = True,
        timeout: float = 60,
    ) -> None:
        """Create the client; no request is made until a method is called."""
        self.url = url
        self.timeout = timeout
        # What the server has shown of its speed, to wait for its first answer.
        self.pace = ServerPace(timeout)
        token = api_key.strip() if api_key else ""
        self._client = ollama.AsyncClient(
            host=url,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            # Home Assistant's prebuilt contexts: building one here would block the loop.
            verify=get_default_context()
            if verify_ssl
            else get_default_no_verify_context(),
            # A server on the home network connects in well under a second, so one that
            # does not accept the connection fails fast. Reading a long prompt on a CPU
            # may take up to the pace's limit; each request enforces its own deadline.
            timeout=httpx.Timeout(
                timeout,
                connect=min(timeout, CONNECT_TIMEOUT),
                read=self.pace.limit,
            ),
        )
        self._model_info: dict[str, ModelInfo] = {}

    async def close(self) -> None:
        """Close the underlying connection pool."""
        await self._client.close()  # type: ignore[no-untyped-call]  # untyped upstream

    async def list_models(self) -> list[str]:
        """Return the names of the models installed on the server."""
        response = await self._call(self._client.list())
        return sorted(model.model for model in response.models if model.model)

    async def model_info(self, model: str) -> ModelInfo:
        """Return a model's capabilities, read once from /api/show and then cached."""
        if (cached := self._model_info.get(model)) is not None:
            return cached
        response = await self._call(self._client.show(model), model=model)
        context_length = next(
            (
                int(value)
                for key, value in (response.modelinfo or {}).items()
                if key.endswith(".context_length") and isinstance(value, int)
            ),
            None,
        )
        info = ModelInfo(model, tuple(response.capabilities or ()), context_length)
        self._model_info[model] = info
        return info

    async def version(self) -> str:
        """Return the server's version, from /api/version."""
        response = await self._call(self._get_json("/api/version"))
        version = response.get("version") if isinstance(response, dict) else None
        if not isinstance(version, str):
            raise BadResponse(
                f"The Ollama server at {display_host(self.url)} sent no version"
            )
        return version

    async def installed_models(self) -> list[ollama.ListResponse.Model]:
        """Return the models on the server with their sizes, from /api/tags."""
        response = await self._call(self._client.list())
        return [model for model in response.models if model.model]

    async def loaded_models(self) -> list[ollama.ProcessResponse.Model]:
        """Return the models loaded in memory, from /api/ps."""
        response = await self._call(self._client.ps())
        return [model for model in response.models if model.model or model.name]

    async def _get_json(self, path: str) -> Any:
        """GET a path the ollama client has no method for, as it would send it."""
        response = await self._client._client.get(path)  # noqa: SLF001
        if response.is_error:
            raise ollama.ResponseError(response.text, response.status_code)
        return response.json()

    def forget_model_info(self) -> None:
        """Drop cached capabilities, so the next turn reads them again."""
        self._model_info.clear()

    async def chat(self, **request: Any) -> AsyncIterator[ollama.ChatResponse]:
        """Stream /api/chat, yielding each response line as it arrives.

        The first line may take as long as the prompt needs at the server's pace;
        after it, the configured timeout is the longest silence allowed.
        """
        model = request.get("model")
        first = self.pace.first_answer_seconds(prompt_tokens(request))
        stream = await self._call(
            self._client.chat(stream=True, **request), model=model
        )
        async for part in self._lines(stream, model, first=first):
            if part.done:
                self.pace.record(part)
            yield part

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """Embed texts with an embedding model, one vector per text."""
        response = await self._call(
            self._client.embed(model=model, input=texts), model=model
        )
        if len(response.embeddings) != len(texts):
            raise BadResponse(
                f"The Ollama server at {display_host(self.url)} sent "
                f"{len(response.embeddings)} embeddings for {len(texts)} texts"
            )
        return [list(vector) for vector in response.embeddings]

    async def pull(self, model: str) -> AsyncIterator[ollama.ProgressResponse]:
        """Pull a model, yielding the server's progress lines."""
        stream = await self._call(self._client.pull(model, stream=True), model=model)
        async for part in self._lines(stream, model, first=self.timeout):
            yield part

    async def _lines[T](
        self, stream: AsyncIterator[T], model: str | None, *, first: float
    ) -> AsyncIterator[T]:
        """Yield a stream's lines, each within its deadline, translating failures."""
        deadline = first
        try:
            while True:
                try:
                    async with asyncio.timeout(deadline):
                        part = await anext(stream)
                except StopAsyncIteration:
                    return
                except Exception as err:
                    raise self._translate(err, model) from err
                yield part
                deadline = self.timeout
        finally:
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()  # closes the connection of an abandoned answer

    async def _call[T](self, request: Awaitable[T], model: str | None = None) -> T:
        """Await one request within the timeout, translating its failure."""
        try:
            async with asyncio.timeout(self.timeout):
                return await request
        except Exception as err:
            raise self._translate(err, model) from err

    def _translate(self, err: Exception, model: str | None) -> OllamaError:
        """Map a failure of the ollama client to the integration's exception."""
        host = display_host(self.url)
        if isinstance(err, OllamaError):
            return err
        if isinstance(err, ollama.ResponseError):
            status, detail = err.status_code, str(err.error)
            if status in (401, 403):
                return InvalidAuth(
                    f"The Ollama server at {host} refused the API key",
                    speech=f"The Ollama server at {host} refused my API key.",
                )
            if status == 404 and model is not None and "not found" in detail:
                return ModelNotFound(
                    f"The model {model} is not on the Ollama server at {host}"
                )
            if status == 400 and "does not support tools" in detail:
                return ToolsNotSupported(f"The model {model} does not support tools")
            _LOGGER.debug("Ollama at %s answered %s: %s", host, status, detail)
            return BadResponse(
                f"The Ollama server at {host} answered with an error: {detail}",
                speech=f"The Ollama server at {host} answered with an error.",
                status=status,
            )
        if isinstance(err, httpx.TimeoutException | TimeoutError):
            return RequestTimeout(f"The Ollama server at {host} did not answer in time")
        if isinstance(err, httpx.RemoteProtocolError | httpx.ReadError):
            return ConnectionLost(
                f"The connection to the Ollama server at {host} was lost"
            )
        if isinstance(err, ConnectionError | httpx.ConnectError | httpx.NetworkError):
            return CannotConnect(
                f"Couldn't reach the Ollama server at {host}",
                speech=f"I couldn't reach the Ollama server at {host}.",
            )
        if isinstance(
            err,
            json.JSONDecodeError
            | pydantic.ValidationError
            | httpx.HTTPError
            | ValueError,
        ):
            return BadResponse(f"The Ollama server at {host} sent an invalid response")
        _LOGGER.debug("Unexpected error talking to Ollama at %s", host, exc_info=err)
        return OllamaError(
            f"Talking to the Ollama server at {host} failed: {err}",
            speech=f"Something went wrong talking to the Ollama server at {host}.",
        )
