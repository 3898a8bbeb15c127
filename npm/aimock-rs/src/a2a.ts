// A2AMock: agents with cards, message and task fixtures, and streamed tasks (A2A v1.0 JSON-RPC;
// the server also answers v0.3 method names and the REST binding).
import { ServiceMock, type ServiceOptions } from "./service.js";
import type { Pattern } from "./wire.js";

export interface A2AAgentDefinition {
  name: string;
  description?: string;
  version?: string;
  skills?: Array<{ id: string; name?: string; description?: string; tags?: string[]; [k: string]: unknown }>;
  capabilities?: { streaming?: boolean; pushNotifications?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

export type A2APart = { text: string } | { data: unknown; mediaType?: string } | { url: string; mediaType?: string } | Record<string, unknown>;

export interface A2AArtifact {
  parts: A2APart[];
  name?: string;
  [k: string]: unknown;
}

export type A2AStreamEvent =
  | { type: "status"; state: string; [k: string]: unknown }
  | { type: "artifact"; parts: A2APart[]; name?: string; append?: boolean; lastChunk?: boolean; [k: string]: unknown };

function pattern(p: Pattern): unknown {
  if (typeof p === "string") return p;
  return { regex: (p.flags.includes("i") ? "(?i)" : "") + (p.flags.includes("s") ? "(?s)" : "") + p.source };
}

interface Agent {
  def: A2AAgentDefinition;
  messages: unknown[];
  tasks: unknown[];
  streamingTasks: unknown[];
}

export class A2AMock extends ServiceMock {
  readonly kind = "a2a" as const;
  protected readonly defaultPath = "/a2a";
  private agents: Agent[] = [];

  constructor(options: ServiceOptions = {}) {
    super(options);
  }

  registerAgent(def: A2AAgentDefinition): this {
    const agent: Agent = { def, messages: [], tasks: [], streamingTasks: [] };
    this.agents = this.agents.filter((a) => a.def.name !== def.name).concat([agent]);
    if (this.live) this.control("POST", "/agents", this.agentJson(agent));
    return this;
  }

  /** Answer messages to `agent` matching `pattern` with a message made of `parts`. */
  onMessage(agent: string, p: Pattern, parts: A2APart[]): this {
    return this.add(agent, "messages", { pattern: pattern(p), parts });
  }

  /** Answer with a completed task carrying `artifacts`. */
  onTask(agent: string, p: Pattern, artifacts: A2AArtifact[]): this {
    return this.add(agent, "tasks", { pattern: pattern(p), artifacts });
  }

  /** Stream these events (status changes, artifacts), `delayMs` before each. */
  onStreamingTask(agent: string, p: Pattern, events: A2AStreamEvent[], delayMs?: number): this {
    const f: Record<string, unknown> = { pattern: pattern(p), events };
    if (delayMs !== undefined) f.delayMs = delayMs;
    return this.add(agent, "streamingTasks", f);
  }

  /** Every task the server holds. */
  getTasks(): unknown[] {
    if (!this.live) return [];
    return (this.control("GET", "/tasks") as { tasks: unknown[] }).tasks;
  }

  /** Forget the tasks; the agents stay as configured. */
  reset(): this {
    if (this.live) this.control("POST", "/reset");
    return this;
  }

  section(): Record<string, unknown> {
    return { agents: this.agents.map((a) => this.agentJson(a)) };
  }

  private agentJson(a: Agent): Record<string, unknown> {
    return { ...a.def, messages: a.messages, tasks: a.tasks, streamingTasks: a.streamingTasks };
  }

  private add(name: string, kind: "messages" | "tasks" | "streamingTasks", fixture: unknown): this {
    const agent = this.agents.find((a) => a.def.name === name);
    if (!agent) throw new Error(`aimock-rs: agent "${name}" is not registered (registerAgent first)`);
    agent[kind].push(fixture);
    if (this.live) this.control("POST", `/agents/${encodeURIComponent(name)}/${kind}`, fixture);
    return this;
  }
}
