// Types of aimock's programmatic API, as the server reads them (see the repository's README for
// every fixture field).
import type { Pattern } from "./wire.js";

export type { Pattern };

/** A fixture's match: every field given must hold. */
export interface FixtureMatch {
  userMessage?: Pattern | { regex: string; flags?: string } | { equals: string };
  systemMessage?: Pattern | string[];
  inputText?: Pattern;
  toolCallId?: string;
  toolResultContains?: string;
  toolName?: string;
  model?: Pattern;
  responseFormat?: string;
  sequenceIndex?: number;
  turnIndex?: number;
  hasToolResult?: boolean;
  endpoint?: string;
  context?: string;
  systemHash?: string;
  toolsHash?: string;
  [field: string]: unknown;
}

export interface ToolCall {
  name: string;
  arguments: string | Record<string, unknown>;
  id?: string;
}

/** A fixture response: text, tool calls, an error, an embedding, ... */
export interface FixtureResponse {
  content?: string | Record<string, unknown>;
  toolCalls?: ToolCall[];
  reasoning?: string;
  error?: { message: string; type?: string; code?: string | number; [k: string]: unknown };
  status?: number;
  retryAfter?: number;
  embedding?: number[];
  usage?: Record<string, number>;
  finishReason?: string;
  model?: string;
  id?: string;
  [field: string]: unknown;
}

/** The provider-neutral request the server sends to a response function. */
export interface NeutralRequest {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; [k: string]: unknown }>;
  tools?: unknown[];
  stream?: boolean;
  [field: string]: unknown;
}

/** What the server sends with it: which provider and endpoint, whether the client streams. */
export interface CallbackContext {
  kind: "llm";
  request: NeutralRequest;
  provider: string;
  endpoint: string;
  path: string;
  stream: boolean;
  testId: string;
}

/** A fixture response computed from the request (may be async). */
export type ResponseFactory = (req: NeutralRequest, ctx: CallbackContext) => FixtureResponse | Promise<FixtureResponse>;

export interface FixtureOpts {
  latency?: number;
  chunkSize?: number;
  streamingProfile?: { ttft?: number; tps?: number; jitter?: number };
  truncateAfterChunks?: number;
  disconnectAfterMs?: number;
  replaySpeed?: number;
  chaos?: ChaosConfig;
  /** For a response function: the time the server waits for it (ms, default 5000, at most 60000). */
  callbackTimeoutMs?: number;
  [field: string]: unknown;
}

export interface ChaosConfig {
  dropRate?: number;
  malformedRate?: number;
  disconnectRate?: number;
  rateLimitRate?: number;
  latencyMs?: number;
}

export interface RecordConfig {
  /** Upstream base URL per provider: openai, anthropic, gemini, vertexai, bedrock, azure, ollama, cohere, openrouter. */
  providers?: Partial<Record<string, string>>;
  fixturePath?: string;
  proxyOnly?: boolean;
}

export interface LLMockOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  latency?: number;
  chunkSize?: number;
  strict?: boolean;
  logLevel?: "silent" | "error" | "warn" | "info" | "debug";
  metrics?: boolean;
  journalMaxEntries?: number;
  fixtureCountsMaxTestIds?: number;
  replaySpeed?: number;
  chaos?: ChaosConfig;
  record?: RecordConfig;
  /** Path of the aimock binary (default: $AIMOCK_BIN, else the platform package). */
  binary?: string;
  /** More command-line arguments for the server. */
  args?: string[];
}

export interface SearchResult {
  title: string;
  url: string;
  content: string;
  score?: number;
  [k: string]: unknown;
}

export interface RerankResult {
  index: number;
  relevance_score: number;
}

export interface ModerationResult {
  flagged: boolean;
  categories?: Record<string, boolean>;
  category_scores?: Record<string, number>;
  [k: string]: unknown;
}

export interface JournalEntry {
  id: string;
  timestamp: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
  service?: string;
  testId?: string;
  response: { status: number; fixture: unknown; source?: string; chaosAction?: string; [k: string]: unknown };
  [k: string]: unknown;
}
