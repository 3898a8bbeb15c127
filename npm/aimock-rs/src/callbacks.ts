// Functions as responses: a loopback HTTP server (node:http) in this process that the aimock
// server POSTs to when a fixture whose response is a `callback` matches. Each registered function
// has its own path; the server sends the neutral request (`{kind, request, provider, ...}` for an
// LLM fixture, `{kind: "mcp.tool", name, arguments}`, `{kind: "vector.query", ...}`) and renders
// the JSON this server answers. One hub serves every mock of the process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type Handler = (payload: any) => unknown | Promise<unknown>;

/** What a handler that throws answers: the status and body sent back to the aimock server. */
export type OnThrow = (err: unknown) => { status: number; body: unknown };

interface Entry {
  fn: Handler;
  onThrow: OnThrow;
}

const defaultOnThrow: OnThrow = (err) => ({
  status: 500,
  body: { error: { message: `callback threw: ${err instanceof Error ? err.message : String(err)}` } },
});

class Hub {
  private server: Server | undefined;
  private starting: Promise<string> | undefined;
  private base: string | undefined;
  private readonly handlers = new Map<string, Entry>();
  private next = 0;
  private users = 0;

  /** Register a function; its callback URL is `url(id)` once the hub runs. */
  register(fn: Handler, onThrow: OnThrow = defaultOnThrow): string {
    const id = `f${++this.next}`;
    this.handlers.set(id, { fn, onThrow });
    return id;
  }

  unregister(id: string): void {
    this.handlers.delete(id);
  }

  get running(): boolean {
    return this.base !== undefined;
  }

  url(id: string): string {
    if (!this.base) throw new Error("aimock-rs: the callback server is not running (start() first)");
    return `${this.base}/aimock-rs/callback/${id}`;
  }

  /** Start the hub (once) for one more user. */
  async acquire(): Promise<void> {
    this.users++;
    if (this.base) return;
    this.starting ??= new Promise<string>((resolve, reject) => {
      const server = createServer((req, res) => void this.serve(req, res));
      server.keepAliveTimeout = 5000;
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const addr = server.address();
        if (!addr || typeof addr === "string") return reject(new Error("no address"));
        this.server = server;
        server.unref();
        resolve(`http://127.0.0.1:${addr.port}`);
      });
    });
    this.base = await this.starting;
  }

  /** One user fewer; the last one closes the hub. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0 || !this.server) return;
    const server = this.server;
    this.server = undefined;
    this.base = undefined;
    this.starting = undefined;
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body === undefined ? null : body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const m = /^\/aimock-rs\/callback\/([^/?]+)/.exec(req.url ?? "");
    const entry = m ? this.handlers.get(m[1]!) : undefined;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (!entry) return send(404, { error: { message: `no callback is registered at ${req.url}` } });
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (e) {
      return send(400, { error: { message: `callback body is not JSON: ${(e as Error).message}` } });
    }
    try {
      send(200, await entry.fn(payload));
    } catch (err) {
      const r = entry.onThrow(err);
      send(r.status, r.body);
    }
  }
}

export const hub = new Hub();

/** The `callback` object of a fixture or tool whose function is `id`. */
export function callbackRef(id: string, timeoutMs?: number): { url: string; timeoutMs?: number } {
  return timeoutMs === undefined ? { url: hub.url(id) } : { url: hub.url(id), timeoutMs };
}
