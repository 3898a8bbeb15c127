// The seed article's chaos examples (setChaos / clearChaos; a per-request header), as written
// there but for the import line, then with rates of 1 to see each action through the OpenAI client.
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";

import { LLMock } from "aimock-rs";

const mock = new LLMock();
mock.setChaos({
  dropRate: 0.1,        // 10% of requests return 500
  malformedRate: 0.05,  // 5% return broken JSON
  disconnectRate: 0.02, // 2% drop the connection
});

let openai: OpenAI;

beforeAll(async () => {
  await mock.start();
  mock.onMessage("hello", { content: "Hello!" });
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

afterAll(async () => {
  await mock.stop();
});

const ask = () => openai.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: "hello" }] });

it("the rates set before start are in force", async () => {
  const res = await fetch(`${mock.url}/__aimock/chaos`);
  expect((await res.json()).chaos).toMatchObject({ dropRate: 0.1, malformedRate: 0.05, disconnectRate: 0.02 });
});

it("a drop rate of 1 fails every request with a 500 in OpenAI's envelope", async () => {
  mock.setChaos({ dropRate: 1 });
  const err = await ask().catch((e) => e);
  expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  expect(err.status).toBe(500);
  expect(err.code).toBe("chaos_drop");
  expect(mock.getLastRequest()!.response.chaosAction).toBe("drop");
});

it("clearChaos: requests succeed again", async () => {
  // remove all chaos later
  mock.clearChaos();
  expect((await ask()).choices[0]!.message.content).toBe("Hello!");
});

it("a malformed rate of 1 answers a body that is not JSON", async () => {
  mock.setChaos({ malformedRate: 1 });
  const err = await ask().catch((e) => e);
  expect(err).toBeInstanceOf(Error);
  mock.clearChaos();
});

it("the per-request header forces a disconnect", async () => {
  // Force 100% disconnect on this specific request
  const err = await fetch(`${mock.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "x-aimock-chaos-disconnect": "1.0",
    },
    body: JSON.stringify({ model: "gpt-4", messages: [{ role: "user", content: "hello" }] }),
  }).catch((e) => e);
  expect(err).toBeInstanceOf(TypeError);
  expect((await ask()).choices[0]!.message.content).toBe("Hello!");
});
