// MCPMock: an MCP server (Streamable HTTP) mock. Tool handlers are functions of the arguments,
// served through the callback hub: the server POSTs {kind: "mcp.tool", name, arguments} and
// renders what the function returns (a string, content items, or a whole CallToolResult).
import { callbackRef, hub } from "./callbacks.js";
import { ServiceMock, type ServiceOptions } from "./service.js";

export interface MCPToolDefinition {
  name: string;
  description?: string;
  title?: string;
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  [k: string]: unknown;
}

export type MCPContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; text?: string; blob?: string; mimeType?: string } }
  | Record<string, unknown>;

export type MCPToolResult = string | MCPContent[] | { content: MCPContent[]; isError?: boolean; structuredContent?: unknown };

export type MCPToolHandler = (args: Record<string, unknown>) => MCPToolResult | Promise<MCPToolResult>;

export interface MCPResourceDefinition {
  uri: string;
  name?: string;
  description?: string;
  mimeType?: string;
}

export interface MCPResourceContent {
  text?: string;
  blob?: string;
  mimeType?: string;
}

export interface MCPPromptDefinition {
  name: string;
  description?: string;
  arguments?: Array<{ name: string; description?: string; required?: boolean }>;
}

export interface MCPPromptResult {
  messages: Array<{ role: string; content: unknown }>;
  description?: string;
}

export interface MCPMockOptions extends ServiceOptions {
  serverInfo?: { name: string; version: string };
}

interface Tool {
  def: MCPToolDefinition;
  handler?: { id: string };
  result?: MCPToolResult;
}

/** What a tool function answers, as a CallToolResult. */
function toResult(value: MCPToolResult | undefined | null): unknown {
  if (value === undefined || value === null) return { content: [], isError: false };
  if (typeof value === "string") return { content: [{ type: "text", text: value }], isError: false };
  if (Array.isArray(value)) return { content: value, isError: false };
  if (typeof value === "object" && Array.isArray((value as { content?: unknown }).content)) return value;
  return { content: [{ type: "text", text: JSON.stringify(value) }], isError: false };
}

export class MCPMock extends ServiceMock {
  readonly kind = "mcp" as const;
  protected readonly defaultPath = "/mcp";
  private tools: Tool[] = [];
  private resources: Array<Record<string, unknown>> = [];
  private prompts: Array<Record<string, unknown>> = [];

  constructor(private readonly mcpOptions: MCPMockOptions = {}) {
    super(mcpOptions);
  }

  addTool(def: MCPToolDefinition): this {
    const existing = this.tools.find((t) => t.def.name === def.name);
    if (existing) existing.def = def;
    else this.tools.push({ def });
    this.pushTool(def.name);
    return this;
  }

  /** Answer calls of `name` with `handler(args)`; makes the tool if it is not defined yet. */
  onToolCall(name: string, handler: MCPToolHandler | MCPToolResult): this {
    let tool = this.tools.find((t) => t.def.name === name);
    if (!tool) {
      tool = { def: { name } };
      this.tools.push(tool);
    }
    if (tool.handler) hub.unregister(tool.handler.id);
    tool.handler = undefined;
    tool.result = undefined;
    if (typeof handler === "function") {
      const fn = handler;
      const id = hub.register(
        async (p: { arguments?: Record<string, unknown> }) => toResult(await fn(p.arguments ?? {})),
        (err) => ({
          status: 200,
          body: { content: [{ type: "text", text: err instanceof Error ? err.message : String(err) }], isError: true },
        }),
      );
      tool.handler = { id };
    } else {
      tool.result = handler;
    }
    this.pushTool(name);
    return this;
  }

  addResource(def: MCPResourceDefinition, content: MCPResourceContent = {}): this {
    const r = { ...def, ...content };
    this.resources = this.resources.filter((x) => x.uri !== def.uri).concat([r]);
    if (this.live) this.control("POST", "/resources", r);
    return this;
  }

  /** A prompt; its result is an object (functions cannot be served for prompts). */
  addPrompt(def: MCPPromptDefinition, result?: MCPPromptResult): this {
    if (typeof result === "function") {
      throw new TypeError("aimock-rs: MCPMock prompt handlers must be a result object, not a function");
    }
    const p: Record<string, unknown> = { ...def };
    if (result !== undefined) p.result = result;
    this.prompts = this.prompts.filter((x) => x.name !== def.name).concat([p]);
    if (this.live) this.control("POST", "/prompts", p);
    return this;
  }

  getSessions(): unknown {
    if (!this.live) return [];
    const s = this.control("GET", "") as { sessions?: unknown };
    return s.sessions ?? [];
  }

  /** Remove every tool, resource and prompt. */
  reset(): this {
    const live = this.live;
    for (const t of this.tools) {
      if (t.handler) hub.unregister(t.handler.id);
      if (live) this.control("DELETE", `/tools/${encodeURIComponent(t.def.name)}`);
    }
    for (const r of this.resources) if (live) this.control("DELETE", `/resources?uri=${encodeURIComponent(String(r.uri))}`);
    for (const p of this.prompts) if (live) this.control("DELETE", `/prompts/${encodeURIComponent(String(p.name))}`);
    this.tools = [];
    this.resources = [];
    this.prompts = [];
    return this;
  }

  section(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      tools: this.tools.map((t) => this.toolJson(t)),
      resources: this.resources,
      prompts: this.prompts,
    };
    if (this.mcpOptions.serverInfo) s.serverInfo = this.mcpOptions.serverInfo;
    return s;
  }

  private toolJson(t: Tool): Record<string, unknown> {
    const j: Record<string, unknown> = { ...t.def };
    if (t.handler) j.callback = callbackRef(t.handler.id);
    else if (t.result !== undefined) j.result = toResult(t.result);
    else j.result = { content: [], isError: false };
    return j;
  }

  private pushTool(name: string): void {
    if (!this.live) return;
    const t = this.tools.find((x) => x.def.name === name)!;
    this.control("POST", "/tools", this.toolJson(t));
  }
}
