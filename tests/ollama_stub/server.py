"""The stand-in server: routes, scripted replies and faults."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import hashlib
import json
import math
import re
from typing import Any

from aiohttp import web

OLLAMA_VERSION = "0.12.6"
DEFAULT_MODEL = "qwen2.5:3b"


def _now() -> str:
    """Return a timestamp in Ollama's format."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class StubModel:
    """A model the stand-in has installed (or can pull)."""

    name: str
    capabilities: list[str] = field(default_factory=lambda: ["completion", "tools"])
    context_length: int = 32768
    family: str = "qwen2"
    parameter_size: str = "3.1B"
    quantization_level: str = "Q4_K_M"
    size: int = 1_929_912_432

    def tags_entry(self) -> dict[str, Any]:
        """The model as /api/tags lists it."""
        return {
            "name": self.name,
            "model": self.name,
            "modified_at": "2026-10-01T12:00:00.000000000Z",
            "size": self.size,
            "digest": _digest(self.name),
            "details": self.details(),
        }

    def details(self) -> dict[str, Any]:
        """The `details` object Ollama attaches to a model."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }


@dataclass
class Reply:
    """One scripted answer to /api/chat or /api/generate.

    `content` and `thinking` may be a list of chunks, streamed one line each. Tool calls
    are given as {"name": ..., "arguments": {...}}.
    """

    content: str | list[str] = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    thinking: str | list[str] | None = None
    done_reason: str = "stop"
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    # Nanoseconds the server says it spent reading the prompt.
    prompt_eval_duration: int | None = None

    def content_chunks(self) -> list[str]:
        """The content as the chunks to stream."""
        return [self.content] if isinstance(self.content, str) else list(self.content)

    def thinking_chunks(self) -> list[str]:
        """The thinking as the chunks to stream."""
        if self.thinking is None:
            return []
        return (
            [self.thinking] if isinstance(self.thinking, str) else list(self.thinking)
        )

    def wire_tool_calls(self) -> list[dict[str, Any]]:
        """The tool calls in the shape Ollama sends them."""
        return [
            {
                "id": f"call_{index}_{_digest(json.dumps(call, sort_keys=True))[:8]}",
                "function": {
                    "index": index,
                    "name": call["name"],
                    "arguments": call.get("arguments", {}),
                },
            }
            for index, call in enumerate(self.tool_calls)
        ]


class Fault(StrEnum):
    """A failure the stand-in produces on demand."""

    SERVER_ERROR = "server_error"  # HTTP 500 with Ollama's error body
    SLOW_FIRST_BYTE = "slow_first_byte"  # nothing is sent for `delay` seconds
    MALFORMED_LINE = "malformed_line"  # one line of the stream is not JSON
    CUT_STREAM = "cut_stream"  # the connection closes after the first line
    MODEL_NOT_FOUND = "model_not_found"  # 404 as if the model had been deleted
    NO_TOOLS = "no_tools"  # 400 "does not support tools"
    STALL_AFTER_FIRST_LINE = "stall_after_first_line"  # silent for `delay` mid-answer


@dataclass
class _PendingFault:
    fault: Fault
    path: str | None
    delay: float


@dataclass(frozen=True)
class RecordedRequest:
    """A request the stand-in received, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


Responder = Callable[[str, dict[str, Any]], Reply]


class OllamaStub:
    """An Ollama server on 127.0.0.1, scripted per test.

    Replies queued with `reply()` answer /api/chat and /api/generate in order; faults
    queued with `fail()` hit the next matching request. `stop()` and `start()` take the
    server down and bring it back on the same port (connection refused in between).
    """

    def __init__(
        self,
        *,
        models: list[StubModel] | None = None,
        token: str | None = None,
        responder: Responder | None = None,
    ) -> None:
        """Create a stand-in; call `start()` to serve."""
        self.models: dict[str, StubModel] = {
            model.name: model for model in (models or [StubModel(DEFAULT_MODEL)])
        }
        # Models /api/pull can fetch, beyond those installed.
        self.registry: dict[str, StubModel] = {}
        self.token = token
        self.responder = responder
        self.pull_step_delay = 0.0
        # How /api/embed turns a text into a vector; tests may script their own.
        self.embedder: Callable[[str], list[float]] = embed_text
        self.requests: list[RecordedRequest] = []
        self.loaded: dict[str, datetime] = {}
        # Paths answered 404 as by a server without them (an older or proxied Ollama).
        self.missing_routes: set[str] = set()
        self._replies: deque[Reply] = deque()
        self._faults: deque[_PendingFault] = deque()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.port = 0

    # --- scripting -------------------------------------------------------------------

    def reply(self, *replies: Reply | str) -> None:
        """Queue the model's next answers (a plain string is a text-only answer)."""
        self._replies.extend(Reply(r) if isinstance(r, str) else r for r in replies)

    def fail(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        times: int = 1,
        delay: float = 5.0,
    ) -> None:
        """Make the next `times` requests to `path` (any path if None) fail this way."""
        self._faults.extend(_PendingFault(fault, path, delay) for _ in range(times))

    def add_model(self, name: str, **kwargs: Any) -> StubModel:
        """Install a model on the stand-in."""
        model = StubModel(name, **kwargs)
        self.models[name] = model
        return model

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests to one path."""
        return [request for request in self.requests if request.path == path]

    @property
    def pending_replies(self) -> int:
        """How many scripted replies have not been used."""
        return len(self._replies)

    # --- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL clients should use."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int | None = None) -> str:
        """Serve on 127.0.0.1 (a random port first, then the same one again)."""
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, "127.0.0.1", port if port is not None else self.port
        )
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    async def stop(self) -> None:
        """Stop serving; connections are refused until `start()` is called again."""
        if self._runner is not None:
            self._stopping.set()  # ends slow-first-byte waits at once
            await self._runner.cleanup()
            self._runner = None

    # --- dispatch --------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return _error(400, "invalid character in request body")
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body)
        )
        if (denied := self._check_token(request)) is not None:
            return denied
        fault = self._take_fault(request.path)
        if fault is not None and fault.fault is Fault.SLOW_FIRST_BYTE:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        elif fault is not None and fault.fault is Fault.SERVER_ERROR:
            return _error(500, "llama runner process has terminated: exit status 2")
        route = _ROUTES.get((request.method, request.path))
        if route is None or request.path in self.missing_routes:
            return _error(404, "404 page not found", plain=True)
        return await route(self, request, body or {}, fault)

    def _check_token(self, request: web.Request) -> web.Response | None:
        if self.token is None:
            return None
        header = request.headers.get("Authorization")
        if header is None:
            return _error(401, "unauthorized")
        if header != f"Bearer {self.token}":
            return _error(403, "forbidden")
        return None

    def _take_fault(self, path: str) -> _PendingFault | None:
        for pending in self._faults:
            if pending.path is None or pending.path == path:
                self._faults.remove(pending)
                return pending
        return None

    # --- endpoints -------------------------------------------------------------------

    async def _root(self, request: web.Request, body: Any, fault: Any) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(
        self, request: web.Request, body: Any, fault: Any
    ) -> web.Response:
        return web.json_response({"version": OLLAMA_VERSION})

    async def _tags(self, request: web.Request, body: Any, fault: Any) -> web.Response:
        return web.json_response(
            {"models": [model.tags_entry() for model in self.models.values()]}
        )

    async def _show(
        self, request: web.Request, body: dict[str, Any], fault: Any
    ) -> web.Response:
        model = self._find_model(body.get("model") or body.get("name"))
        if model is None:
            return _error(404, f"model '{body.get('model')}' not found")
        arch = model.family
        return web.json_response(
            {
                "license": "Apache License 2.0",
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model.name}\n',
                "parameters": 'stop "<|im_end|>"',
                "template": "{{ .Prompt }}",
                "details": model.details(),
                "model_info": {
                    "general.architecture": arch,
                    "general.parameter_count": 3_085_938_688,
                    f"{arch}.context_length": model.context_length,
                    f"{arch}.embedding_length": 2048,
                },
                "capabilities": model.capabilities,
                "modified_at": "2026-10-01T12:00:00.000000000Z",
            }
        )

    async def _ps(self, request: web.Request, body: Any, fault: Any) -> web.Response:
        models = []
        for name, expires in self.loaded.items():
            if (model := self.models.get(name)) is None:
                continue
            entry = model.tags_entry()
            del entry["modified_at"]
            entry |= {
                "expires_at": expires.isoformat().replace("+00:00", "Z"),
                "size_vram": model.size,
                "context_length": model.context_length,
            }
            models.append(entry)
        return web.json_response({"models": models})

    async def _chat(
        self, request: web.Request, body: dict[str, Any], fault: _PendingFault | None
    ) -> web.StreamResponse:
        return await self._generate_like(request, body, fault, chat=True)

    async def _generate(
        self, request: web.Request, body: dict[str, Any], fault: _PendingFault | None
    ) -> web.StreamResponse:
        return await self._generate_like(request, body, fault, chat=False)

    async def _generate_like(
        self,
        request: web.Request,
        body: dict[str, Any],
        fault: _PendingFault | None,
        *,
        chat: bool,
    ) -> web.StreamResponse:
        name = body.get("model", "")
        model = self._find_model(name)
        if model is None or (
            fault is not None and fault.fault is Fault.MODEL_NOT_FOUND
        ):
            return _error(404, f'model "{name}" not found, try pulling it first')
        if (body.get("tools") and "tools" not in model.capabilities) or (
            fault is not None and fault.fault is Fault.NO_TOOLS
        ):
            return _error(
                400, f"registry.ollama.ai/library/{model.name} does not support tools"
            )
        reply = self._next_reply(request.path, body)
        if reply is None:
            return _error(
                500, "the Ollama stand-in has no scripted reply for this request"
            )
        self.loaded[model.name] = datetime.now(UTC) + timedelta(minutes=5)
        lines = _reply_lines(model.name, reply, body, chat=chat)
        if body.get("stream", True) is False:
            return web.json_response(_merge_lines(lines, chat=chat))
        return await self._stream(request, lines, fault)

    async def _pull(
        self, request: web.Request, body: dict[str, Any], fault: _PendingFault | None
    ) -> web.StreamResponse:
        name = body.get("model") or body.get("name") or ""
        known = self._find_model(name) or self.registry.get(name)
        if known is None:
            lines: list[dict[str, Any]] = [
                {"status": "pulling manifest"},
                {"error": "pull model manifest: file does not exist"},
            ]
        else:
            digest = f"sha256:{_digest(name)}"
            total = known.size
            lines = [{"status": "pulling manifest"}]
            lines += [
                {
                    "status": f"pulling {digest[7:19]}",
                    "digest": digest,
                    "total": total,
                    "completed": total * step // 4,
                }
                for step in range(5)
            ]
            lines += [
                {"status": "verifying sha256 digest"},
                {"status": "writing manifest"},
                {"status": "success"},
            ]
            self.models[name] = StubModel(**{**known.__dict__, "name": name})
        if body.get("stream", True) is False:
            return web.json_response(
                lines[-1], status=500 if "error" in lines[-1] else 200
            )
        return await self._stream(request, lines, fault, delay=self.pull_step_delay)

    async def _embed(
        self, request: web.Request, body: dict[str, Any], fault: Any
    ) -> web.Response:
        name = body.get("model", "")
        if self._find_model(name) is None:
            return _error(404, f'model "{name}" not found, try pulling it first')
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        return web.json_response(
            {
                "model": name,
                "embeddings": [self.embedder(text) for text in texts],
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": sum(len(text.split()) for text in texts),
            }
        )

    # --- helpers ---------------------------------------------------------------------

    def _find_model(self, name: str | None) -> StubModel | None:
        if not name:
            return None
        return self.models.get(name) or self.models.get(f"{name}:latest")

    def _next_reply(self, path: str, body: dict[str, Any]) -> Reply | None:
        if self._replies:
            return self._replies.popleft()
        if self.responder is not None:
            return self.responder(path, body)
        return None

    async def _stream(
        self,
        request: web.Request,
        lines: list[dict[str, Any]],
        fault: _PendingFault | None,
        delay: float = 0.0,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        try:
            for index, line in enumerate(lines):
                if (
                    index == 1
                    and fault is not None
                    and fault.fault is Fault.MALFORMED_LINE
                ):
                    await response.write(b'{"model": "' + b"\x00broken\n")
                    continue
                await response.write(json.dumps(line).encode() + b"\n")
                if index == 0 and fault is not None and fault.fault is Fault.CUT_STREAM:
                    # Close without the chunked terminator: the client sees a cut stream.
                    assert request.transport is not None
                    request.transport.close()
                    return response
                if (
                    index == 0
                    and fault is not None
                    and fault.fault is Fault.STALL_AFTER_FIRST_LINE
                ):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), fault.delay)
                if delay:
                    await asyncio.sleep(delay)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client gave up, as a real client does on timeout
        return response


_ROUTES = {
    ("GET", "/"): OllamaStub._root,
    ("HEAD", "/"): OllamaStub._root,
    ("GET", "/api/version"): OllamaStub._version,
    ("GET", "/api/tags"): OllamaStub._tags,
    ("POST", "/api/show"): OllamaStub._show,
    ("GET", "/api/ps"): OllamaStub._ps,
    ("POST", "/api/chat"): OllamaStub._chat,
    ("POST", "/api/generate"): OllamaStub._generate,
    ("POST", "/api/pull"): OllamaStub._pull,
    ("POST", "/api/embed"): OllamaStub._embed,
}


def _error(status: int, message: str, *, plain: bool = False) -> web.Response:
    """An error the way Ollama sends it: JSON {"error": ...} (plain text for 404 routes)."""
    if plain:
        return web.Response(status=status, text=message)
    return web.json_response({"error": message}, status=status)


def estimate_tokens(body: dict[str, Any]) -> int:
    """A stable stand-in for `prompt_eval_count`: about four characters a token."""
    text = json.dumps(body.get("messages") or body.get("prompt") or "")
    text += json.dumps(body.get("tools") or [])
    return max(1, len(text) // 4)


def _reply_lines(
    model: str, reply: Reply, body: dict[str, Any], *, chat: bool
) -> list[dict[str, Any]]:
    """The NDJSON lines of one streamed reply, last line with the statistics."""
    key = "message" if chat else "response"

    def part(content: str = "", **extra: Any) -> dict[str, Any]:
        if chat:
            payload: Any = {"role": "assistant", "content": content, **extra}
            return {"model": model, "created_at": _now(), key: payload, "done": False}
        return {
            "model": model,
            "created_at": _now(),
            key: content,
            **extra,
            "done": False,
        }

    lines = [part(thinking=chunk) for chunk in reply.thinking_chunks()]
    lines += [part(chunk) for chunk in reply.content_chunks() if chunk]
    if reply.tool_calls and chat:
        lines.append(part(tool_calls=reply.wire_tool_calls()))
    generated = sum(len(chunk) for chunk in reply.content_chunks())
    final = part()
    final |= {
        "done": True,
        "done_reason": reply.done_reason,
        "total_duration": 1_204_563_125,
        "load_duration": 21_300_458,
        "prompt_eval_count": reply.prompt_eval_count or estimate_tokens(body),
        "prompt_eval_duration": reply.prompt_eval_duration or 312_000_000,
        "eval_count": reply.eval_count or max(1, generated // 4),
        "eval_duration": 870_000_000,
    }
    if not chat:
        final["context"] = [151644, 8948, 198]
    lines.append(final)
    return lines


def _merge_lines(lines: list[dict[str, Any]], *, chat: bool) -> dict[str, Any]:
    """A non-streamed reply: the stream's lines folded into the last one."""
    merged = dict(lines[-1])
    if chat:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        for line in lines:
            part = line["message"]
            message["content"] += part.get("content", "")
            if "thinking" in part:
                message["thinking"] = message.get("thinking", "") + part["thinking"]
            if "tool_calls" in part:
                message["tool_calls"] = part["tool_calls"]
        merged["message"] = message
    else:
        merged["response"] = "".join(line.get("response", "") for line in lines)
        thinking = "".join(line.get("thinking", "") for line in lines)
        if thinking:
            merged["thinking"] = thinking
    return merged


def embed_text(text: str, dimensions: int = 64) -> list[float]:
    """A deterministic bag-of-words embedding: texts sharing words point the same way."""
    vector = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()):
        vector[int(_digest(word)[:8], 16) % dimensions] += 1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]
