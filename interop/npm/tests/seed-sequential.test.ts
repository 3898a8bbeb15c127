// The seed article's sequential responses (the same prompt answered differently on each call),
// the fixtures as written there, loaded from a file and with addFixtures, driven by the OpenAI client.
import OpenAI from "openai";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";

import { LLMock } from "aimock-rs";

const fixtures = [
  { "match": { "userMessage": "retry", "sequenceIndex": 0 }, "response": { "content": "First attempt" } },
  { "match": { "userMessage": "retry", "sequenceIndex": 1 }, "response": { "content": "Second attempt" } },
  { "match": { "userMessage": "retry" }, "response": { "content": "Fallback" } }
];

const mock = new LLMock();
let openai: OpenAI;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "aimock-rs-seq-"));
  writeFileSync(join(dir, "retry.json"), JSON.stringify(fixtures));
  mock.loadFixtureFile(join(dir, "retry.json"));
  await mock.start();
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

afterAll(async () => {
  await mock.stop();
});

const ask = async () =>
  (await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "retry" }] })).choices[0]!.message.content;

it("answers in sequence, then the fallback", async () => {
  expect(await ask()).toBe("First attempt");
  expect(await ask()).toBe("Second attempt");
  expect(await ask()).toBe("Fallback");
  expect(await ask()).toBe("Fallback");
});

it("resetMatchCounts starts the sequence again", async () => {
  mock.resetMatchCounts();
  expect(await ask()).toBe("First attempt");
  expect(await ask()).toBe("Second attempt");
});

it("the same fixtures with addFixtures, counted per X-Test-Id", async () => {
  mock.reset();
  mock.addFixtures(fixtures);
  const as = async (testId: string) =>
    (
      await openai.chat.completions.create(
        { model: "gpt-4o", messages: [{ role: "user", content: "retry" }] },
        { headers: { "X-Test-Id": testId } },
      )
    ).choices[0]!.message.content;
  expect(await as("a")).toBe("First attempt");
  expect(await as("b")).toBe("First attempt");
  expect(await as("a")).toBe("Second attempt");
  expect(await as("a")).toBe("Fallback");
});
