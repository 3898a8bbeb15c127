// The seed article's second MCPMock example: mounted on an LLMock so both share one port (5555,
// as in the article), driven by the official MCP and OpenAI clients.
import OpenAI from "openai";
import { afterAll, expect, it } from "vitest";
import { connect, text } from "./mcp-client.js";

import { LLMock, MCPMock } from "aimock-rs";

const llm = new LLMock({ port: 5555 });
const mcp = new MCPMock();

mcp.addTool({ name: "calc", description: "Calculator" });
mcp.onToolCall("calc", (args) => "42");

llm.mount("/mcp", mcp);
await llm.start();
// MCP available at http://127.0.0.1:5555/mcp

afterAll(async () => {
  await llm.stop();
});

it("serves MCP at /mcp of the LLM port", async () => {
  expect(llm.url).toBe("http://127.0.0.1:5555");
  const client = await connect("http://127.0.0.1:5555/mcp");
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(["calc"]);
  expect(text(await client.callTool({ name: "calc", arguments: { expr: "6*7" } }))).toBe("42");
  await client.close();
});

it("tools added after start reach the running server", async () => {
  mcp.addTool({ name: "echo", description: "Echo" });
  mcp.onToolCall("echo", [{ type: "text", text: "static reply" }]);
  const client = await connect(`${llm.url}/mcp`);
  expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["calc", "echo"]);
  expect(text(await client.callTool({ name: "echo", arguments: {} }))).toBe("static reply");
  await client.close();
});

it("the LLM routes answer on the same port", async () => {
  llm.onMessage("hello", { content: "hi from the same port" });
  const openai = new OpenAI({ baseURL: `${llm.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const r = await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hello" }] });
  expect(r.choices[0]!.message.content).toBe("hi from the same port");
  expect(llm.getRequests({ service: "mcp" }).length).toBeGreaterThan(0);
});
