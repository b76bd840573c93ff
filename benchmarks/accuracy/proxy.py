"""A pass-through in front of the model's server that writes down every chat request.

Both integrations talk to the model through it, so the benchmark counts rounds and
prompt tokens the same way for each, without touching either integration: it reads the
`prompt_eval_count` of each streamed answer's last line. Bytes pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import time

import aiohttp
from aiohttp import web


@dataclass(slots=True)
class ChatRecord:
    """One /api/chat request as the proxy saw it."""

    started: float
    seconds: float = 0.0
    prompt_tokens: int = 0
    done: bool = False
    # The server answered with an error status instead of a stream.
    error: bool = False
    # The caller hung up before the answer ended: it gave up waiting (a timeout).
    abandoned: bool = False
    # The integration's warm-up (a one-token answer), not a round of any turn.
    warm_up: bool = False

    @property
    def gave_up(self) -> bool:
        """The caller stopped waiting: hung up, or still unanswered when its turn ended."""
        return self.abandoned or not (self.done or self.error)


@dataclass(slots=True)
class RecordingProxy:
    """Serve on a free loopback port; forward everything to `upstream`."""

    upstream: str
    records: list[ChatRecord] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    url: str = ""

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a port the system picks."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_read=900)
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        # A caller that hangs up cancels the forwarding, as with Ollama itself.
        self._runner = web.AppRunner(
            app, handle_signals=False, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close the listener and the upstream session."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def since(self, mark: int) -> list[ChatRecord]:
        """The turns' chat requests recorded after `mark` (a length of `records`).

        A warm-up sent meanwhile is left out: it is no round of the turn, and one
        still queued when the turn ends is not the turn giving up.
        """
        return [record for record in self.records[mark:] if not record.warm_up]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        record = None
        if request.path == "/api/chat":
            record = ChatRecord(started=time.monotonic(), warm_up=is_warm_up(body))
            self.records.append(record)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            if record is not None:
                record.error = answer.status != 200
            response = web.StreamResponse(status=answer.status)
            response.content_type = answer.content_type
            await response.prepare(request)
            try:
                async for line in answer.content:
                    if record is not None:
                        _note(record, line)
                    await response.write(line)
                await response.write_eof()
            except ConnectionResetError, aiohttp.ClientConnectionResetError:
                if record is not None:
                    record.abandoned = True
            finally:
                if record is not None:
                    record.seconds = time.monotonic() - record.started
                    record.abandoned = record.abandoned or not (
                        record.done or record.error
                    )
        return response


def _note(record: ChatRecord, line: bytes) -> None:
    """Read the prompt size from a streamed line that ends the answer."""
    try:
        chunk = json.loads(line)
    except ValueError:
        return
    if isinstance(chunk, dict) and chunk.get("done"):
        record.done = True
        record.prompt_tokens = int(chunk.get("prompt_eval_count") or 0)


def is_warm_up(body: bytes) -> bool:
    """A request for a one-token answer: this integration's prompt-cache warm-up."""
    try:
        request = json.loads(body)
    except ValueError:
        return False
    options = request.get("options") if isinstance(request, dict) else None
    return isinstance(options, dict) and options.get("num_predict") == 1
