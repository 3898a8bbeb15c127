// LLMock driven by the official OpenAI and Anthropic clients: the convenience methods, the
// journal, one-shot errors, reset, and fixture files.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LLMock } from "aimock-rs";

let mock: LLMock;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  mock = new LLMock();
  const url = await mock.start();
  expect(url).toBe(mock.url);
  expect(mock.url).toBe(`http://127.0.0.1:${mock.port}`);
  expect(mock.baseUrl).toBe(mock.url);
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: "sk-ant-test", maxRetries: 0 });
});

afterAll(async () => {
  await mock.stop();
});

beforeEach(() => {
  mock.reset();
});

const ask = async (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content }], ...extra });

describe("LLMock with the OpenAI client", () => {
  it("onMessage with a string and a RegExp", async () => {
    mock.onMessage("weather", { content: "Sunny" });
    mock.onMessage(/^bye\b/i, { content: "Goodbye!" });
    expect((await ask("what is the weather?")).choices[0]!.message.content).toBe("Sunny");
    expect((await ask("BYE now")).choices[0]!.message.content).toBe("Goodbye!");
  });

  it("streams a reply", async () => {
    mock.onMessage("stream me", { content: "one two three four five" }, { chunkSize: 4 });
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "stream me" }],
      stream: true,
    });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? "");
    expect(parts.join("")).toBe("one two three four five");
    expect(parts.filter(Boolean).length).toBeGreaterThan(3);
  });

  it("onToolCall answers a request that declares the tool", async () => {
    // First match wins: the tool result's fixture goes first, as the second request declares the tool too.
    mock.onToolResult("call_1", { content: "It is sunny in Paris." });
    mock.onToolCall("get_weather", { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" }, id: "call_1" }] });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
    ];
    const first = await ask("weather in Paris?", { tools });
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
    const second = await openai.chat.completions.create({
      model: "gpt-4o",
      tools,
      messages: [
        { role: "user", content: "weather in Paris?" },
        first.choices[0]!.message,
        { role: "tool", tool_call_id: call.id, content: "sunny" },
      ],
    });
    expect(second.choices[0]!.message.content).toBe("It is sunny in Paris.");
  });

  it("onTurn, onJsonOutput and onEmbedding", async () => {
    mock.onTurn(1, "again", { content: "second turn" });
    mock.onTurn(0, "again", { content: "first turn" });
    mock.onJsonOutput("json please", { ok: true, n: 3 });
    mock.onEmbedding("vector me", { embedding: [0.5, 0.25, 0.125] });
    expect((await ask("again")).choices[0]!.message.content).toBe("first turn");
    const turn2 = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "again" },
      ],
    });
    expect(turn2.choices[0]!.message.content).toBe("second turn");
    const json = await ask("json please", { response_format: { type: "json_object" } });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ ok: true, n: 3 });
    const emb = await openai.embeddings.create({ model: "text-embedding-3-small", input: "vector me" });
    expect(emb.data[0]!.embedding).toEqual([0.5, 0.25, 0.125]);
  });

  it("nextRequestError fails the next request once, in OpenAI's envelope", async () => {
    mock.onMessage("hi", { content: "fine" });
    mock.nextRequestError(429, { message: "Slow down", type: "rate_limit_error", code: "rate_limited" });
    const err = await ask("hi").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.message).toContain("Slow down");
    expect((await ask("hi")).choices[0]!.message.content).toBe("fine");
  });

  it("records requests in the journal", async () => {
    mock.onMessage("journal", { content: "noted" });
    mock.clearRequests();
    await ask("journal entry");
    const all = mock.getRequests();
    expect(all).toHaveLength(1);
    const last = mock.getLastRequest()!;
    expect(last.path).toBe("/v1/chat/completions");
    expect(last.body.messages[0].content).toBe("journal entry");
    expect(last.response.status).toBe(200);
    expect(last.headers.authorization).toBe("[REDACTED]");
    mock.clearRequests();
    expect(mock.getRequests()).toEqual([]);
    expect(mock.getLastRequest()).toBeNull();
  });

  it("an unmatched request is a 404 and reset() forgets every fixture", async () => {
    mock.onMessage("gone", { content: "here" });
    expect((await ask("gone")).choices[0]!.message.content).toBe("here");
    mock.reset();
    const err = await ask("gone").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("a fixture the server rejects throws at once, naming the problem", () => {
    expect(() => mock.on({ userMessage: "x" }, { text: "oops" } as never)).toThrow(/content/);
  });

  it("loadFixtureFile and loadFixtureDir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aimock-rs-test-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify({ fixtures: [{ match: { userMessage: "from file a" }, response: { content: "A" } }] }));
    writeFileSync(join(dir, "b.json"), JSON.stringify({ fixtures: [{ match: { userMessage: "from file b" }, response: { content: "B" } }] }));
    mock.loadFixtureFile(join(dir, "a.json"));
    expect((await ask("from file a")).choices[0]!.message.content).toBe("A");
    mock.reset();
    mock.loadFixtureDir(dir);
    expect((await ask("from file b")).choices[0]!.message.content).toBe("B");
    expect(mock.getFixtures()).toHaveLength(2);
  });
});

describe("LLMock with the Anthropic client", () => {
  it("answers messages, plain and streamed", async () => {
    mock.onMessage("claude", { content: "Hello from the mock" });
    const msg = await anthropic.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi claude" }],
    });
    expect(msg.content[0]).toMatchObject({ type: "text", text: "Hello from the mock" });
    const stream = anthropic.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi claude" }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: "text", text: "Hello from the mock" });
  });
});
