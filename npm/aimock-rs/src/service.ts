// What MCPMock, A2AMock, VectorMock and AGUIMock share: they collect their configuration until a
// server runs them (their own, with `start()`, or an LLMock they are mounted on), which gets it as
// an aimock.json section; from then on every change goes through `/__aimock/<kind>/...`.
import { hub } from "./callbacks.js";
import { Instance, type SpawnOptions } from "./instance.js";

export type ServiceKind = "mcp" | "a2a" | "vector" | "agui";

/** A server a service is attached to, and where. */
export interface Attachment {
  instance: Instance;
  path: string;
}

export interface ServiceOptions {
  port?: number;
  host?: string;
  /** Path of the aimock binary (default: $AIMOCK_BIN, else the platform package). */
  binary?: string;
}

export abstract class ServiceMock {
  abstract readonly kind: ServiceKind;
  protected abstract readonly defaultPath: string;
  protected attached: Attachment | undefined;
  private own: Instance | undefined;

  constructor(protected readonly options: ServiceOptions = {}) {}

  /** The aimock.json section for the state so far (callback URLs need the hub running). */
  abstract section(): Record<string, unknown>;

  /** @internal */
  _attach(a: Attachment | undefined): void {
    this.attached = a;
  }

  /** @internal the default mount path. */
  _defaultPath(): string {
    return this.defaultPath;
  }

  protected get live(): boolean {
    return this.attached !== undefined;
  }

  /** A control request to this service on the server it is attached to. */
  protected control(method: string, sub: string, body?: unknown): unknown {
    const a = this.attached;
    if (!a) throw new Error(`aimock-rs: ${this.kind} is not running`);
    const sep = sub.includes("?") ? "&" : "?";
    return a.instance.request(method, `/__aimock/${this.kind}${sub}${sep}path=${encodeURIComponent(a.path)}`, body);
  }

  /** Run this service on a server of its own; resolves to its URL. */
  async start(): Promise<string> {
    if (this.own) return this.url;
    if (this.attached) throw new Error(`aimock-rs: this ${this.kind} mock is mounted on an LLMock; start that one`);
    await hub.acquire();
    const path = this.defaultPath;
    const opts: SpawnOptions = {
      binary: this.options.binary,
      host: this.options.host,
      port: this.options.port,
      config: { [this.kind]: { ...this.section(), path } },
    };
    try {
      this.own = await Instance.spawn(opts);
    } catch (e) {
      await hub.release();
      throw e;
    }
    this.attached = { instance: this.own, path };
    return this.url;
  }

  async stop(): Promise<void> {
    const own = this.own;
    if (!own) return;
    this.own = undefined;
    this.attached = undefined;
    await own.stop();
    await hub.release();
  }

  /** Where clients reach this service. */
  get url(): string {
    const a = this.attached;
    if (!a) throw new Error(`aimock-rs: this ${this.kind} mock is not started`);
    return a.instance.url + a.path;
  }

  /** The server's summary of this service. */
  health(): unknown {
    return this.control("GET", "");
  }

  /** The journal entries of this service. */
  getRequests(): unknown[] {
    const a = this.attached;
    if (!a) return [];
    return a.instance.request("GET", `/__aimock/journal?service=${this.kind}`) as unknown[];
  }
}
