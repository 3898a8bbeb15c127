// The seed article's VectorMock examples (static results; a dynamic handler), as written there
// but for the import line, driven by the official Qdrant client.
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, expect, it } from "vitest";

import { VectorMock } from "aimock-rs/vector";

const vector = new VectorMock();

vector.addCollection("docs", { dimension: 1536 });
vector.onQuery("docs", [
  { id: "doc-1", score: 0.95, metadata: { title: "Getting Started" } },
  { id: "doc-2", score: 0.87, metadata: { title: "API Reference" } },
]);

const url = await vector.start();
// point your vector DB client at `url`

afterAll(async () => {
  await vector.stop();
});

const qdrant = new QdrantClient({ url, checkCompatibility: false });
const query = Array.from({ length: 1536 }, (_, i) => (i % 7) / 7);

it("static results", async () => {
  const hits = await qdrant.search("docs", { vector: query, limit: 5, with_payload: true });
  expect(hits.map((h) => h.id)).toEqual(["doc-1", "doc-2"]);
  expect(hits[0]!.score).toBeCloseTo(0.95);
  expect(hits[0]!.payload).toEqual({ title: "Getting Started" });
  expect((await qdrant.search("docs", { vector: query, limit: 1 })).map((h) => h.id)).toEqual(["doc-1"]);
});

it("a dynamic handler", async () => {
  vector.onQuery("docs", (query) => {
    const topK = query.topK ?? 10;
    return Array.from({ length: topK }, (_, i) => ({
      id: `result-${i}`,
      score: 1 - i * 0.1,
    }));
  });
  const hits = await qdrant.search("docs", { vector: query, limit: 3 });
  expect(hits.map((h) => h.id)).toEqual(["result-0", "result-1", "result-2"]);
  expect(hits.map((h) => h.score)).toEqual([1, 0.9, 0.8]);
  const five = await qdrant.search("docs", { vector: query, limit: 5 });
  expect(five).toHaveLength(5);
});
