"""Record and replay through every official SDK (issue 4, "Proof").

The upstream is a second aimock on ``interop/fixtures/record/upstream``. Each case is one SDK call,
made three ways (``record_support.record_and_replay``):

1. straight to the upstream (what the provider "really" answers);
2. through a recording server (``--record --provider-<every provider> <upstream>``, empty fixture
   dir), twice: the first call goes upstream and is recorded, the second is answered from the
   recording without reaching the upstream (the upstream's journal does not grow);
3. after the recording server and the upstream are stopped, through a fresh server started with
   only ``-f <dir>/recorded``.

The SDK-level answer (text, tool call ids, names and arguments, reasoning, finish reason, vectors)
is the same in all of them, streamed and not. Every SDK sends the fake key ``sk-test-SECRET123``
(Bedrock: an access key id holding ``SECRET123``); it is in no recorded file and in no journal entry.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any, Iterator

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

from conftest import REQUEST_TIMEOUT_S, aimock_bin, new_client
from record_support import (
    AWS_ACCESS_KEY,
    SECRET,
    SECRET_MARK,
    Case,
    RecordRun,
    files_containing,
    fixture_mentioning,
    json_files,
    partial_match,
    record_and_replay,
    recorded_fixtures,
    summarize_anthropic_events,
    summarize_anthropic_message,
    summarize_chat_completion,
    summarize_chat_stream,
    summarize_cohere_chat,
    summarize_cohere_stream,
    summarize_converse,
    summarize_converse_stream,
    summarize_gemini,
    summarize_gemini_stream,
    summarize_ollama_chat,
    summarize_ollama_chat_stream,
    summarize_response,
    summarize_response_stream,
)

OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
GEMINI_MODEL = "gemini-2.5-flash"
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
OLLAMA_MODEL = "llama3.2"
COHERE_MODEL = "command-a-03-2025"

WEATHER_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}}
RESPONSES_TOOL = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMS}
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_PARAMS}
BEDROCK_TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": WEATHER_PARAMS}}}]}


def msgs(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------- clients


def oai(url: str) -> openai.OpenAI:
    return new_client(url, api_key=SECRET)


def azure(url: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=url, api_version="2024-10-21", api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S
    )


def router(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/api/v1", api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S)


def claude(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0, timeout=REQUEST_TIMEOUT_S)


def gem(url: str, vertex: bool = False) -> genai.Client:
    opts = gtypes.HttpOptions(base_url=url, timeout=int(REQUEST_TIMEOUT_S * 1000))
    return genai.Client(vertexai=vertex, api_key=SECRET, http_options=opts) if vertex else genai.Client(api_key=SECRET, http_options=opts)


def bedrock(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=AWS_ACCESS_KEY,
        aws_secret_access_key="x",
        config=Config(
            retries={"total_max_attempts": 1}, connect_timeout=REQUEST_TIMEOUT_S, read_timeout=REQUEST_TIMEOUT_S
        ),
    )


def olla(url: str) -> ollama.Client:
    return ollama.Client(host=url, timeout=REQUEST_TIMEOUT_S, headers={"Authorization": f"Bearer {SECRET}"})


def co(url: str) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=SECRET, base_url=url, timeout=REQUEST_TIMEOUT_S)


NO_RETRIES: Any = {"max_retries": 0}


# --------------------------------------------------------------------------- calls


def openai_chat(trigger: str, stream: bool = False, tools: bool = False, client=oai) -> Any:  # type: ignore[no-untyped-def]
    def call(url: str) -> Any:
        with client(url) as c:
            extra: dict[str, Any] = {"tools": [OPENAI_TOOL]} if tools else {}
            r = c.chat.completions.create(model=OPENAI_MODEL, messages=msgs(trigger), stream=stream, **extra)
            return summarize_chat_stream(r) if stream else summarize_chat_completion(r)

    return call


def openai_embed(text: str, client=oai) -> Any:  # type: ignore[no-untyped-def]
    def call(url: str) -> Any:
        with client(url) as c:
            r = c.embeddings.create(model="text-embedding-3-small", input=text, encoding_format="float")
            return {"vectors": [d.embedding for d in r.data]}

    return call


def responses(trigger: str, stream: bool = False, tools: bool = False) -> Any:
    def call(url: str) -> Any:
        with oai(url) as c:
            extra: dict[str, Any] = {"tools": [RESPONSES_TOOL]} if tools else {}
            if stream:
                with c.responses.stream(model=OPENAI_MODEL, input=trigger, **extra) as s:
                    return summarize_response_stream(s)
            return summarize_response(c.responses.create(model=OPENAI_MODEL, input=trigger, **extra))

    return call


def anthropic_call(trigger: str, stream: bool = False, tools: bool = False, thinking: bool = False) -> Any:
    def call(url: str) -> Any:
        with claude(url) as c:
            extra: dict[str, Any] = {}
            if tools:
                extra["tools"] = [ANTHROPIC_TOOL]
            if thinking:
                extra["thinking"] = {"type": "enabled", "budget_tokens": 1024}
            if stream:
                with c.messages.stream(model=ANTHROPIC_MODEL, max_tokens=2048, messages=msgs(trigger), **extra) as s:
                    streamed = "".join(s.text_stream)
                    out = summarize_anthropic_message(s.get_final_message())
                out["streamed_text"] = streamed
                return out
            m = c.messages.create(model=ANTHROPIC_MODEL, max_tokens=2048, messages=msgs(trigger), **extra)
            return summarize_anthropic_message(m)

    return call


def gemini_call(trigger: str, stream: bool = False, tools: bool = False, thinking: bool = False, vertex: bool = False) -> Any:
    def call(url: str) -> Any:
        c = gem(url, vertex)
        cfg: dict[str, Any] = {}
        if tools:
            decl = gtypes.FunctionDeclaration(name="get_weather", description="Weather", parameters_json_schema=WEATHER_PARAMS)
            cfg["tools"] = [gtypes.Tool(function_declarations=[decl])]
            cfg["automatic_function_calling"] = gtypes.AutomaticFunctionCallingConfig(disable=True)
        if thinking:
            cfg["thinking_config"] = gtypes.ThinkingConfig(include_thoughts=True)
        config = gtypes.GenerateContentConfig(**cfg) if cfg else None
        if stream:
            return summarize_gemini_stream(c.models.generate_content_stream(model=GEMINI_MODEL, contents=trigger, config=config))
        return summarize_gemini(c.models.generate_content(model=GEMINI_MODEL, contents=trigger, config=config))

    return call


def gemini_embed(text: str) -> Any:
    def call(url: str) -> Any:
        c = gem(url)
        r = c.models.embed_content(model="gemini-embedding-001", contents=text)
        return {"vectors": [e.values for e in r.embeddings]}

    return call


def converse(trigger: str, stream: bool = False, tools: bool = False) -> Any:
    def call(url: str) -> Any:
        c = bedrock(url)
        extra: dict[str, Any] = {"toolConfig": BEDROCK_TOOLS} if tools else {}
        messages = [{"role": "user", "content": [{"text": trigger}]}]
        if stream:
            return summarize_converse_stream(c.converse_stream(modelId=BEDROCK_MODEL, messages=messages, **extra))
        return summarize_converse(c.converse(modelId=BEDROCK_MODEL, messages=messages, **extra))

    return call


def invoke(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        c = bedrock(url)
        body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": msgs(trigger)})
        if stream:
            r = c.invoke_model_with_response_stream(modelId=BEDROCK_MODEL, body=body, contentType="application/json")
            return summarize_anthropic_events(json.loads(ev["chunk"]["bytes"]) for ev in r["body"])
        r = c.invoke_model(modelId=BEDROCK_MODEL, body=body, contentType="application/json", accept="application/json")
        msg = json.loads(r["body"].read())
        return {"blocks": msg["content"], "stop_reason": msg["stop_reason"]}

    return call


def ollama_chat(trigger: str, stream: bool = False, tools: bool = False, think: bool = False) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            extra: dict[str, Any] = {}
            if tools:
                extra["tools"] = [OPENAI_TOOL]
            if think:
                extra["think"] = True
            model = "qwen3" if think else OLLAMA_MODEL
            r = c.chat(model=model, messages=msgs(trigger), stream=stream, **extra)
            return summarize_ollama_chat_stream(r) if stream else summarize_ollama_chat(r)

    return call


def ollama_generate(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            r = c.generate(model=OLLAMA_MODEL, prompt=trigger, stream=stream)
            if stream:
                parts = list(r)
                return {"text": "".join(p.response for p in parts), "done_reason": parts[-1].done_reason}
            return {"text": r.response, "done_reason": r.done_reason}

    return call


def ollama_embed(text: str) -> Any:
    def call(url: str) -> Any:
        with olla(url) as c:
            return {"vectors": [list(e) for e in c.embed(model="nomic-embed-text", input=text).embeddings]}

    return call


def cohere_chat(trigger: str, stream: bool = False, tools: bool = False) -> Any:
    def call(url: str) -> Any:
        c = co(url)
        extra: dict[str, Any] = {"tools": [OPENAI_TOOL]} if tools else {}
        if stream:
            return summarize_cohere_stream(
                c.chat_stream(model=COHERE_MODEL, messages=msgs(trigger), request_options=NO_RETRIES, **extra)
            )
        return summarize_cohere_chat(c.chat(model=COHERE_MODEL, messages=msgs(trigger), request_options=NO_RETRIES, **extra))

    return call


def cohere_embed(text: str) -> Any:
    def call(url: str) -> Any:
        r = co(url).embed(
            model="embed-v4.0", texts=[text], input_type="search_query", embedding_types=["float"], request_options=NO_RETRIES
        )
        return {"vectors": r.embeddings.float_}

    return call


def mistral_chat(trigger: str, stream: bool = False) -> Any:
    def call(url: str) -> Any:
        with Mistral(api_key=SECRET, server_url=url, timeout_ms=int(REQUEST_TIMEOUT_S * 1000)) as m:
            if stream:
                text, finish = [], None
                for ev in m.chat.stream(model="mistral-large-latest", messages=msgs(trigger)):
                    ch = ev.data.choices[0]
                    text.append(ch.delta.content or "")
                    finish = ch.finish_reason or finish
                return {"text": "".join(text), "finish_reason": str(finish)}
            r = m.chat.complete(model="mistral-large-latest", messages=msgs(trigger))
            return {"text": r.choices[0].message.content, "finish_reason": str(r.choices[0].finish_reason)}

    return call


# --------------------------------------------------------------------------- cases

PARIS = {"city": "Paris", "unit": "celsius"}

CASES = [
    # OpenAI chat completions, Responses and embeddings
    Case("openai-chat", "openai", openai_chat("[rec-openai-plain]"), "[rec-openai-plain]",
         expect={"text": "Recorded plain reply from the OpenAI upstream.", "finish_reason": "stop"}),
    Case("openai-chat-stream", "openai", openai_chat("[rec-openai-stream]", stream=True), "[rec-openai-stream]", stream=True,
         expect={"text": "Streamed from upstream: the quick brown fox jumps over the lazy dog."}),
    Case("openai-chat-tool", "openai", openai_chat("[rec-openai-tool]", tools=True), "[rec-openai-tool]",
         expect={"tool_calls": [{"id": "call_rec_weather_1", "name": "get_weather", "arguments": PARIS}], "finish_reason": "tool_calls"}),
    Case("openai-chat-tool-stream", "openai", openai_chat("[rec-openai-tool-stream]", stream=True, tools=True),
         "[rec-openai-tool-stream]", stream=True, expect={"text": "Checking both cities.", "finish_reason": "tool_calls"}),
    Case("openai-chat-length", "openai", openai_chat("[rec-openai-length]"), "[rec-openai-length]",
         expect={"text": "Cut short", "finish_reason": "length"}),
    Case("openai-embeddings", "openai", openai_embed("[rec-openai-embed] some text"), "[rec-openai-embed]",
         expect={"vectors": [[0.125, -0.25, 0.5, -0.75, 1.0]]}),
    Case("responses", "openai", responses("[rec-responses-plain]"), "[rec-responses-plain]",
         expect={"text": "Recorded Responses answer.", "status": "completed"}),
    Case("responses-stream", "openai", responses("[rec-responses-stream]", stream=True), "[rec-responses-stream]", stream=True,
         expect={"text": "Responses events stream one delta at a time.", "streamed_text": "Responses events stream one delta at a time."}),
    Case("responses-tool", "openai", responses("[rec-responses-tool]", tools=True), "[rec-responses-tool]",
         expect={"tool_calls": [{"call_id": "call_rec_resp_1", "name": "get_weather", "arguments": {"city": "Rome"}}]}),
    Case("responses-tool-stream", "openai", responses("[rec-responses-tool-stream]", stream=True, tools=True),
         "[rec-responses-tool-stream]", stream=True,
         expect={"tool_calls": [{"call_id": "call_rec_resp_2", "name": "get_weather", "arguments": {"city": "Kyoto", "unit": "celsius"}}]}),
    Case("responses-reasoning-stream", "openai", responses("[rec-responses-reasoning]", stream=True), "[rec-responses-reasoning]",
         stream=True, expect={"text": "The sky is blue.", "reasoning": "Blue light scatters the most."}),
    # Azure OpenAI
    Case("azure-chat", "azure", openai_chat("[rec-azure-plain]", client=azure), "[rec-azure-plain]",
         expect={"text": "Recorded from the Azure deployment."}),
    Case("azure-chat-stream", "azure", openai_chat("[rec-azure-stream]", stream=True, client=azure), "[rec-azure-stream]",
         stream=True, expect={"text": "Azure streams arrive in slices too."}),
    Case("azure-embeddings", "azure", openai_embed("[rec-azure-embed] text", client=azure), "[rec-azure-embed]",
         expect={"vectors": [[0.5, 0.25, -0.125]]}),
    # OpenRouter and Mistral (OpenAI-shaped)
    Case("openrouter-chat", "openrouter", openai_chat("[rec-openrouter-plain]", client=router), "[rec-openrouter-plain]",
         expect={"text": "Recorded through OpenRouter."}),
    Case("openrouter-chat-stream", "openrouter", openai_chat("[rec-openrouter-stream]", stream=True, client=router),
         "[rec-openrouter-stream]", stream=True, expect={"text": "OpenRouter streams, recorded."}),
    Case("mistral-chat", "openai", mistral_chat("[rec-mistral-plain]"), "[rec-mistral-plain]",
         expect={"text": "Bonjour, recorded from upstream."}),
    Case("mistral-chat-stream", "openai", mistral_chat("[rec-mistral-stream]", stream=True), "[rec-mistral-stream]",
         stream=True, expect={"text": "Mistral streams, recorded."}),
    # Anthropic Messages
    Case("anthropic", "anthropic", anthropic_call("[rec-anthropic-plain]"), "[rec-anthropic-plain]",
         expect={"blocks": [{"type": "text", "text": "Recorded plain reply from the Anthropic upstream."}], "stop_reason": "end_turn"}),
    Case("anthropic-stream", "anthropic", anthropic_call("[rec-anthropic-stream]", stream=True), "[rec-anthropic-stream]",
         stream=True, expect={"streamed_text": "One, two, three, four, five, six."}),
    Case("anthropic-tool", "anthropic", anthropic_call("[rec-anthropic-tool]", tools=True), "[rec-anthropic-tool]",
         expect={"blocks": [{"type": "text", "text": "Let me look that up."},
                            {"type": "tool_use", "id": "toolu_rec_1", "name": "get_weather", "input": PARIS}],
                 "stop_reason": "tool_use"}),
    Case("anthropic-tool-stream", "anthropic", anthropic_call("[rec-anthropic-tool-stream]", stream=True, tools=True),
         "[rec-anthropic-tool-stream]", stream=True,
         expect={"blocks": [{"type": "tool_use", "id": "toolu_rec_2", "name": "get_weather", "input": {"city": "Cairo"}}]}),
    Case("anthropic-thinking", "anthropic", anthropic_call("[rec-anthropic-thinking]", thinking=True), "[rec-anthropic-thinking]",
         expect={"blocks": [{"type": "thinking", "thinking": "Six sevens are forty-two.", "signature": "EqQBsig-recorded-upstream"},
                            {"type": "text", "text": "42"}]}),
    Case("anthropic-thinking-stream", "anthropic", anthropic_call("[rec-anthropic-thinking-stream]", stream=True, thinking=True),
         "[rec-anthropic-thinking-stream]", stream=True,
         expect={"blocks": [{"type": "thinking", "thinking": "Seven eights are fifty-six.", "signature": "EqQBsig-recorded-stream"},
                            {"type": "text", "text": "56"}]}),
    # Gemini and Vertex AI (google-genai)
    Case("gemini", "gemini", gemini_call("[rec-gemini-plain]"), "[rec-gemini-plain]",
         expect={"text": "Recorded plain reply from the Gemini upstream.", "finish_reason": "FinishReason.STOP"}),
    Case("gemini-stream", "gemini", gemini_call("[rec-gemini-stream]", stream=True), "[rec-gemini-stream]", stream=True,
         expect={"text": "Gemini streams slice by slice, recorded."}),
    Case("gemini-tool", "gemini", gemini_call("[rec-gemini-tool]", tools=True), "[rec-gemini-tool]",
         expect={"function_calls": [{"id": "call_rec_gemini_1", "name": "get_weather", "args": {"city": "Lagos"}}]}),
    Case("gemini-tool-stream", "gemini", gemini_call("[rec-gemini-tool-stream]", stream=True, tools=True), "[rec-gemini-tool-stream]",
         stream=True, expect={"function_calls": [{"id": "call_rec_gemini_2", "name": "get_weather", "args": {"city": "Quito", "unit": "celsius"}}]}),
    Case("gemini-thinking-stream", "gemini", gemini_call("[rec-gemini-think]", stream=True, thinking=True), "[rec-gemini-think]",
         stream=True, expect={"text": "42", "thoughts": "The user wants a number. Six times seven."}),
    Case("gemini-embed", "gemini", gemini_embed("[rec-gemini-embed] text"), "[rec-gemini-embed]",
         expect={"vectors": [[0.25, -0.5, 0.75, 1.0]]}),
    Case("vertex", "vertexai", gemini_call("[rec-vertex-plain]", vertex=True), "[rec-vertex-plain]",
         expect={"text": "Recorded from the Vertex upstream."}),
    Case("vertex-stream", "vertexai", gemini_call("[rec-vertex-stream]", stream=True, vertex=True), "[rec-vertex-stream]",
         stream=True, expect={"text": "Vertex streams, recorded and replayed."}),
    # Bedrock (boto3)
    Case("bedrock-converse", "bedrock", converse("[rec-bedrock-plain]"), "[rec-bedrock-plain]",
         expect={"blocks": [{"text": "Recorded plain reply from the Bedrock upstream."}], "stop_reason": "end_turn"}),
    Case("bedrock-converse-stream", "bedrock", converse("[rec-bedrock-stream]", stream=True), "[rec-bedrock-stream]", stream=True,
         expect={"blocks": [{"text": "Bedrock event streams, recorded frame by frame."}], "stop_reason": "end_turn"}),
    Case("bedrock-converse-tool", "bedrock", converse("[rec-bedrock-tool]", tools=True), "[rec-bedrock-tool]",
         expect={"blocks": [{"toolUse": {"id": "tooluse_rec_1", "name": "get_weather", "input": {"city": "Lima"}}}], "stop_reason": "tool_use"}),
    Case("bedrock-converse-tool-stream", "bedrock", converse("[rec-bedrock-tool-stream]", stream=True, tools=True),
         "[rec-bedrock-tool-stream]", stream=True,
         expect={"blocks": [{"text": "One moment."},
                            {"toolUse": {"id": "tooluse_rec_2", "name": "get_weather", "input": {"city": "Nairobi", "unit": "celsius"}}}],
                 "stop_reason": "tool_use"}),
    Case("bedrock-converse-reasoning-stream", "bedrock", converse("[rec-bedrock-think]", stream=True), "[rec-bedrock-think]",
         stream=True,
         expect={"blocks": [{"reasoningContent": {"reasoningText": {"text": "Six times seven is forty-two.", "signature": "sig-rec-bedrock"}}},
                            {"text": "The answer is 42."}]}),
    Case("bedrock-invoke", "bedrock", invoke("[rec-bedrock-invoke]"), "[rec-bedrock-invoke]",
         expect={"blocks": [{"type": "text", "text": "Recorded InvokeModel reply."}], "stop_reason": "end_turn"}),
    Case("bedrock-invoke-stream", "bedrock", invoke("[rec-bedrock-invoke-stream]", stream=True), "[rec-bedrock-invoke-stream]",
         stream=True, expect={"blocks": [{"type": "text", "text": "InvokeModel streams Anthropic events."}], "stop_reason": "end_turn"}),
    # Ollama
    Case("ollama-chat", "ollama", ollama_chat("[rec-ollama-plain]"), "[rec-ollama-plain]",
         expect={"text": "Recorded plain reply from the Ollama upstream.", "done_reason": "stop"}),
    Case("ollama-chat-stream", "ollama", ollama_chat("[rec-ollama-stream]", stream=True), "[rec-ollama-stream]", stream=True,
         expect={"text": "Ollama streams NDJSON lines.", "done_reason": "stop"}),
    Case("ollama-chat-tool", "ollama", ollama_chat("[rec-ollama-tool]", tools=True), "[rec-ollama-tool]",
         expect={"tool_calls": [{"name": "get_weather", "arguments": {"city": "Accra"}}]}),
    Case("ollama-chat-thinking-stream", "ollama", ollama_chat("[rec-ollama-think]", stream=True, think=True), "[rec-ollama-think]",
         stream=True, expect={"text": "42", "thinking": "Six times seven is 42."}),
    Case("ollama-generate", "ollama", ollama_generate("[rec-ollama-generate]"), "[rec-ollama-generate]",
         expect={"text": "Generated text, recorded."}),
    Case("ollama-generate-stream", "ollama", ollama_generate("[rec-ollama-generate-stream]", stream=True),
         "[rec-ollama-generate-stream]", stream=True, expect={"text": "Generated and streamed, recorded."}),
    Case("ollama-embed", "ollama", ollama_embed("[rec-ollama-embed] text"), "[rec-ollama-embed]",
         expect={"vectors": [[0.25, -0.5, 0.75]]}),
    # Cohere v2
    Case("cohere-chat", "cohere", cohere_chat("[rec-cohere-plain]"), "[rec-cohere-plain]",
         expect={"text": "Recorded plain reply from the Cohere upstream.", "finish_reason": "COMPLETE"}),
    Case("cohere-chat-stream", "cohere", cohere_chat("[rec-cohere-stream]", stream=True), "[rec-cohere-stream]", stream=True,
         expect={"text": "Cohere streams typed events.", "finish_reason": "COMPLETE"}),
    Case("cohere-chat-tool", "cohere", cohere_chat("[rec-cohere-tool]", tools=True), "[rec-cohere-tool]",
         expect={"tool_calls": [{"id": "call_rec_cohere_1", "name": "get_weather", "arguments": {"city": "Dakar"}}],
                 "finish_reason": "TOOL_CALL"}),
    Case("cohere-chat-tool-stream", "cohere", cohere_chat("[rec-cohere-tool-stream]", stream=True, tools=True),
         "[rec-cohere-tool-stream]", stream=True,
         expect={"tool_calls": [{"id": "call_rec_cohere_2", "name": "get_weather", "arguments": {"city": "Tunis"}}]}),
    Case("cohere-chat-thinking-stream", "cohere", cohere_chat("[rec-cohere-think]", stream=True), "[rec-cohere-think]",
         stream=True, expect={"text": "42", "thinking": "6 times 7 is 42."}),
    Case("cohere-embed", "cohere", cohere_embed("[rec-cohere-embed] text"), "[rec-cohere-embed]",
         expect={"vectors": [[0.25, -0.5, 0.75]]}),
]  # fmt: skip

IDS = [c.id for c in CASES]
BY_ID = {c.id: c for c in CASES}

# Cases the server does not record or replay correctly yet: id -> reason (pytest.mark.xfail(strict=True)).
KNOWN_SERVER_GAPS: dict[str, str] = {}


def case_params() -> list[Any]:
    out = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_SERVER_GAPS[c.id])] if c.id in KNOWN_SERVER_GAPS else []
        out.append(pytest.param(c.id, id=c.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordRun]:
    yield record_and_replay(CASES, tmp_path_factory.mktemp("record-sdk"))


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case_id", case_params())
def test_the_sdk_answer_through_the_recording_server_is_the_upstreams(run: RecordRun, case_id: str) -> None:
    o = run.outcomes[case_id]
    direct = o.get("direct")
    partial_match(direct, BY_ID[case_id].expect)
    assert o.get("recorded") == direct
    assert o.upstream_calls_recording == 1, "the first call through the recording server goes upstream once"


@pytest.mark.parametrize("case_id", case_params())
def test_a_second_identical_call_is_answered_from_the_recording_without_the_upstream(run: RecordRun, case_id: str) -> None:
    o = run.outcomes[case_id]
    assert o.get("second") == o.get("recorded")
    assert o.upstream_calls_second == 0, "the second identical call reached the upstream"


@pytest.mark.parametrize("case_id", case_params())
def test_after_a_restart_without_upstream_the_sdk_sees_the_recorded_answer(run: RecordRun, case_id: str) -> None:
    o = run.outcomes[case_id]
    assert o.get("replayed") == o.get("recorded")


def test_every_provider_left_a_fixture_file_under_recorded(run: RecordRun) -> None:
    files = json_files(run.dir / "recorded")
    names = [p.name for p in files]
    for provider in sorted({c.provider for c in CASES}):
        assert any(n.startswith(provider + "-") for n in names), f"no recording for {provider} in {names}"
    # Nothing but finished recordings: no temporary or half-written file is left behind.
    for p in run.files_after_recording:
        if p.suffix == ".json":
            json.loads(p.read_text("utf-8"))


def test_each_recording_matches_on_the_user_message_and_streams_keep_their_timings(run: RecordRun) -> None:
    fixtures = recorded_fixtures(run.dir / "recorded")
    missing = [c.trigger for c in CASES if fixture_mentioning(fixtures, c.trigger) is None]
    assert not missing, f"no recorded fixture matches on {missing}"
    untimed = []
    for c in CASES:
        fx = fixture_mentioning(fixtures, c.trigger)
        if c.stream and fx is not None and not fx.get("recordedTimings"):
            untimed.append(c.id)
    assert not untimed, f"streamed recordings without recordedTimings: {untimed}"


def test_no_recorded_file_and_no_journal_entry_holds_the_api_key(run: RecordRun) -> None:
    assert run.files_after_recording, "nothing was recorded"
    assert files_containing(run.dir, SECRET_MARK) == []
    assert run.recorder_journal, "the recording server's journal was not read"
    assert SECRET_MARK not in run.recorder_journal
    assert SECRET not in run.recorder_output


def test_replayed_files_are_plain_fixture_files_that_validate(run: RecordRun) -> None:
    r = subprocess.run(
        [str(aimock_bin()), "validate", str(run.dir / "recorded")], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
