"""Serve Ollama's API in front of llama.cpp's llama-server, for trying a real model.

llama-server speaks OpenAI's /v1/chat/completions only. This adapter answers the few
Ollama calls the integration makes (/api/version, /api/tags, /api/show, /api/ps and a
streaming /api/chat with tools) by translating them, so the integration talks to a real
language model unchanged. It is a development aid, started by `scripts/real_model`.

    python scripts/llama_adapter.py --llama http://127.0.0.1:8081 --port 11436
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web

_LOGGER = logging.getLogger("llama_adapter")
NDJSON = "application/x-ndjson"


def openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ollama's chat messages as OpenAI's: tool calls get ids, arguments become JSON."""
    converted: list[dict[str, Any]] = []
    pending_ids: list[str] = []
    counter = 0
    for message in messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                counter += 1
                call_id = f"call_{counter}"
                pending_ids.append(call_id)
                function = call.get("function", {})
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": function.get("name", ""),
                            "arguments": json.dumps(function.get("arguments") or {}),
                        },
                    }
                )
            converted.append(
                {
                    "role": "assistant",
                    "content": message.get("content") or "",
                    "tool_calls": calls,
                }
            )
        elif role == "tool":
            converted.append(
                {
                    "role": "tool",
                    "tool_call_id": pending_ids.pop(0) if pending_ids else "call_0",
                    "content": message.get("content") or "",
                }
            )
        else:
            converted.append({"role": role, "content": message.get("content") or ""})
    return converted


class Adapter:
    """Ollama's API over one llama-server."""

    def __init__(self, llama_url: str, model: str) -> None:
        """Translate for the server at `llama_url`, naming its model `model`."""
        self.llama_url = llama_url.rstrip("/")
        self.model = model
        self.session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        """The aiohttp application with Ollama's routes."""
        app = web.Application()
        app.router.add_get("/api/version", self.version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.tags)
        app.router.add_post("/api/show", self.show)
        app.router.add_post("/api/chat", self.chat)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, _app: web.Application) -> None:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_read=600)
        )

    async def _stop(self, _app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    async def version(self, _request: web.Request) -> web.Response:
        """Ollama's version answer."""
        return web.json_response({"version": "0.12.0"})

    async def tags(self, _request: web.Request) -> web.Response:
        """The one model llama-server serves."""
        now = datetime.now(UTC).isoformat()
        return web.json_response(
            {
                "models": [
                    {
                        "name": self.model,
                        "model": self.model,
                        "modified_at": now,
                        "size": 0,
                        "digest": "0" * 64,
                        "details": {"format": "gguf", "family": "qwen2"},
                    }
                ]
            }
        )

    async def show(self, request: web.Request) -> web.Response:
        """Capabilities: completion and tools (llama-server's --jinja templates)."""
        body = await request.json()
        if body.get("model") not in (self.model, self.model.split(":")[0]):
            return web.json_response(
                {"error": f"model '{body.get('model')}' not found"}, status=404
            )
        return web.json_response(
            {
                "capabilities": ["completion", "tools"],
                "model_info": {"qwen2.context_length": 32768},
                "details": {"format": "gguf", "family": "qwen2"},
                "modified_at": datetime.now(UTC).isoformat(),
            }
        )

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """Stream /v1/chat/completions as Ollama's NDJSON chat lines."""
        body = await request.json()
        options = body.get("options") or {}
        upstream: dict[str, Any] = {
            "messages": openai_messages(body.get("messages") or []),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if body.get("tools"):
            upstream["tools"] = body["tools"]
        for ours, theirs in (
            ("temperature", "temperature"),
            ("top_p", "top_p"),
            ("top_k", "top_k"),
            ("num_predict", "max_tokens"),
        ):
            if options.get(ours) is not None:
                upstream[theirs] = options[ours]
        if isinstance(body.get("format"), dict):
            upstream["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": body["format"]},
            }
        if self.session is None:
            raise web.HTTPServiceUnavailable
        started = time.monotonic_ns()
        async with self.session.post(
            f"{self.llama_url}/v1/chat/completions", json=upstream
        ) as answer:
            if answer.status != 200:
                detail = await answer.text()
                _LOGGER.warning("llama-server answered %s: %s", answer.status, detail)
                # Ollama's error shape, so the integration says what went wrong.
                return web.json_response(
                    {"error": f"llama-server: {detail[:200]}"}, status=500
                )
            response = web.StreamResponse(headers={"Content-Type": NDJSON})
            await response.prepare(request)
            await self._relay(body, _events(answer), response, started)
        return response

    async def _relay(
        self,
        body: dict[str, Any],
        events: AsyncIterator[dict[str, Any]],
        response: web.StreamResponse,
        started: int,
    ) -> None:
        """Write OpenAI's streamed chunks as Ollama's lines: text, then the calls."""
        usage: dict[str, Any] = {}
        calls: dict[int, dict[str, Any]] = {}
        said: list[str] = []
        async for chunk in events:
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                if text := delta.get("content"):
                    said.append(text)
                    await self._line(response, body, {"content": text})
                for call in delta.get("tool_calls") or ():
                    entry = calls.setdefault(
                        call.get("index", 0), {"name": "", "arguments": ""}
                    )
                    function = call.get("function") or {}
                    entry["name"] += function.get("name") or ""
                    entry["arguments"] += function.get("arguments") or ""
        _LOGGER.info(
            "%d prompt tokens; the model wrote %r and called %s",
            usage.get("prompt_tokens", 0),
            "".join(said),
            [(call["name"], call["arguments"]) for call in calls.values()] or "no tool",
        )
        message: dict[str, Any] = {"content": ""}
        if calls:
            message["tool_calls"] = [
                {
                    "function": {
                        "name": call["name"],
                        "arguments": _json_object(call["arguments"]),
                    }
                }
                for _, call in sorted(calls.items())
            ]
        await self._line(
            response,
            body,
            message,
            done=True,
            prompt_eval_count=usage.get("prompt_tokens", 0),
            eval_count=usage.get("completion_tokens", 0),
            total_duration=time.monotonic_ns() - started,
        )
        await response.write_eof()

    async def _line(
        self,
        response: web.StreamResponse,
        body: dict[str, Any],
        message: dict[str, Any],
        *,
        done: bool = False,
        **extra: Any,
    ) -> None:
        line = {
            "model": body.get("model", self.model),
            "created_at": datetime.now(UTC).isoformat(),
            "message": {"role": "assistant", **message},
            "done": done,
            **({"done_reason": "stop"} if done else {}),
            **extra,
        }
        await response.write(json.dumps(line).encode() + b"\n")


async def _events(answer: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The JSON chunks of an OpenAI server-sent event stream."""
    async for raw in answer.content:
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def main() -> None:
    """Parse the addresses and serve."""
    parser = argparse.ArgumentParser(description="Ollama's API over llama-server")
    parser.add_argument("--llama", default="http://127.0.0.1:8081")
    parser.add_argument("--port", type=int, default=11436)
    parser.add_argument("--model", default="qwen2.5-coder:1.5b")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    web.run_app(
        Adapter(args.llama, args.model).app(),
        host="127.0.0.1",
        port=args.port,
        print=None,
        # A caller that hangs up (a client timeout) cancels its request, so llama-server
        # stops working on it, as Ollama does; otherwise the next request waits behind it.
        handler_cancellation=True,
    )


if __name__ == "__main__":
    main()
