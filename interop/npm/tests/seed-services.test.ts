// The seed article's services example (onSearch, onRerank, onModerate), as written there but for
// the import line, driven by HTTP (Tavily, Cohere) and the official OpenAI client (moderation).
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";

import { LLMock } from "aimock-rs";

const mock = new LLMock();

// String pattern — case-insensitive substring match
mock.onSearch("weather", [
  { title: "Weather Report", url: "https://example.com/weather", content: "Sunny today" },
]);

// RegExp pattern
mock.onSearch(/stock\s+price/i, [
  { title: "ACME Stock", url: "https://example.com/stocks", content: "$42.00", score: 0.95 },
]);

// Catch-all — empty results for unmatched queries
mock.onSearch(/.*/, []);

mock.onRerank("machine learning", [
  { index: 0, relevance_score: 0.99 },
  { index: 2, relevance_score: 0.85 },
]);

mock.onModerate("violent", {
  flagged: true,
  categories: { violence: true, hate: false },
  category_scores: { violence: 0.95, hate: 0.01 },
});

beforeAll(async () => {
  await mock.start();
});

afterAll(async () => {
  await mock.stop();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

it("search: substring, RegExp and catch-all", async () => {
  const weather = await post("/search", { query: "WEATHER in Paris" });
  expect(weather.status).toBe(200);
  expect(weather.body.results).toEqual([expect.objectContaining({ title: "Weather Report", content: "Sunny today" })]);
  const stock = await post("/search", { query: "ACME stock  price today" });
  expect(stock.body.results[0]).toMatchObject({ title: "ACME Stock", score: 0.95 });
  const other = await post("/search", { query: "something else" });
  expect(other.status).toBe(200);
  expect(other.body.results).toEqual([]);
});

it("rerank", async () => {
  const r = await post("/v2/rerank", {
    model: "rerank-v3.5",
    query: "what is machine learning?",
    documents: ["ML is a field of AI", "cooking pasta", "neural networks learn"],
  });
  expect(r.status).toBe(200);
  expect(r.body.results).toEqual([
    { index: 0, relevance_score: 0.99 },
    { index: 2, relevance_score: 0.85 },
  ]);
});

it("moderation through the OpenAI client", async () => {
  const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const flagged = await openai.moderations.create({ input: "a violent story" });
  expect(flagged.results[0]!.flagged).toBe(true);
  expect(flagged.results[0]!.categories.violence).toBe(true);
  expect(flagged.results[0]!.category_scores.violence).toBeCloseTo(0.95);
  const clean = await openai.moderations.create({ input: "a calm story" });
  expect(clean.results[0]!.flagged).toBe(false);
});

it("every service request is in the journal", () => {
  const services = mock.getRequests().map((e) => e.service);
  expect(services).toEqual(expect.arrayContaining(["search", "rerank", "moderation"]));
});
