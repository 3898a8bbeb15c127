// Functions as responses: the library serves a loopback endpoint and registers fixtures whose
// response is a callback; the server POSTs the neutral request to it and renders the answer.
// Plain, streamed, slow (timeout), failing (error envelope), concurrent; LLM, MCP and vector.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, text } from "./mcp-client.js";

import { LLMock, MCPMock, type CallbackContext, type NeutralRequest } from "aimock-rs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastUser = (req: NeutralRequest) => {
  const m = [...(req.messages ?? [])].reverse().find((x) => x.role === "user");
  return typeof m?.content === "string" ? m.content : JSON.stringify(m?.content);
};

const llm = new LLMock();
const mcp = new MCPMock();
mcp.onToolCall("lookup", async (args) => {
  await sleep(10);
  return [{ type: "text", text: `looked up ${String(args.id)}` }];
});
mcp.onToolCall("broken", () => {
  throw new Error("the database is down");
});
llm.mount("/mcp", mcp);

let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  await llm.start();
  openai = new OpenAI({ baseURL: `${llm.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: llm.url, apiKey: "sk-ant-test", maxRetries: 0 });
});

afterAll(async () => {
  await llm.stop();
});

beforeEach(() => {
  llm.reset();
});

const ask = (content: string, opts?: OpenAI.RequestOptions) =>
  openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content }] }, opts);

describe("LLM fixtures with a function response", () => {
  it("plain: the function gets the neutral request and its reply is rendered", async () => {
    const seen: CallbackContext[] = [];
    llm.on({ userMessage: "echo" }, (req, ctx) => {
      seen.push(ctx);
      return { content: `You said: ${lastUser(req)} (model ${req.model})` };
    });
    const r = await ask("echo this please");
    expect(r.choices[0]!.message.content).toBe("You said: echo this please (model gpt-4o)");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: "llm", provider: "openai", endpoint: "chat", path: "/v1/chat/completions", stream: false });
    // Journaled like any answer.
    expect(llm.getLastRequest()!.response.status).toBe(200);
  });

  it("the same function answers the Anthropic client in Anthropic's shape", async () => {
    llm.onMessage("echo", async (req, ctx) => ({ content: `${ctx.provider}: ${lastUser(req)}` }));
    const msg = await anthropic.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 50,
      messages: [{ role: "user", content: "echo from claude" }],
    });
    expect(msg.content[0]).toMatchObject({ type: "text", text: "anthropic: echo from claude" });
  });

  it("streamed: the reply is streamed when the client asks for a stream", async () => {
    let streamed: boolean | undefined;
    llm.onMessage("story", (_req, ctx) => {
      streamed = ctx.stream;
      return { content: "Once upon a time there was a mock server." };
    }, { chunkSize: 5 });
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "tell me a story" }],
      stream: true,
    });
    const parts: string[] = [];
    for await (const c of stream) parts.push(c.choices[0]?.delta?.content ?? "");
    expect(parts.join("")).toBe("Once upon a time there was a mock server.");
    expect(parts.filter(Boolean).length).toBeGreaterThan(5);
    expect(streamed).toBe(true);
  });

  it("a function may answer tool calls and errors too", async () => {
    llm.onToolCall("get_weather", (req) => ({
      toolCalls: [{ name: "get_weather", arguments: { city: lastUser(req).split(" ").pop()! } }],
    }));
    const r = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "weather in Lyon" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    const call = r.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Lyon" });

    llm.onMessage("limit", () => ({ error: { message: "Too many", type: "rate_limit_error" }, status: 429 }));
    const err = await ask("limit me").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.message).toContain("Too many");
  });

  it("slow: past its timeout the client gets a 504 callback_timeout", async () => {
    llm.onMessage("slow", async () => {
      await sleep(2000);
      return { content: "too late" };
    }, { callbackTimeoutMs: 300 });
    const started = Date.now();
    const err = await ask("slow one").catch((e) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(504);
    expect(err.code).toBe("callback_timeout");
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1800);
  });

  it("failing: a function that throws gives a 502 callback_failed in the provider's envelope", async () => {
    llm.onMessage("boom", () => {
      throw new Error("kaboom");
    });
    const err = await ask("boom").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe("callback_failed");
    expect(err.message).toContain("kaboom");

    const aerr = await anthropic.messages
      .create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "boom" }] })
      .catch((e) => e);
    expect(aerr).toBeInstanceOf(Anthropic.APIError);
    expect(aerr.status).toBe(502);
    // Anthropic's envelope has no code: {type: "error", error: {type, message}}; the message says why.
    expect(aerr.error).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(aerr.error.error.message).toContain("kaboom");
  });

  it("failing: a reply that is not a valid response is a 502 naming the problem", async () => {
    llm.onMessage("bad reply", () => ({ text: "not a response field" }) as never);
    const err = await ask("bad reply").catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.code).toBe("callback_failed");
  });

  it("concurrency: a slow function blocks no other request, and slow ones overlap", async () => {
    llm.onMessage("slow", async () => {
      await sleep(700);
      return { content: "slow done" };
    });
    llm.onMessage("fast", () => ({ content: "fast done" }));
    const order: string[] = [];
    const slow = ask("slow").then((r) => order.push(r.choices[0]!.message.content!));
    await sleep(50);
    const started = Date.now();
    const fast = await Promise.all(Array.from({ length: 5 }, () => ask("fast")));
    const fastTook = Date.now() - started;
    order.push("fast x5");
    expect(fast.every((r) => r.choices[0]!.message.content === "fast done")).toBe(true);
    expect(fastTook).toBeLessThan(500);
    await slow;
    expect(order).toEqual(["fast x5", "slow done"]);

    const t0 = Date.now();
    const four = await Promise.all(Array.from({ length: 4 }, () => ask("slow")));
    expect(four.map((r) => r.choices[0]!.message.content)).toEqual(Array(4).fill("slow done"));
    expect(Date.now() - t0).toBeLessThan(4 * 700 * 0.75);
  });
});

describe("MCP tool functions", () => {
  it("an async function's content items", async () => {
    const client = await connect(`${llm.url}/mcp`);
    const r = await client.callTool({ name: "lookup", arguments: { id: 7 } });
    expect(text(r)).toBe("looked up 7");
    expect(r.isError).toBeFalsy();
    await client.close();
  });

  it("a function that throws is an isError result with its message", async () => {
    const client = await connect(`${llm.url}/mcp`);
    const r = await client.callTool({ name: "broken", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("the database is down");
    await client.close();
  });
});
