"""One fixture file, every provider: ``interop/fixtures/cross/conversation.json`` answers the same
conversation through every official SDK aimock serves.

For each provider SDK (OpenAI chat, OpenAI Responses, AzureOpenAI, Anthropic, AnthropicVertex,
google-genai on the Gemini API and on Vertex express, boto3 Converse/ConverseStream and
InvokeModel/InvokeModelWithResponseStream, ollama, cohere ClientV2, the openai SDK against
OpenRouter, mistralai):

* the greeting, plain and streamed through the SDK's own stream API;
* the whole two-turn tool loop, plain and streamed: the model calls ``get_weather`` with
  ``{"city": "Paris"}`` (the fixture's fixed id ``call_cross_paris_1`` comes back wherever the API
  carries call ids), the tool result goes back the way that SDK sends it, and the final text arrives.

One server on the fixture folder serves the whole module. Each provider is an adapter with the same
small interface, so the tests themselves say nothing provider-specific.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import anthropic
import boto3
import cohere
import ollama
import openai
import pytest
from botocore.config import Config
from google import genai
from google.genai import types as gtypes
from mistralai.client import Mistral

from conftest import API_KEY, FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, start_server, stop_server, strict_validation

CROSS_FIXTURES = FIXTURES_DIR / "cross"

GREETING = "Hello"
GREETING_REPLY = "Hello! I am the aimock travel assistant. Ask me about the weather anywhere."
QUESTION = "What's the weather in Paris?"
CALL_ID = "call_cross_paris_1"
CALL_ARGS = {"city": "Paris"}
TOOL_RESULT = {"temp_c": 18, "sky": "sunny"}
FINAL_ANSWER = "It is 18 degrees and sunny in Paris."

TOOL_NAME = "get_weather"
TOOL_DESCRIPTION = "Current weather for a city"
TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
OPENAI_STYLE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "parameters": TOOL_SCHEMA},
}
ANTHROPIC_STYLE_TOOL: dict[str, Any] = {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": TOOL_SCHEMA}


@dataclass
class Call:
    id: str | None
    name: str
    args: dict[str, Any]


@dataclass
class Turn:
    """One model reply, whatever the SDK: its text, its tool calls, how many stream pieces carried
    text (0 for a plain reply), and what the SDK needs to put the reply back in the history."""

    text: str = ""
    calls: list[Call] = field(default_factory=list)
    text_pieces: int = 0
    native: Any = None


def parse_args(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


class Adapter:
    """The interface every provider implements."""

    #: Whether the API carries tool call ids (so the fixture's fixed id must come back).
    carries_ids = True
    #: What the request path ends with, plain and streamed: proof the SDK used its own API.
    paths = ("", "")

    def __init__(self, server: AimockServer) -> None:
        self.server = server

    def start(self, text: str) -> list[Any]:
        """A new conversation whose first message is the user's ``text``."""
        return [{"role": "user", "content": text}]

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        raise NotImplementedError

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        """Append the model's reply (with its tool calls) the way this SDK's users do."""
        raise NotImplementedError

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- OpenAI-style chat


class OpenAIChat(Adapter):
    """OpenAI Chat Completions; AzureOpenAI and OpenRouter are the same wire API on other paths."""

    model = "gpt-4o"
    paths = ("/v1/chat/completions", "/v1/chat/completions")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = self.make_client()

    def make_client(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.server.url + "/v1",
            api_key=API_KEY,
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": history}
        if tools:
            kwargs["tools"] = [OPENAI_STYLE_TOOL]
        if not stream:
            msg = self.client.chat.completions.create(**kwargs).choices[0].message
            calls = [Call(c.id, c.function.name, parse_args(c.function.arguments)) for c in msg.tool_calls or []]
            return Turn(text=msg.content or "", calls=calls)
        turn = Turn()
        by_index: dict[int, dict[str, Any]] = {}
        for chunk in self.client.chat.completions.create(**kwargs, stream=True):
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                turn.text += delta.content
                turn.text_pieces += 1
            for tc in delta.tool_calls or []:
                acc = by_index.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                if tc.id:
                    acc["id"] = tc.id
                if tc.function and tc.function.name:
                    acc["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    acc["arguments"] += tc.function.arguments
        turn.calls = [Call(a["id"], a["name"], parse_args(a["arguments"])) for _, a in sorted(by_index.items())]
        return turn

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(
            {
                "role": "assistant",
                "content": turn.text or None,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.args)}}
                    for c in turn.calls
                ],
            }
        )

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})

    def close(self) -> None:
        self.client.close()


class AzureChat(OpenAIChat):
    model = "my-gpt4o-deployment"
    paths = ("/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21",) * 2

    def make_client(self) -> openai.OpenAI:
        return openai.AzureOpenAI(
            azure_endpoint=self.server.url,
            api_version="2024-10-21",
            api_key="x",
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )


class OpenRouterChat(OpenAIChat):
    model = "openai/gpt-4o"
    paths = ("/api/v1/chat/completions", "/api/v1/chat/completions")

    def make_client(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.server.url + "/api/v1",
            api_key=API_KEY,
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )


# --------------------------------------------------------------------------- OpenAI Responses


class OpenAIResponses(Adapter):
    model = "gpt-4o"
    paths = ("/v1/responses", "/v1/responses")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = openai.OpenAI(
            base_url=server.url + "/v1",
            api_key=API_KEY,
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "input": history}
        if tools:
            kwargs["tools"] = [{"type": "function", "name": TOOL_NAME, "description": TOOL_DESCRIPTION, "parameters": TOOL_SCHEMA}]
        pieces = 0
        if stream:
            with self.client.responses.stream(**kwargs) as s:
                pieces = sum(1 for e in s if e.type == "response.output_text.delta")
                response = s.get_final_response()
        else:
            response = self.client.responses.create(**kwargs)
        calls = [Call(i.call_id, i.name, parse_args(i.arguments)) for i in response.output if i.type == "function_call"]
        return Turn(text=response.output_text, calls=calls, text_pieces=pieces, native=response)

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        # The Responses way: the output items go back into the input as they came.
        history.extend(item.model_dump(exclude_none=True) for item in turn.native.output)

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append({"type": "function_call_output", "call_id": call.id, "output": json.dumps(result)})

    def close(self) -> None:
        self.client.close()


# --------------------------------------------------------------------------- Anthropic


class AnthropicMessages(Adapter):
    model = "claude-sonnet-4-6"
    paths = ("/v1/messages", "/v1/messages")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = self.make_client()

    def make_client(self) -> anthropic.Anthropic | anthropic.AnthropicVertex:
        return anthropic.Anthropic(
            base_url=self.server.url,
            api_key="sk-ant-test",
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "max_tokens": 256, "messages": history}
        if tools:
            kwargs["tools"] = [ANTHROPIC_STYLE_TOOL]
        pieces = 0
        if stream:
            with self.client.messages.stream(**kwargs) as s:
                pieces = sum(1 for _ in s.text_stream)
                msg = s.get_final_message()
        else:
            msg = self.client.messages.create(**kwargs)
        text = "".join(b.text for b in msg.content if b.type == "text")
        calls = [Call(b.id, b.name, dict(b.input)) for b in msg.content if b.type == "tool_use"]  # type: ignore[arg-type]
        return Turn(text=text, calls=calls, text_pieces=pieces, native=msg)

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(turn.native.to_param())

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": json.dumps(result)}]}
        )

    def close(self) -> None:
        self.client.close()


class AnthropicOnVertex(AnthropicMessages):
    model = "claude-sonnet-4-5@20250929"
    paths = (":rawPredict", ":streamRawPredict")

    def make_client(self) -> anthropic.Anthropic | anthropic.AnthropicVertex:
        return anthropic.AnthropicVertex(
            region="us-east5",
            project_id="my-project",
            access_token="ya29.test-token",
            base_url=self.server.url + "/v1",
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
            _strict_response_validation=strict_validation(),
        )


# --------------------------------------------------------------------------- Gemini


class GeminiAPI(Adapter):
    model = "gemini-2.5-flash"
    vertex = False
    paths = ("/v1/models/gemini-2.5-flash:generateContent", "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        options = gtypes.HttpOptions(base_url=server.url, timeout=int(REQUEST_TIMEOUT_S * 1000))
        if self.vertex:
            self.client = genai.Client(vertexai=True, api_key="test-key", http_options=options)
        else:
            self.client = genai.Client(api_key="test-key", http_options=options)

    def start(self, text: str) -> list[Any]:
        return [gtypes.Content(role="user", parts=[gtypes.Part.from_text(text=text)])]

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        config = gtypes.GenerateContentConfig(
            automatic_function_calling=gtypes.AutomaticFunctionCallingConfig(disable=True),
        )
        if tools:
            decl = gtypes.FunctionDeclaration(name=TOOL_NAME, description=TOOL_DESCRIPTION, parameters_json_schema=TOOL_SCHEMA)
            config.tools = [gtypes.Tool(function_declarations=[decl])]
        if stream:
            chunks = list(self.client.models.generate_content_stream(model=self.model, contents=history, config=config))
        else:
            chunks = [self.client.models.generate_content(model=self.model, contents=history, config=config)]
        turn = Turn()
        parts: list[gtypes.Part] = []
        for chunk in chunks:
            for part in (chunk.candidates[0].content.parts or []) if chunk.candidates and chunk.candidates[0].content else []:
                parts.append(part)
                if part.text and not part.thought:
                    turn.text += part.text
                    turn.text_pieces += 1 if stream else 0
                if part.function_call:
                    fc = part.function_call
                    turn.calls.append(Call(fc.id, fc.name or "", dict(fc.args or {})))
        # The model's turn goes back as it came: every part, function calls (with their ids) included.
        turn.native = gtypes.Content(role="model", parts=parts)
        return turn

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(turn.native)

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        response = gtypes.FunctionResponse(id=call.id, name=call.name, response=result)
        history.append(gtypes.Content(role="user", parts=[gtypes.Part(function_response=response)]))


class GeminiVertexExpress(GeminiAPI):
    vertex = True
    paths = (
        "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent",
        "/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    )


# --------------------------------------------------------------------------- Bedrock


def bedrock_client(server: AimockServer) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=REQUEST_TIMEOUT_S, read_timeout=REQUEST_TIMEOUT_S),
    )


class BedrockConverse(Adapter):
    """``converse`` for plain turns, ``converse_stream`` (botocore's EventStream parser) for streamed ones."""

    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    paths = ("/converse", "/converse-stream")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = bedrock_client(server)

    def start(self, text: str) -> list[Any]:
        return [{"role": "user", "content": [{"text": text}]}]

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"modelId": self.model, "messages": history, "inferenceConfig": {"maxTokens": 256}}
        if tools:
            kwargs["toolConfig"] = {
                "tools": [{"toolSpec": {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "inputSchema": {"json": TOOL_SCHEMA}}}]
            }
        if not stream:
            message = self.client.converse(**kwargs)["output"]["message"]
            return self.turn_of(message, pieces=0)
        # Rebuild the message from the stream events, as a ConverseStream client does.
        blocks: dict[int, dict[str, Any]] = {}
        pieces = 0
        for event in self.client.converse_stream(**kwargs)["stream"]:
            if "contentBlockStart" in event:
                start = event["contentBlockStart"]
                tool = start["start"]["toolUse"]
                blocks[start["contentBlockIndex"]] = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"], "input": ""}}
            elif "contentBlockDelta" in event:
                d = event["contentBlockDelta"]
                block = blocks.setdefault(d["contentBlockIndex"], {"text": ""})
                if "text" in d["delta"]:
                    block["text"] += d["delta"]["text"]
                    pieces += 1
                elif "toolUse" in d["delta"]:
                    block["toolUse"]["input"] += d["delta"]["toolUse"]["input"]
        content = []
        for _, block in sorted(blocks.items()):
            if "toolUse" in block:
                block["toolUse"]["input"] = parse_args(block["toolUse"]["input"] or "{}")
            content.append(block)
        return self.turn_of({"role": "assistant", "content": content}, pieces=pieces)

    @staticmethod
    def turn_of(message: dict[str, Any], pieces: int) -> Turn:
        text = "".join(b.get("text", "") for b in message["content"])
        calls = [
            Call(b["toolUse"]["toolUseId"], b["toolUse"]["name"], dict(b["toolUse"]["input"]))
            for b in message["content"]
            if "toolUse" in b
        ]
        return Turn(text=text, calls=calls, text_pieces=pieces, native=message)

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(turn.native)

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append(
            {
                "role": "user",
                "content": [{"toolResult": {"toolUseId": call.id, "content": [{"json": result}], "status": "success"}}],
            }
        )

    def close(self) -> None:
        self.client.close()


class BedrockInvoke(Adapter):
    """``invoke_model`` / ``invoke_model_with_response_stream`` with Anthropic Messages bodies."""

    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    paths = ("/invoke", "/invoke-with-response-stream")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = bedrock_client(server)

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        body: dict[str, Any] = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "messages": history}
        if tools:
            body["tools"] = [ANTHROPIC_STYLE_TOOL]
        raw = json.dumps(body)
        if not stream:
            r = self.client.invoke_model(modelId=self.model, body=raw, contentType="application/json", accept="application/json")
            return self.turn_of(json.loads(r["body"].read())["content"], pieces=0)
        r = self.client.invoke_model_with_response_stream(modelId=self.model, body=raw, contentType="application/json")
        blocks: dict[int, dict[str, Any]] = {}
        partial: dict[int, str] = {}
        pieces = 0
        for event in r["body"]:
            e = json.loads(event["chunk"]["bytes"])
            if e["type"] == "content_block_start":
                blocks[e["index"]] = dict(e["content_block"])
            elif e["type"] == "content_block_delta":
                d = e["delta"]
                if d["type"] == "text_delta":
                    blocks[e["index"]]["text"] += d["text"]
                    pieces += 1
                elif d["type"] == "input_json_delta":
                    partial[e["index"]] = partial.get(e["index"], "") + d["partial_json"]
        for i, js in partial.items():
            blocks[i]["input"] = parse_args(js or "{}")
        return self.turn_of([b for _, b in sorted(blocks.items())], pieces=pieces)

    @staticmethod
    def turn_of(content: list[dict[str, Any]], pieces: int) -> Turn:
        text = "".join(b["text"] for b in content if b["type"] == "text")
        calls = [Call(b["id"], b["name"], dict(b["input"])) for b in content if b["type"] == "tool_use"]
        return Turn(text=text, calls=calls, text_pieces=pieces, native=content)

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append({"role": "assistant", "content": turn.native})

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": json.dumps(result)}]}
        )

    def close(self) -> None:
        self.client.close()


# --------------------------------------------------------------------------- Ollama


class Ollama(Adapter):
    model = "llama3.2"
    paths = ("/api/chat", "/api/chat")
    # The ollama Python client's ToolCall has no id; tool messages name the tool instead.
    carries_ids = False

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = ollama.Client(host=server.url, timeout=REQUEST_TIMEOUT_S)

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": history}
        if tools:
            kwargs["tools"] = [OPENAI_STYLE_TOOL]
        if not stream:
            msg = self.client.chat(**kwargs).message
            calls = [Call(None, c.function.name, dict(c.function.arguments)) for c in msg.tool_calls or []]
            return Turn(text=msg.content or "", calls=calls, native=msg)
        turn = Turn()
        for part in self.client.chat(**kwargs, stream=True):
            if part.message.content:
                turn.text += part.message.content
                turn.text_pieces += 1
            for c in part.message.tool_calls or []:
                turn.calls.append(Call(None, c.function.name, dict(c.function.arguments)))
        turn.native = ollama.Message(
            role="assistant",
            content=turn.text,
            tool_calls=[ollama.Message.ToolCall(function=ollama.Message.ToolCall.Function(name=c.name, arguments=c.args)) for c in turn.calls],
        )
        return turn

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(turn.native)

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append({"role": "tool", "content": json.dumps(result), "tool_name": call.name})

    def close(self) -> None:
        self.client.close()


# --------------------------------------------------------------------------- Cohere


class Cohere(Adapter):
    model = "command-a-03-2025"
    paths = ("/v2/chat", "/v2/chat")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = cohere.ClientV2(api_key="co-test", base_url=server.url, timeout=REQUEST_TIMEOUT_S)
        self.opts: Any = {"max_retries": 0}

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": history, "request_options": self.opts}
        if tools:
            kwargs["tools"] = [OPENAI_STYLE_TOOL]
        if not stream:
            msg = self.client.chat(**kwargs).message
            text = "".join(getattr(c, "text", "") or "" for c in msg.content or [] if c.type == "text")
            calls = [Call(c.id, c.function.name, parse_args(c.function.arguments)) for c in msg.tool_calls or []]
            return Turn(text=text, calls=calls, native=msg)
        turn = Turn()
        plan = ""
        raw_calls: list[dict[str, Any]] = []
        for e in self.client.chat_stream(**kwargs):
            if e.type == "content-delta" and e.delta.message.content.text:
                turn.text += e.delta.message.content.text
                turn.text_pieces += 1
            elif e.type == "tool-plan-delta":
                plan += e.delta.message.tool_plan or ""
            elif e.type == "tool-call-start":
                tc = e.delta.message.tool_calls
                raw_calls.append({"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments or ""})
            elif e.type == "tool-call-delta":
                raw_calls[-1]["arguments"] += e.delta.message.tool_calls.function.arguments or ""
        turn.calls = [Call(c["id"], c["name"], parse_args(c["arguments"])) for c in raw_calls]
        native: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.args)}}
                for c in turn.calls
            ],
        }
        if plan:
            native["tool_plan"] = plan
        turn.native = native
        return turn

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(turn.native)

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append(
            {
                "role": "tool",
                "tool_call_id": call.id,
                "content": [{"type": "document", "document": {"data": json.dumps(result)}}],
            }
        )


# --------------------------------------------------------------------------- Mistral


class MistralChat(Adapter):
    model = "mistral-large-latest"
    paths = ("/v1/chat/completions", "/v1/chat/completions")

    def __init__(self, server: AimockServer) -> None:
        super().__init__(server)
        self.client = Mistral(api_key="x", server_url=server.url, timeout_ms=int(REQUEST_TIMEOUT_S * 1000))

    def send(self, history: list[Any], *, tools: bool, stream: bool) -> Turn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": history}
        if tools:
            kwargs["tools"] = [OPENAI_STYLE_TOOL]
        if not stream:
            msg = self.client.chat.complete(**kwargs).choices[0].message
            assert msg is not None
            text = msg.content if isinstance(msg.content, str) else ""
            calls = [Call(c.id, c.function.name, parse_args(c.function.arguments)) for c in msg.tool_calls or []]
            return Turn(text=text, calls=calls)
        turn = Turn()
        by_index: dict[int, dict[str, Any]] = {}
        for event in self.client.chat.stream(**kwargs):
            chunk = event.data
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if isinstance(delta.content, str) and delta.content:
                turn.text += delta.content
                turn.text_pieces += 1
            for pos, tc in enumerate(delta.tool_calls or []):
                index = tc.index if isinstance(tc.index, int) else pos
                acc = by_index.setdefault(index, {"id": None, "name": "", "arguments": ""})
                if isinstance(tc.id, str) and tc.id != "null":
                    acc["id"] = tc.id
                acc["name"] += tc.function.name or ""
                args = tc.function.arguments
                acc["arguments"] += args if isinstance(args, str) else json.dumps(args)
        turn.calls = [Call(a["id"], a["name"], parse_args(a["arguments"])) for _, a in sorted(by_index.items())]
        return turn

    def add_reply(self, history: list[Any], turn: Turn) -> None:
        history.append(
            {
                "role": "assistant",
                "content": turn.text,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.args)}}
                    for c in turn.calls
                ],
            }
        )

    def add_tool_result(self, history: list[Any], call: Call, result: dict[str, Any]) -> None:
        history.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": json.dumps(result)})

    def close(self) -> None:
        self.client.__exit__(None, None, None)


# --------------------------------------------------------------------------- the tests

PROVIDERS: dict[str, type[Adapter]] = {
    "openai-chat": OpenAIChat,
    "openai-responses": OpenAIResponses,
    "azure-openai": AzureChat,
    "anthropic": AnthropicMessages,
    "anthropic-vertex": AnthropicOnVertex,
    "gemini": GeminiAPI,
    "gemini-vertex-express": GeminiVertexExpress,
    "bedrock-converse": BedrockConverse,
    "bedrock-invoke": BedrockInvoke,
    "ollama": Ollama,
    "cohere": Cohere,
    "openrouter": OpenRouterChat,
    "mistral": MistralChat,
}

# Cases that cannot pass because of a server bug (server code is not ours to change here):
# {(provider, mode): reason}. Each is marked xfail(strict=True), so a fix turns it into a failure
# that asks for the mark to go.
KNOWN_SERVER_BUGS: dict[tuple[str, str], str] = {}

MODES = ("plain", "stream")


def cases() -> list[Any]:
    out = []
    for name in PROVIDERS:
        for mode in MODES:
            marks = []
            reason = KNOWN_SERVER_BUGS.get((name, mode))
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            out.append(pytest.param(name, mode, id=f"{name}-{mode}", marks=marks))
    return out


@pytest.fixture(scope="module")
def cross_server() -> Iterator[AimockServer]:
    server = start_server([CROSS_FIXTURES])
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def provider(request: pytest.FixtureRequest, cross_server: AimockServer) -> Iterator[Callable[[str], Adapter]]:
    cross_server.reset_journal()
    made: list[Adapter] = []

    def _make(name: str) -> Adapter:
        adapter = PROVIDERS[name](cross_server)
        made.append(adapter)
        return adapter

    yield _make
    for a in made:
        a.close()


def the_one_fixture_file_answered(server: AimockServer, adapter: Adapter, stream: bool, requests: int) -> None:
    """The test's requests, and only they, reached the provider's own path and got a 200."""
    entries = server.journal()
    assert len(entries) == requests, [e["path"] for e in entries]
    for e in entries:
        assert e["path"].endswith(adapter.paths[stream]), (e["path"], adapter.paths[stream])
        assert e["response"]["status"] == 200, e


@pytest.mark.parametrize(("name", "mode"), cases())
def test_the_greeting(name: str, mode: str, provider: Callable[[str], Adapter], cross_server: AimockServer) -> None:
    p = provider(name)
    turn = p.send(p.start(GREETING), tools=False, stream=mode == "stream")

    assert turn.text == GREETING_REPLY
    assert turn.calls == []
    if mode == "stream":
        # Longer than the default chunk size: the SDK's stream delivered it in several pieces.
        assert turn.text_pieces > 1
    the_one_fixture_file_answered(cross_server, p, mode == "stream", 1)


@pytest.mark.parametrize(("name", "mode"), cases())
def test_the_tool_loop(name: str, mode: str, provider: Callable[[str], Adapter], cross_server: AimockServer) -> None:
    p = provider(name)
    stream = mode == "stream"
    history = p.start(QUESTION)

    first = p.send(history, tools=True, stream=stream)
    assert first.text == ""
    assert len(first.calls) == 1, first.calls
    (call,) = first.calls
    assert call.name == TOOL_NAME
    assert call.args == CALL_ARGS
    if p.carries_ids:
        assert call.id == CALL_ID

    p.add_reply(history, first)
    p.add_tool_result(history, call, TOOL_RESULT)
    final = p.send(history, tools=True, stream=stream)
    assert final.calls == []
    assert final.text == FINAL_ANSWER

    # The server saw the tool result as the last message of the second request.
    the_one_fixture_file_answered(cross_server, p, stream, 2)
    last = cross_server.journal()[-1]["body"]["messages"][-1]
    assert last["role"] == "tool"
    assert json.loads(last["content"]) == TOOL_RESULT
    if p.carries_ids:
        assert last["tool_call_id"] == CALL_ID
