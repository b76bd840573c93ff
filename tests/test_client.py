"""The client turns every server failure into one of the integration's exceptions."""

from __future__ import annotations

import time

from homeassistant.const import CONF_TIMEOUT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.client import (
    BadResponse,
    CannotConnect,
    ConnectionLost,
    InvalidAuth,
    InvalidURL,
    ModelNotFound,
    OllamaClient,
    RequestTimeout,
    ToolsNotSupported,
    display_host,
    normalize_url,
)

from .helpers import ask, speech
from .ollama_stub import Fault, OllamaStub, Reply


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("192.168.1.20", "http://192.168.1.20:11434"),
        ("  192.168.1.20:8080/ ", "http://192.168.1.20:8080"),
        ("http://ollama.local", "http://ollama.local:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
        (
            "https://proxy.example.com:8443/ollama/",
            "https://proxy.example.com:8443/ollama",
        ),
        ("[fd00::20]", "http://[fd00::20]:11434"),
        ("HTTP://Ollama.Local:11434", "http://ollama.local:11434"),
    ],
)
def test_normalize_url(typed: str, expected: str) -> None:
    """A scheme and Ollama's port are added where a person left them out."""
    assert normalize_url(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "   ", "ftp://host", "http://", "http://host?x=1", "http://a b"]
)
def test_normalize_url_rejects(typed: str) -> None:
    """Anything that is not an http(s) address is refused."""
    with pytest.raises(InvalidURL):
        normalize_url(typed)


def test_display_host() -> None:
    """Messages name the server as host:port."""
    assert display_host("http://192.168.1.20:11434") == "192.168.1.20:11434"
    assert display_host("https://ollama.example.com") == "ollama.example.com:443"


async def test_lists_models_and_caches_capabilities(ollama_stub: OllamaStub) -> None:
    """Capabilities come from /api/show once per model until forgotten."""
    ollama_stub.add_model("gemma:2b", capabilities=["completion"], context_length=8192)
    client = OllamaClient(ollama_stub.url)
    assert await client.list_models() == ["gemma:2b", "qwen2.5:3b"]
    info = await client.model_info("gemma:2b")
    assert not info.supports_tools
    assert info.context_length == 8192
    assert (await client.model_info("qwen2.5:3b")).supports_tools
    await client.model_info("gemma:2b")
    assert len(ollama_stub.requests_to("/api/show")) == 2
    client.forget_model_info()
    await client.model_info("gemma:2b")
    assert len(ollama_stub.requests_to("/api/show")) == 3
    with pytest.raises(ModelNotFound, match="missing:1b"):
        await client.model_info("missing:1b")
    await client.close()


async def test_chat_streams_parts(ollama_stub: OllamaStub) -> None:
    """Chat yields the server's lines in order, the statistics last."""
    ollama_stub.reply(Reply(["Hel", "lo"]))
    client = OllamaClient(ollama_stub.url)
    parts = [
        part
        async for part in client.chat(
            model="qwen2.5:3b", messages=[{"role": "user", "content": "hi"}]
        )
    ]
    assert [p.message.content for p in parts] == ["Hel", "lo", ""]
    assert parts[-1].done
    await client.close()


async def test_pull_reports_progress(ollama_stub: OllamaStub) -> None:
    """Pulling yields progress and ends with the model installed; unknown names fail."""
    ollama_stub.registry["llama3.2:3b"] = ollama_stub.models["qwen2.5:3b"]
    client = OllamaClient(ollama_stub.url)
    statuses = [p.status async for p in client.pull("llama3.2:3b")]
    assert statuses[-1] == "success"
    assert "llama3.2:3b" in await client.list_models()
    with pytest.raises(BadResponse, match="file does not exist"):
        async for _ in client.pull("nonexistent:1b"):
            pass
    await client.close()


@pytest.mark.parametrize(
    ("fault", "expected", "message"),
    [
        (Fault.SERVER_ERROR, BadResponse, "answered with an error: llama runner"),
        (
            Fault.MODEL_NOT_FOUND,
            ModelNotFound,
            "model qwen2.5:3b is not on the Ollama server",
        ),
        (Fault.NO_TOOLS, ToolsNotSupported, "qwen2.5:3b does not support tools"),
        (Fault.MALFORMED_LINE, BadResponse, "sent an invalid response"),
        (
            Fault.CUT_STREAM,
            ConnectionLost,
            "connection to the Ollama server at 127.0.0.1",
        ),
    ],
)
async def test_chat_failures_are_translated(
    ollama_stub: OllamaStub, fault: Fault, expected: type[Exception], message: str
) -> None:
    """Every fault in a chat stream surfaces as the integration's own exception."""
    ollama_stub.reply(Reply(["one", "two", "three"]))
    ollama_stub.fail(fault, path="/api/chat")
    client = OllamaClient(ollama_stub.url)
    with pytest.raises(expected, match=message):
        async for _ in client.chat(model="qwen2.5:3b", messages=[]):
            pass
    await client.close()


async def test_connection_failures(ollama_stub: OllamaStub) -> None:
    """Refused, slow, unauthorised and non-Ollama servers each have their exception."""
    client = OllamaClient(ollama_stub.url, timeout=0.3)
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/tags", delay=1)
    with pytest.raises(RequestTimeout, match="did not answer in time"):
        await client.list_models()

    ollama_stub.token = "s3cret"
    with pytest.raises(InvalidAuth):
        await client.list_models()
    keyed = OllamaClient(ollama_stub.url, api_key=" s3cret ")
    assert await keyed.list_models()
    ollama_stub.token = None

    wrong_path = OllamaClient(f"{ollama_stub.url}/not-ollama")
    with pytest.raises(BadResponse, match="404 page not found"):
        await wrong_path.list_models()

    await ollama_stub.stop()
    with pytest.raises(
        CannotConnect, match=r"Couldn't reach the Ollama server at 127\.0\.0\.1"
    ):
        await client.list_models()
    for opened in (client, keyed, wrong_path):
        await opened.close()


def _long_prompt(words: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": "word " * words}]


async def _chat(client: OllamaClient, messages: list[dict[str, str]]) -> str:
    return "".join(
        [
            part.message.content or ""
            async for part in client.chat(model="qwen2.5:3b", messages=messages)
        ]
    )


async def test_first_answer_may_take_what_the_prompt_needs(
    ollama_stub: OllamaStub,
) -> None:
    """Before any measurement, a slow reader of a long prompt is waited for."""
    client = OllamaClient(ollama_stub.url, timeout=0.5)
    ollama_stub.reply("read it all")
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=2)
    assert await _chat(client, _long_prompt(400)) == "read it all"
    await client.close()


async def test_first_answer_deadline_follows_the_measured_speed(
    ollama_stub: OllamaStub,
) -> None:
    """A fast server that goes silent fails soon; a slow one gets the time it needs."""
    client = OllamaClient(ollama_stub.url, timeout=0.5)
    # 10,000 tokens a second: a short prompt needs no time beyond the timeout.
    ollama_stub.reply(
        Reply("fast", prompt_eval_count=1000, prompt_eval_duration=100_000_000)
    )
    assert await _chat(client, _long_prompt(10)) == "fast"
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=3)
    started = time.monotonic()
    with pytest.raises(RequestTimeout, match="did not answer in time"):
        await _chat(client, _long_prompt(10))
    assert time.monotonic() - started < 1.5

    # 100 tokens a second (the slowest speed counts): 150 words need about 2.5 s.
    ollama_stub.reply(
        Reply("slow", prompt_eval_count=1000, prompt_eval_duration=10_000_000_000)
    )
    assert await _chat(client, _long_prompt(10)) == "slow"
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=1.5)
    ollama_stub.reply("worth the wait")
    assert await _chat(client, _long_prompt(150)) == "worth the wait"
    await client.close()


async def test_silence_mid_answer_and_refused_connections_fail_fast(
    ollama_stub: OllamaStub,
) -> None:
    """Once streaming, the timeout is the longest pause; a refused connection is quick."""
    client = OllamaClient(ollama_stub.url, timeout=0.5)
    ollama_stub.reply(Reply(["one", "two"]))
    ollama_stub.fail(Fault.STALL_AFTER_FIRST_LINE, path="/api/chat", delay=3)
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await _chat(client, _long_prompt(400))
    assert time.monotonic() - started < 1.5
    await ollama_stub.stop()
    started = time.monotonic()
    with pytest.raises(CannotConnect):
        await _chat(client, _long_prompt(400))
    assert time.monotonic() - started < 1.5
    await client.close()


async def test_first_turn_after_start_up_waits_for_a_slow_server(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """The agent's first request reads a long prompt slowly; the person gets an answer."""
    assert agent_entry.data[CONF_TIMEOUT] == 2
    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=4)
    ollama_stub.reply("The kitchen lights are on.")
    result = await ask(hass, "are the kitchen lights on?")
    assert speech(result) == "The kitchen lights are on."
