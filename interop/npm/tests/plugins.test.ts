// useAimock (aimock-rs/vitest) in a real vitest suite: the server runs for the suite, the OpenAI
// and Anthropic SDKs find it through OPENAI_BASE_URL / ANTHROPIC_BASE_URL with no baseURL given.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { useAimock } from "aimock-rs/vitest";

const dir = mkdtempSync(join(tmpdir(), "aimock-rs-plugin-"));
writeFileSync(
  join(dir, "fixtures.json"),
  JSON.stringify({
    fixtures: [
      { match: { userMessage: "count", sequenceIndex: 0 }, response: { content: "one" } },
      { match: { userMessage: "count" }, response: { content: "again" } },
      { match: { userMessage: "hello" }, response: { content: "Hi from useAimock" } },
    ],
  }),
);
const before = process.env.OPENAI_BASE_URL;

const aimock = useAimock({ fixtures: dir });

describe("useAimock", () => {
  it("patches the base URLs, and the SDKs use them", async () => {
    const { url, llm } = aimock();
    expect(process.env.OPENAI_BASE_URL).toBe(`${url}/v1`);
    expect(process.env.ANTHROPIC_BASE_URL).toBe(url);
    expect(llm.url).toBe(url);
    const openai = new OpenAI({ apiKey: "sk-test", maxRetries: 0 });
    const r = await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hello" }] });
    expect(r.choices[0]!.message.content).toBe("Hi from useAimock");
    const anthropic = new Anthropic({ apiKey: "sk-ant-test", maxRetries: 0 });
    const m = await anthropic.messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hello" }] });
    expect(m.content[0]).toMatchObject({ text: "Hi from useAimock" });
  });

  it("sequences start again in each test (first)", async () => {
    const openai = new OpenAI({ apiKey: "sk-test", maxRetries: 0 });
    const say = async () => (await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "count" }] })).choices[0]!.message.content;
    expect(await say()).toBe("one");
    expect(await say()).toBe("again");
  });

  it("sequences start again in each test (second)", async () => {
    const openai = new OpenAI({ apiKey: "sk-test", maxRetries: 0 });
    const r = await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "count" }] });
    expect(r.choices[0]!.message.content).toBe("one");
  });

  it("the environment was not patched before the suite", () => {
    expect(before).not.toBe(process.env.OPENAI_BASE_URL);
  });
});
