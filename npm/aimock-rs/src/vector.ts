// VectorMock: Pinecone, Qdrant and Chroma over one in-memory store. `onQuery` fixes what a
// collection's queries return: a list, or a function of the query served through the callback
// hub (the server POSTs {kind: "vector.query", collection, vector, topK, filter}).
import { callbackRef, hub } from "./callbacks.js";
import { ServiceMock, type ServiceOptions } from "./service.js";

export interface VectorEntry {
  id: string;
  values: number[];
  metadata?: Record<string, unknown>;
}

export interface QueryResult {
  id: string;
  score: number;
  metadata?: Record<string, unknown>;
  values?: number[];
}

export interface VectorQuery {
  vector: number[];
  topK?: number;
  filter?: unknown;
  collection: string;
}

export type QueryHandler = (query: VectorQuery) => QueryResult[] | Promise<QueryResult[]>;

interface Collection {
  name: string;
  dimension?: number;
  metric?: string;
  vectors: VectorEntry[];
  results?: QueryResult[];
  handler?: string;
}

/** The collection field that holds canned results, or `{"callback": ...}` for a function. */
const RESULTS_FIELD = "queryResults";

export class VectorMock extends ServiceMock {
  readonly kind = "vector" as const;
  protected readonly defaultPath = "/vector";
  private collections: Collection[] = [];

  constructor(options: ServiceOptions = {}) {
    super(options);
  }

  addCollection(name: string, opts: { dimension?: number; metric?: string } = {}): this {
    const c: Collection = { name, dimension: opts.dimension, metric: opts.metric, vectors: [] };
    this.drop(name);
    this.collections.push(c);
    if (this.live) this.control("POST", "/collections", this.json(c));
    return this;
  }

  upsert(collection: string, vectors: VectorEntry[]): this {
    const c = this.get(collection, true);
    for (const v of vectors) {
      c.vectors = c.vectors.filter((x) => x.id !== v.id).concat([v]);
    }
    if (this.live) this.control("POST", `/collections/${encodeURIComponent(collection)}/vectors`, { vectors });
    return this;
  }

  /** What queries of `collection` return: these results (cut to top-k), or `fn(query)`'s. */
  onQuery(collection: string, results: QueryResult[] | QueryHandler): this {
    const c = this.get(collection, true);
    if (c.handler) hub.unregister(c.handler);
    c.handler = undefined;
    c.results = undefined;
    if (typeof results === "function") {
      const fn = results;
      c.handler = hub.register(async (q: { collection?: string; vector?: number[]; topK?: number; filter?: unknown }) =>
        fn({ vector: q.vector ?? [], topK: q.topK, filter: q.filter, collection: q.collection ?? collection }),
      );
    } else {
      c.results = results;
    }
    if (this.live) {
      this.control(
        "POST",
        `/collections/${encodeURIComponent(collection)}/query-results`,
        c.handler ? { callback: callbackRef(c.handler) } : { results: c.results },
      );
    }
    return this;
  }

  deleteCollection(name: string): this {
    this.drop(name);
    if (this.live) this.control("DELETE", `/collections/${encodeURIComponent(name)}`);
    return this;
  }

  /** Forget every collection. */
  reset(): this {
    const names = this.collections.map((c) => c.name);
    for (const n of names) this.deleteCollection(n);
    return this;
  }

  section(): Record<string, unknown> {
    return { collections: this.collections.map((c) => this.json(c)) };
  }

  private json(c: Collection): Record<string, unknown> {
    const j: Record<string, unknown> = { name: c.name, vectors: c.vectors };
    if (c.dimension !== undefined) j.dimension = c.dimension;
    if (c.metric !== undefined) j.metric = c.metric;
    if (c.handler) j[RESULTS_FIELD] = { callback: callbackRef(c.handler) };
    else if (c.results) j[RESULTS_FIELD] = c.results;
    return j;
  }

  private get(name: string, create: boolean): Collection {
    let c = this.collections.find((x) => x.name === name);
    if (!c) {
      if (!create) throw new Error(`aimock-rs: no collection "${name}"`);
      c = { name, vectors: [] };
      this.collections.push(c);
      if (this.live) this.control("POST", "/collections", this.json(c));
    }
    return c;
  }

  private drop(name: string): void {
    const c = this.collections.find((x) => x.name === name);
    if (c?.handler) hub.unregister(c.handler);
    this.collections = this.collections.filter((x) => x.name !== name);
  }
}
