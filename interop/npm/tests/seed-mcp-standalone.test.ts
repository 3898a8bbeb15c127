// The seed article's first MCPMock example (standalone, addTool + onToolCall with a function),
// as written there but for the import line, driven by the official MCP client.
import { afterAll, expect, it } from "vitest";
import { connect, text } from "./mcp-client.js";

import { MCPMock } from "aimock-rs/mcp";

const mcp = new MCPMock();

mcp.addTool({
  name: "search",
  description: "Search the web",
  inputSchema: { type: "object", properties: { query: { type: "string" } } },
});

mcp.onToolCall("search", (args) => {
  const { query } = args as { query: string };
  return `Found 3 results for "${query}"`;
});

const url = await mcp.start();
// point your MCP client at `url`

afterAll(async () => {
  await mcp.stop();
});

it("lists the tool and calls the function handler", async () => {
  const client = await connect(url);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(["search"]);
  expect(tools[0]!.description).toBe("Search the web");
  expect(tools[0]!.inputSchema).toMatchObject({ type: "object", properties: { query: { type: "string" } } });
  const result = await client.callTool({ name: "search", arguments: { query: "rust mocks" } });
  expect(text(result)).toBe('Found 3 results for "rust mocks"');
  expect(result.isError).toBeFalsy();
  await client.close();
});
