// One running aimock process: spawned on a free port (`--port 0`, the port read from the line it
// prints), ready once `/health` answers, stopped with SIGTERM. Control requests are synchronous.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBinary } from "./binary.js";
import { syncRequest } from "./sync.js";

export interface SpawnOptions {
  /** Path of the aimock binary (default: $AIMOCK_BIN, else the platform package). */
  binary?: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /** An aimock.json configuration, written to a temporary file and passed with --config. */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Time allowed to start (ms). */
  startTimeoutMs?: number;
}

export class ControlError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "ControlError";
  }
}

const LISTENING = /listening on (http:\/\/[^\s]+)/;

// Servers still running when this process exits are ended with it.
const live = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
}

export class Instance {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly tmp: string | undefined,
    private readonly output: string[],
  ) {}

  get port(): number {
    return Number(new URL(this.url).port);
  }

  static async spawn(opts: SpawnOptions): Promise<Instance> {
    const bin = resolveBinary(opts.binary);
    const args = ["--host", opts.host ?? "127.0.0.1", "--port", String(opts.port ?? 0)];
    let tmp: string | undefined;
    if (opts.config) {
      tmp = mkdtempSync(join(tmpdir(), "aimock-rs-"));
      const file = join(tmp, "aimock.json");
      writeFileSync(file, JSON.stringify(opts.config, null, 2));
      args.push("--config", file);
    }
    args.push(...(opts.args ?? []));
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    track(child);
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stderr!.on("data", keep);
    const timeout = opts.startTimeoutMs ?? 15_000;
    let url: string;
    try {
      url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        const timer = setTimeout(() => reject(new Error(`did not start within ${timeout} ms`)), timeout);
        child.stdout!.on("data", (chunk: Buffer) => {
          keep(chunk);
          buf += chunk.toString();
          const m = LISTENING.exec(buf);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!.replace(/\/$/, ""));
          }
        });
        child.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`exited during start (${signal ?? `code ${code}`})`));
        });
      });
      await waitHealthy(url, timeout);
    } catch (e) {
      child.kill("SIGKILL");
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      throw new Error(
        `aimock-rs: ${bin} ${args.join(" ")}: ${(e as Error).message}\n${output.join("").trim()}`,
      );
    }
    // Drain the pipes so a chatty server never blocks on a full pipe.
    child.stdout!.on("data", () => {});
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    return new Instance(child, url, tmp, output);
  }

  /** A control request (`path` from the root, e.g. `/__aimock/fixtures`); a non-2xx throws. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): unknown {
    const res = syncRequest(method, this.url + path, body, headers);
    let parsed: unknown = res.text;
    try {
      parsed = res.text === "" ? null : JSON.parse(res.text);
    } catch {
      // not JSON: keep the text
    }
    if (res.status < 200 || res.status >= 300) {
      throw new ControlError(`aimock-rs: ${method} ${path}: ${res.status} ${describe(parsed)}`, res.status, parsed);
    }
    return parsed;
  }

  /** The last lines the server printed. */
  logs(): string {
    return this.output.join("");
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }
}

function describe(body: unknown): string {
  if (body && typeof body === "object") {
    const b = body as { error?: unknown; details?: unknown; message?: unknown };
    const err = b.error;
    const msg =
      typeof err === "string" ? err : err && typeof err === "object" ? (err as { message?: string }).message : b.message;
    const details = Array.isArray(b.details)
      ? ": " + b.details.map((d) => (d as { text?: string; message?: string }).text ?? (d as { message?: string }).message).join("; ")
      : "";
    if (msg) return String(msg) + details;
  }
  return typeof body === "string" ? body : JSON.stringify(body);
}

async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`${url}/health did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
