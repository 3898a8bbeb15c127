// LLMock: aimock's programmatic API over the aimock binary. The fixtures, services, chaos and
// mounts given before start() are sent when the server is up; later changes are sent at once
// (synchronously, so a request made right after `mock.on(...)` sees the fixture).
import { readdirSync, readFileSync, statSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { callbackRef, hub } from "./callbacks.js";
import { Instance } from "./instance.js";
import type { ServiceMock } from "./service.js";
import { toWire, type Pattern } from "./wire.js";
import type {
  ChaosConfig,
  FixtureMatch,
  FixtureOpts,
  FixtureResponse,
  JournalEntry,
  LLMockOptions,
  ModerationResult,
  RecordConfig,
  RerankResult,
  ResponseFactory,
  SearchResult,
} from "./types.js";

/** A fixture as given: the response may be a function. */
export interface Fixture extends FixtureOpts {
  match: FixtureMatch;
  response: FixtureResponse | ResponseFactory;
  [key: string]: unknown;
}

/** A fixture the library holds: its JSON, and the callback id of a function response. */
interface Held {
  fixture: Fixture;
  callback?: { id: string; timeoutMs?: number };
}

interface Mount {
  path: string;
  service: ServiceMock;
}

type ServiceKey = "search" | "rerank" | "moderate";

const FACTORY_TIMEOUT_KEY = "callbackTimeoutMs";

export class LLMock {
  private instance: Instance | undefined;
  private fixtures: Held[] = [];
  private yamlFiles: string[] = [];
  private pendingErrors: unknown[] = [];
  private services: Record<ServiceKey, unknown[]> = { search: [], rerank: [], moderate: [] };
  private chaos: ChaosConfig | undefined;
  private recording: RecordConfig | undefined;
  private readonly mounts: Mount[] = [];
  private placeholderDir: string | undefined;
  private restarting: Promise<void> | undefined;

  constructor(private readonly options: LLMockOptions = {}) {
    this.chaos = options.chaos;
    this.recording = options.record;
  }

  static async create(options: LLMockOptions = {}): Promise<LLMock> {
    const m = new LLMock(options);
    await m.start();
    return m;
  }

  // ---- fixtures -------------------------------------------------------------------------

  /** Register a fixture for `match`; `response` may be a function of the request. */
  on(match: FixtureMatch, response: FixtureResponse | ResponseFactory, opts: FixtureOpts = {}): this {
    return this.addFixture({ ...opts, match, response });
  }

  onMessage(pattern: Pattern, response: FixtureResponse | ResponseFactory, opts?: FixtureOpts): this {
    return this.on({ userMessage: pattern }, response, opts);
  }

  onEmbedding(pattern: Pattern, response: FixtureResponse | ResponseFactory, opts?: FixtureOpts): this {
    return this.on({ inputText: pattern }, response, opts);
  }

  onJsonOutput(pattern: Pattern, jsonContent: object | string, opts?: FixtureOpts): this {
    const content = typeof jsonContent === "string" ? jsonContent : JSON.stringify(jsonContent);
    return this.on({ userMessage: pattern, responseFormat: "json_object" }, { content }, opts);
  }

  onToolCall(toolName: string, response: FixtureResponse | ResponseFactory, opts?: FixtureOpts): this {
    return this.on({ toolName }, response, opts);
  }

  onToolResult(toolCallId: string, response: FixtureResponse | ResponseFactory, opts?: FixtureOpts): this {
    return this.on({ toolCallId }, response, opts);
  }

  onTurn(turnIndex: number, pattern: Pattern, response: FixtureResponse | ResponseFactory, opts?: FixtureOpts): this {
    return this.on({ turnIndex, userMessage: pattern }, response, opts);
  }

  addFixture(fixture: Fixture): this {
    const held = this.hold(fixture);
    if (this.instance) this.send([held]);
    this.fixtures.push(held);
    return this;
  }

  addFixtures(fixtures: Fixture[]): this {
    const held = fixtures.map((f) => this.hold(f));
    if (this.instance) this.send(held);
    this.fixtures.push(...held);
    return this;
  }

  /** Put a fixture before every other one. */
  prependFixture(fixture: Fixture): this {
    const held = this.hold(fixture);
    this.fixtures.unshift(held);
    if (this.instance) this.resend();
    return this;
  }

  /** The fixtures this library registered (files loaded as YAML excepted). */
  getFixtures(): readonly Fixture[] {
    return this.fixtures.map((h) => h.fixture);
  }

  clearFixtures(): this {
    for (const h of this.fixtures) if (h.callback) hub.unregister(h.callback.id);
    this.fixtures = [];
    this.yamlFiles = [];
    if (this.instance) this.instance.request("DELETE", "/__aimock/fixtures");
    return this;
  }

  /** Fixtures as a JSON text or a parsed file (`{fixtures: [...]}` or a list); validated by the server. */
  addFixturesFromJSON(input: string | unknown[] | { fixtures: unknown[] }): this {
    const parsed = typeof input === "string" ? JSON.parse(input) : input;
    const list = Array.isArray(parsed) ? parsed : (parsed as { fixtures?: unknown[] }).fixtures;
    if (!Array.isArray(list)) throw new Error("aimock-rs: expected {\"fixtures\": [...]} or a list of fixtures");
    return this.addFixtures(list as Fixture[]);
  }

  /** Load a fixture file (JSON; YAML only before start(), read by the server). */
  loadFixtureFile(path: string): this {
    const ext = extname(path).toLowerCase();
    if (ext === ".yaml" || ext === ".yml") {
      if (this.instance) throw new Error(`aimock-rs: load YAML fixtures (${path}) before start(); JSON files can be loaded at any time`);
      this.yamlFiles.push(path);
      return this;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new Error(`aimock-rs: ${path}: ${(e as Error).message}`);
    }
    return this.addFixturesFromJSON(parsed as unknown[]);
  }

  /** Load every fixture file under a directory (recursively, in sorted order). */
  loadFixtureDir(dir: string): this {
    for (const file of walk(dir)) this.loadFixtureFile(file);
    return this;
  }

  // ---- services: search, rerank, moderation ---------------------------------------------

  onSearch(pattern: Pattern, results: SearchResult[]): this {
    return this.service("search", { match: pattern, results });
  }

  onRerank(pattern: Pattern, results: RerankResult[]): this {
    return this.service("rerank", { match: pattern, results });
  }

  onModerate(pattern: Pattern, result: ModerationResult): this {
    return this.service("moderate", { match: pattern, result });
  }

  private service(key: ServiceKey, fixture: Record<string, unknown>): this {
    const wire = toWire(fixture, key);
    if (this.instance) this.instance.request("POST", `/__aimock/services/${key}`, wire);
    this.services[key].push(wire);
    return this;
  }

  // ---- errors, chaos, recording ---------------------------------------------------------

  /** The next request is answered with this error, once. */
  nextRequestError(status: number, errorBody?: { message?: string; type?: string; code?: string | number }): this {
    const body = { status, body: errorBody ?? {} };
    if (this.instance) this.instance.request("POST", "/__aimock/error", body);
    else this.pendingErrors.push(body);
    return this;
  }

  setChaos(config: ChaosConfig): this {
    this.chaos = config;
    if (this.instance) this.instance.request("POST", "/__aimock/chaos", config);
    return this;
  }

  clearChaos(): this {
    this.chaos = undefined;
    if (this.instance) this.instance.request("DELETE", "/__aimock/chaos");
    return this;
  }

  /** Record unmatched requests through the providers (restarts a running server: journal is lost). */
  async enableRecording(config: RecordConfig): Promise<void> {
    this.recording = config;
    if (this.instance) await this.restart();
  }

  async disableRecording(): Promise<void> {
    this.recording = undefined;
    if (this.instance) await this.restart();
  }

  // ---- mounts -----------------------------------------------------------------------------

  /** Serve a service (MCPMock, A2AMock, VectorMock, AGUIMock) at `path` of this server. */
  mount(path: string, service: ServiceMock): this {
    this.mounts.push({ path: path.startsWith("/") ? path : `/${path}`, service });
    // A running server's services are fixed when it starts: it starts again (same port, the
    // journal cleared) with the new one; `await mock.start()` resolves once it is back.
    if (this.instance) this.restarting = this.restart().finally(() => (this.restarting = undefined));
    return this;
  }

  // ---- journal ------------------------------------------------------------------------------

  get journal(): { getAll(o?: { limit?: number }): JournalEntry[]; getLast(): JournalEntry | null; clear(): void; readonly size: number } {
    const self = this;
    return {
      getAll: (o) => this.getRequests(o),
      getLast: () => this.getLastRequest(),
      clear: () => this.clearRequests(),
      get size() {
        return self.getRequests().length;
      },
    };
  }

  getRequests(opts: { limit?: number; service?: string; testId?: string } = {}): JournalEntry[] {
    if (!this.instance) return [];
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return this.instance.request("GET", `/__aimock/journal${qs ? `?${qs}` : ""}`) as JournalEntry[];
  }

  getLastRequest(): JournalEntry | null {
    const all = this.getRequests();
    return all.length ? all[all.length - 1]! : null;
  }

  clearRequests(): void {
    if (this.instance) this.instance.request("POST", "/__aimock/reset/journal");
  }

  /** Sequences (`sequenceIndex`) start again, for one test id or all. */
  resetMatchCounts(testId?: string): void {
    this.instance?.request(
      "POST",
      `/__aimock/reset/counts${testId ? `?testId=${encodeURIComponent(testId)}` : ""}`,
    );
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<string> {
    if (this.restarting) await this.restarting;
    if (this.instance) return this.url;
    await hub.acquire();
    try {
      this.instance = await this.spawn(this.options.port ?? 0);
    } catch (e) {
      await hub.release();
      throw e;
    }
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.restarting) await this.restarting.catch(() => {});
    const inst = this.instance;
    if (!inst) return;
    this.instance = undefined;
    for (const m of this.mounts) m.service._attach(undefined);
    await inst.stop();
    if (this.placeholderDir) rmSync(this.placeholderDir, { recursive: true, force: true });
    this.placeholderDir = undefined;
    await hub.release();
  }

  /** Forget every fixture, service fixture, queued error, chaos setting and journal entry. */
  reset(): this {
    for (const h of this.fixtures) if (h.callback) hub.unregister(h.callback.id);
    this.fixtures = [];
    this.yamlFiles = [];
    this.pendingErrors = [];
    this.services = { search: [], rerank: [], moderate: [] };
    this.chaos = undefined;
    if (this.instance) this.instance.request("POST", "/__aimock/reset");
    return this;
  }

  get url(): string {
    if (!this.instance) throw new Error("aimock-rs: the server is not started (await mock.start() first)");
    return this.instance.url;
  }

  get baseUrl(): string {
    return this.url;
  }

  get port(): number {
    if (!this.instance) throw new Error("aimock-rs: the server is not started (await mock.start() first)");
    return this.instance.port;
  }

  /** The lines the server printed last (for debugging a test). */
  logs(): string {
    return this.instance?.logs() ?? "";
  }

  // ---- internals ----------------------------------------------------------------------------

  private hold(f: Fixture): Held {
    if (!f || typeof f !== "object" || !("match" in f) || !("response" in f)) {
      throw new TypeError("aimock-rs: a fixture is {match, response, ...options}");
    }
    if (typeof f.response === "function") {
      const fn = f.response as ResponseFactory;
      const id = hub.register((payload: { request: unknown }) => fn(payload.request as never, payload as never));
      const t = f[FACTORY_TIMEOUT_KEY];
      return { fixture: f, callback: { id, timeoutMs: typeof t === "number" ? t : undefined } };
    }
    return { fixture: f };
  }

  private wire(h: Held): unknown {
    const { response, match, ...rest } = h.fixture;
    delete (rest as Record<string, unknown>)[FACTORY_TIMEOUT_KEY];
    if (match && typeof (match as { predicate?: unknown }).predicate === "function") {
      throw new TypeError("aimock-rs: `match.predicate` functions are not supported; use a response function or match fields");
    }
    const out = toWire({ ...rest, match }, "fixture") as Record<string, unknown>;
    out.response = h.callback ? { callback: callbackRef(h.callback.id, h.callback.timeoutMs) } : toWire(response, "fixture.response");
    return out;
  }

  private send(held: Held[], inst: Instance = this.instance!): void {
    if (!held.length) return;
    inst.request("POST", "/__aimock/fixtures", { fixtures: held.map((h) => this.wire(h)) });
  }

  /** Replace the server's fixtures by the ones held, in order. */
  private resend(): void {
    this.instance!.request("DELETE", "/__aimock/fixtures");
    this.send(this.fixtures);
  }

  private config(): Record<string, unknown> | undefined {
    const cfg: Record<string, unknown> = {};
    for (const { path, service } of this.mounts) {
      const list = (cfg[service.kind] as unknown[] | undefined) ?? [];
      list.push({ ...service.section(), path });
      cfg[service.kind] = list;
    }
    const r = this.recording;
    if (r) {
      // aimock.json's llm.record: recordings go to fixturePath itself (aimock: ./fixtures/recorded).
      const record: Record<string, unknown> = { providers: r.providers ?? {} };
      if (r.fixturePath) record.fixturePath = resolve(r.fixturePath);
      if (r.proxyOnly) record.proxyOnly = true;
      cfg.llm = { record };
    }
    return Object.keys(cfg).length ? cfg : undefined;
  }

  private args(): string[] {
    const o = this.options;
    const a: string[] = ["--log-level", o.logLevel ?? "error"];
    if (o.latency !== undefined) a.push("--latency", String(o.latency));
    if (o.chunkSize !== undefined) a.push("--chunk-size", String(o.chunkSize));
    if (o.strict) a.push("--strict");
    if (o.metrics) a.push("--metrics");
    if (o.journalMaxEntries !== undefined) a.push("--journal-max", String(o.journalMaxEntries));
    if (o.fixtureCountsMaxTestIds !== undefined) a.push("--fixture-counts-max", String(o.fixtureCountsMaxTestIds));
    if (o.replaySpeed !== undefined) a.push("--replay-speed", String(o.replaySpeed));
    // Fixtures come through the control API; -f names the YAML files and keeps the server from
    // loading a ./fixtures directory of the working directory on its own.
    for (const y of this.yamlFiles) a.push("-f", y);
    if (!this.yamlFiles.length) {
      this.placeholderDir ??= mkdtempSync(join(tmpdir(), "aimock-rs-fx-"));
      if (o.strict) {
        // --strict refuses to start with no fixture: one that no request can match.
        writeFileSync(
          join(this.placeholderDir, "placeholder.json"),
          JSON.stringify({ fixtures: [{ match: { userMessage: { equals: "\u0000aimock-rs: no fixture yet" } }, response: { content: "" } }] }),
        );
      }
      a.push("-f", this.placeholderDir);
    }
    a.push(...(o.args ?? []));
    return a;
  }

  private async spawn(port: number): Promise<Instance> {
    const inst = await Instance.spawn({
      binary: this.options.binary,
      host: this.options.host,
      port,
      args: this.args(),
      config: this.config(),
    });
    try {
      this.send(this.fixtures, inst);
      for (const key of ["search", "rerank", "moderate"] as const) {
        if (this.services[key].length) inst.request("POST", `/__aimock/services/${key}`, this.services[key]);
      }
      if (this.chaos) inst.request("POST", "/__aimock/chaos", this.chaos);
      for (const e of this.pendingErrors) inst.request("POST", "/__aimock/error", e);
      this.pendingErrors = [];
      for (const m of this.mounts) m.service._attach({ instance: inst, path: m.path });
    } catch (e) {
      await inst.stop();
      throw e;
    }
    return inst;
  }

  private async restart(): Promise<void> {
    const old = this.instance;
    if (!old) return;
    const port = old.port;
    this.instance = undefined;
    await old.stop();
    this.instance = await this.spawn(port);
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else if ([".json", ".yaml", ".yml"].includes(extname(name).toLowerCase())) out.push(p);
    }
  };
  visit(dir);
  return out;
}
