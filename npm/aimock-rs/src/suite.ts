// createMockSuite: one LLMock with the given services mounted at /mcp, /a2a, /vector, /agui.
import { A2AMock } from "./a2a.js";
import { AGUIMock } from "./agui.js";
import { LLMock } from "./llmock.js";
import { MCPMock } from "./mcp.js";
import type { LLMockOptions } from "./types.js";
import { VectorMock } from "./vector.js";

export interface MockSuiteOptions {
  llm?: LLMockOptions;
  mcp?: boolean | MCPMock;
  a2a?: boolean | A2AMock;
  vector?: boolean | VectorMock;
  agui?: boolean | AGUIMock;
}

export interface MockSuite {
  llm: LLMock;
  mcp?: MCPMock;
  a2a?: A2AMock;
  vector?: VectorMock;
  agui?: AGUIMock;
  start(): Promise<string>;
  stop(): Promise<void>;
  reset(): void;
}

export function createMockSuite(options: MockSuiteOptions = {}): MockSuite {
  const llm = new LLMock(options.llm);
  const pick = <T>(v: boolean | T | undefined, make: () => T): T | undefined =>
    v === undefined || v === false ? undefined : v === true ? make() : v;
  const mcp = pick(options.mcp, () => new MCPMock());
  const a2a = pick(options.a2a, () => new A2AMock());
  const vector = pick(options.vector, () => new VectorMock());
  const agui = pick(options.agui, () => new AGUIMock());
  if (mcp) llm.mount("/mcp", mcp);
  if (a2a) llm.mount("/a2a", a2a);
  if (vector) llm.mount("/vector", vector);
  if (agui) llm.mount("/agui", agui);
  return {
    llm,
    mcp,
    a2a,
    vector,
    agui,
    start: () => llm.start(),
    stop: () => llm.stop(),
    reset: () => {
      llm.reset();
    },
  };
}
