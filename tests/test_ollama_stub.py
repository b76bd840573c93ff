"""The stand-in must speak Ollama's API well enough for the real `ollama` client."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from .ollama_stub import Fault, OllamaStub, Reply
from .ollama_stub.demo import LABEL, demo_reply


@pytest.fixture
def client(ollama_stub: OllamaStub) -> ollama.AsyncClient:
    """The real Python client pointed at the stand-in."""
    return ollama.AsyncClient(host=ollama_stub.url, timeout=2)


async def test_lists_and_shows_models(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """/api/tags and /api/show parse into the client's own types."""
    ollama_stub.add_model(
        "llava:7b", capabilities=["completion", "vision"], context_length=4096
    )
    listed = await client.list()
    assert [m.model for m in listed.models] == ["qwen2.5:3b", "llava:7b"]
    assert listed.models[1].details is not None
    assert listed.models[1].details.family == "qwen2"
    shown = await client.show("llava:7b")
    assert shown.capabilities == ["completion", "vision"]
    assert shown.modelinfo is not None
    assert shown.modelinfo["qwen2.context_length"] == 4096
    with pytest.raises(ollama.ResponseError) as err:
        await client.show("missing")
    assert err.value.status_code == 404


async def test_streams_chat_with_thinking_and_tool_calls(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """Streamed chat: thinking, text chunks, tool calls, then statistics on the last line."""
    ollama_stub.reply(
        Reply(
            ["Turning ", "it off."],
            thinking="The user wants the light off.",
            tool_calls=[{"name": "HassTurnOff", "arguments": {"name": "Kitchen"}}],
        )
    )
    tool = {
        "type": "function",
        "function": {
            "name": "HassTurnOff",
            "description": "Turns off a device",
            "parameters": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
            },
        },
    }
    parts = [
        part
        async for part in await client.chat(
            model="qwen2.5:3b",
            messages=[{"role": "user", "content": "turn off the kitchen"}],
            tools=[tool],
            stream=True,
        )
    ]
    assert parts[0].message.thinking == "The user wants the light off."
    assert "".join(p.message.content or "" for p in parts) == "Turning it off."
    calls = [call for p in parts for call in p.message.tool_calls or []]
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("HassTurnOff", {"name": "Kitchen"})
    ]
    last = parts[-1]
    assert last.done and last.done_reason == "stop"
    assert last.prompt_eval_count and last.prompt_eval_count > 0
    assert last.eval_count and last.total_duration
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert body["tools"][0]["function"]["name"] == "HassTurnOff"
    assert body["messages"] == [{"role": "user", "content": "turn off the kitchen"}]


async def test_non_streaming_chat_and_generate(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """Without streaming the reply is one JSON object, for chat and for generate."""
    ollama_stub.reply(Reply(["Hello", " there"], thinking=["a", "b"]), "Generated")
    chat = await client.chat(
        model="qwen2.5:3b", messages=[{"role": "user", "content": "hi"}]
    )
    assert chat.message.content == "Hello there"
    assert chat.message.thinking == "ab"
    generated = await client.generate(model="qwen2.5:3b", prompt="say it")
    assert generated.response == "Generated"
    assert generated.context and generated.done
    ollama_stub.reply(Reply(["Gen", "erated"], thinking="hm"))
    streamed = [
        p
        async for p in await client.generate(
            model="qwen2.5:3b", prompt="x", stream=True
        )
    ]
    assert "".join(p.response or "" for p in streamed) == "Generated"
    assert streamed[0].thinking == "hm"
    assert streamed[-1].done and streamed[-1].eval_count


async def test_unscripted_request_fails_loudly(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """A test that forgets to script the model gets a 500, not an invented answer."""
    with pytest.raises(ollama.ResponseError) as err:
        await client.chat(model="qwen2.5:3b", messages=[])
    assert err.value.status_code == 500
    assert "no scripted reply" in err.value.error


async def test_pull_embed_ps_version(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """Pull streams progress and installs the model; embed and ps answer like Ollama."""
    ollama_stub.registry["llama3.2:3b"] = ollama_stub.models["qwen2.5:3b"]
    progress = [p async for p in await client.pull("llama3.2:3b", stream=True)]
    assert progress[0].status == "pulling manifest"
    assert any(p.total and p.completed == p.total for p in progress)
    assert progress[-1].status == "success"
    assert "llama3.2:3b" in [m.model for m in (await client.list()).models]
    with pytest.raises(ollama.ResponseError, match="file does not exist"):
        async for _ in await client.pull("nonexistent:1b", stream=True):
            pass

    embedded = await client.embed(
        model="qwen2.5:3b", input=["kitchen light", "light kitchen", "garage"]
    )
    first, second, third = embedded.embeddings
    assert first == second
    assert first != third

    assert (await client.ps()).models == []
    ollama_stub.reply("hi")
    await client.chat(model="qwen2.5:3b", messages=[{"role": "user", "content": "hi"}])
    running = await client.ps()
    assert [m.model for m in running.models] == ["qwen2.5:3b"]
    version = await client._request_raw("GET", "/api/version")
    assert version.json()["version"]


async def test_faults(ollama_stub: OllamaStub, client: ollama.AsyncClient) -> None:
    """Each injected fault reaches the client the way the real failure would."""
    messages = [{"role": "user", "content": "hi"}]
    ollama_stub.fail(Fault.SERVER_ERROR, path="/api/tags")
    with pytest.raises(ollama.ResponseError) as err:
        await client.list()
    assert err.value.status_code == 500

    ollama_stub.fail(Fault.MODEL_NOT_FOUND)
    ollama_stub.reply("unused")
    with pytest.raises(ollama.ResponseError) as err:
        await client.chat(model="qwen2.5:3b", messages=messages)
    assert err.value.status_code == 404
    assert "not found" in err.value.error

    ollama_stub.fail(Fault.NO_TOOLS)
    with pytest.raises(ollama.ResponseError, match="does not support tools") as err:
        await client.chat(model="qwen2.5:3b", messages=messages)
    assert err.value.status_code == 400

    ollama_stub.reply(Reply(["one", "two", "three"]))
    ollama_stub.fail(Fault.MALFORMED_LINE, path="/api/chat")
    with pytest.raises(json.JSONDecodeError):
        async for _ in await client.chat(
            model="qwen2.5:3b", messages=messages, stream=True
        ):
            pass

    ollama_stub.reply(Reply(["one", "two", "three"]))
    ollama_stub.fail(Fault.CUT_STREAM, path="/api/chat")
    stream = await client.chat(model="qwen2.5:3b", messages=messages, stream=True)
    first = await anext(stream)
    assert first.message.content == "one"
    with pytest.raises(httpx.RemoteProtocolError):
        await anext(stream)

    ollama_stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/tags", delay=1)
    with pytest.raises(httpx.ReadTimeout):
        await ollama.AsyncClient(host=ollama_stub.url, timeout=0.2).list()


async def test_tool_support_is_checked_per_model(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """A model without the tools capability answers 400 when given tools."""
    ollama_stub.add_model("gemma:2b", capabilities=["completion"])
    tool = {
        "type": "function",
        "function": {"name": "x", "description": "", "parameters": {}},
    }
    with pytest.raises(ollama.ResponseError, match="does not support tools"):
        await client.chat(model="gemma:2b", messages=[], tools=[tool])


async def test_bearer_token(ollama_stub: OllamaStub) -> None:
    """With a token required: none is 401, a wrong one 403, the right one passes."""
    ollama_stub.token = "s3cret"
    with pytest.raises(ollama.ResponseError) as err:
        await ollama.AsyncClient(host=ollama_stub.url).list()
    assert err.value.status_code == 401
    wrong = ollama.AsyncClient(
        host=ollama_stub.url, headers={"Authorization": "Bearer nope"}
    )
    with pytest.raises(ollama.ResponseError) as err:
        await wrong.list()
    assert err.value.status_code == 403
    right = ollama.AsyncClient(
        host=ollama_stub.url, headers={"Authorization": "Bearer s3cret"}
    )
    assert (await right.list()).models
    assert ollama_stub.requests[-1].headers["Authorization"] == "Bearer s3cret"


async def test_down_and_back_on_the_same_port(ollama_stub: OllamaStub) -> None:
    """stop() refuses connections; start() serves again at the same URL."""
    url = ollama_stub.url
    await ollama_stub.stop()
    with pytest.raises(ConnectionError):
        await ollama.AsyncClient(host=url).list()
    await ollama_stub.start()
    assert ollama_stub.url == url
    assert (await ollama.AsyncClient(host=url).list()).models


async def test_demo_mode_is_labelled_and_calls_offered_tools(
    ollama_stub: OllamaStub, client: ollama.AsyncClient
) -> None:
    """Demo answers say they are not a model; "turn off X" calls an offered tool."""
    ollama_stub.responder = demo_reply
    tool = {
        "type": "function",
        "function": {
            "name": "intent__HassTurnOff",
            "description": "",
            "parameters": {},
        },
    }
    asked = await client.chat(
        model="qwen2.5:3b",
        messages=[
            {
                "role": "user",
                "content": "Turn off the kitchen lights.\n\nCurrent states: Kitchen Lights: on",
            }
        ],
        tools=[tool],
    )
    calls = asked.message.tool_calls or []
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("intent__HassTurnOff", {"name": "kitchen lights"})
    ]
    result = {"data": {"success": [{"name": "Kitchen Lights", "type": "entity"}]}}
    answered = await client.chat(
        model="qwen2.5:3b",
        messages=[
            {"role": "user", "content": "Turn off the kitchen lights."},
            {
                "role": "tool",
                "content": json.dumps(result),
                "tool_name": "intent__HassTurnOff",
            },
        ],
    )
    assert answered.message.content == (
        f"{LABEL} Done: the intent__HassTurnOff tool ran for Kitchen Lights."
    )
    chatted = await client.chat(
        model="qwen2.5:3b", messages=[{"role": "user", "content": "hello"}]
    )
    assert chatted.message.content.startswith(LABEL)
    assert "not a language model" in LABEL


@pytest.mark.parametrize(
    ("request_text", "arguments"),
    [
        (
            "it is dark in the kitchen, please switch the lights off",
            {"name": "kitchen lights", "action": "turn_off"},
        ),
        ("Unlock the front door please.", {"name": "front door", "action": "unlock"}),
        ("switch on the bed light", {"name": "bed light", "action": "turn_on"}),
    ],
)
async def test_demo_mode_calls_the_control_tool(
    ollama_stub: OllamaStub,
    client: ollama.AsyncClient,
    request_text: str,
    arguments: dict[str, str],
) -> None:
    """The browser test's requests become control calls, the room naming the lights."""
    ollama_stub.responder = demo_reply
    tools = [
        {
            "type": "function",
            "function": {"name": name, "description": "", "parameters": {}},
        }
        for name in ("control", "get_state")
    ]
    asked = await client.chat(
        model="qwen2.5:3b",
        messages=[{"role": "user", "content": request_text}],
        tools=tools,
    )
    calls = asked.message.tool_calls or []
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("control", arguments)
    ]
