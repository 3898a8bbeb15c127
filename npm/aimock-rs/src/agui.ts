// AGUIMock: an AG-UI agent (RunAgentInput in, AG-UI events out as SSE). Fixtures are the server's
// (`{match: {message?, toolCallId?, toolName?, stateKey?}, events | text | toolCall | reasoning |
// stateSnapshot | ..., delayMs?}`); the helpers below build them as aimock's do.
import { ServiceMock, type ServiceOptions } from "./service.js";
import { toWire, type Pattern } from "./wire.js";

export interface AGUIEvent {
  type: string;
  [k: string]: unknown;
}

export interface AGUIFixture {
  match: { message?: Pattern; toolCallId?: string; toolName?: string; stateKey?: string };
  events?: AGUIEvent[];
  text?: string;
  toolCall?: { name: string; args?: unknown; result?: unknown; id?: string };
  reasoning?: string;
  stateSnapshot?: unknown;
  stateDelta?: unknown[];
  messagesSnapshot?: unknown[];
  delayMs?: number;
  [k: string]: unknown;
}

export class AGUIMock extends ServiceMock {
  readonly kind = "agui" as const;
  protected readonly defaultPath = "/agui";
  private fixtures: unknown[] = [];

  constructor(options: ServiceOptions = {}) {
    super(options);
  }

  addFixture(f: AGUIFixture): this {
    if (typeof (f.match as { predicate?: unknown } | undefined)?.predicate === "function") {
      throw new TypeError("aimock-rs: AG-UI predicate fixtures are not supported");
    }
    const wire = toWire(f, "AG-UI fixture");
    this.fixtures.push(wire);
    if (this.live) this.control("POST", "/fixtures", { fixtures: [wire] });
    return this;
  }

  /** Reply with a text message. */
  onMessage(pattern: Pattern, text: string, opts: { delayMs?: number } = {}): this {
    return this.addFixture({ match: { message: pattern }, text, ...opts });
  }

  /** Reply with these events. */
  onRun(pattern: Pattern, events: AGUIEvent[], opts: { delayMs?: number } = {}): this {
    return this.addFixture({ match: { message: pattern }, events, ...opts });
  }

  /** Reply with a tool call (and its result, if given). */
  onToolCall(pattern: Pattern, toolName: string, argsJson: string | Record<string, unknown>, opts: { result?: unknown; delayMs?: number } = {}): this {
    const args = typeof argsJson === "string" ? safeParse(argsJson) : argsJson;
    const toolCall: AGUIFixture["toolCall"] = { name: toolName, args };
    if (opts.result !== undefined) toolCall.result = opts.result;
    const f: AGUIFixture = { match: { message: pattern }, toolCall };
    if (opts.delayMs !== undefined) f.delayMs = opts.delayMs;
    return this.addFixture(f);
  }

  /** Reply with a state snapshot when the input's state has `key`. */
  onStateKey(key: string, snapshot: unknown): this {
    return this.addFixture({ match: { stateKey: key }, stateSnapshot: snapshot });
  }

  onReasoning(pattern: Pattern, text: string): this {
    return this.addFixture({ match: { message: pattern }, reasoning: text });
  }

  /** Reply with these events when the last message is the result of `toolCallId`. */
  onToolResult(toolCallId: string, events: AGUIEvent[]): this {
    return this.addFixture({ match: { toolCallId }, events });
  }

  reset(): this {
    this.fixtures = [];
    if (this.live) this.control("DELETE", "/fixtures");
    return this;
  }

  section(): Record<string, unknown> {
    return { fixtures: this.fixtures };
  }
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
