"""Run the stand-in on its own: `python -m tests.ollama_stub --port 11435`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .demo import LABEL, demo_reply
from .server import OllamaStub, StubModel

_LOGGER = logging.getLogger("ollama_stub")


async def _serve(port: int) -> None:
    stub = OllamaStub(
        models=[
            StubModel("demo-stand-in:latest"),
            StubModel("demo-no-tools:latest", capabilities=["completion"]),
        ],
        responder=demo_reply,
    )
    await stub.start(port)
    _LOGGER.warning(
        "%s DEMO MODE: serving Ollama's API at %s. This is not a language model: "
        "it gives canned answers so you can see requests flow. Set OLLAMA_URL to use "
        "a real server.",
        LABEL,
        stub.url,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await stub.stop()


def main() -> None:
    """Parse the port and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Ollama stand-in (demo mode)")
    parser.add_argument("--port", type=int, default=11435)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
