// What a running server cannot change in place: a mount added after start, and recording. The
// server starts again on the same port with the fixtures the library holds.
import OpenAI from "openai";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect } from "./mcp-client.js";

import { LLMock, MCPMock } from "aimock-rs";

const upstream = new LLMock();
const mock = new LLMock();

beforeAll(async () => {
  await upstream.start();
  upstream.onMessage("upstream", { content: "answered upstream" });
  await mock.start();
  mock.onMessage("local", { content: "answered locally" });
});

afterAll(async () => {
  await mock.stop();
  await upstream.stop();
});

const ask = (content: string) =>
  new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 }).chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content }],
  });

it("mount after start: same port, fixtures kept, the service served", async () => {
  const port = mock.port;
  const mcp = new MCPMock();
  mcp.addTool({ name: "late" });
  mock.mount("/mcp", mcp);
  await mock.start();
  expect(mock.port).toBe(port);
  expect((await ask("local")).choices[0]!.message.content).toBe("answered locally");
  const client = await connect(`${mock.url}/mcp`);
  expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["late"]);
  await client.close();
});

it("enableRecording: a miss goes to the provider and is recorded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aimock-rs-rec-"));
  await mock.enableRecording({ providers: { openai: upstream.url }, fixturePath: dir });
  expect((await ask("upstream please")).choices[0]!.message.content).toBe("answered upstream");
  expect((await ask("local")).choices[0]!.message.content).toBe("answered locally");
  // Recorded into fixturePath, as aimock does.
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/^openai.*\.json$/);
  await mock.disableRecording();
  // Recording off: a miss is a 404 again.
  const err = await ask("something else").catch((e) => e);
  expect(err.status).toBe(404);
});
