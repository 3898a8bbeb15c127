// aimock-rs/jest's useAimock, with jest's globals stood in for: its hooks start the server, patch
// the environment, and restore it and stop the server afterwards.
import { afterAll, expect, it } from "vitest";

type Fn = () => unknown;
const hooks: Record<string, Fn[]> = { beforeAll: [], beforeEach: [], afterAll: [] };
const g = globalThis as Record<string, unknown>;
for (const k of Object.keys(hooks)) g[k] = (fn: Fn) => hooks[k]!.push(fn);

const { useAimock } = await import("aimock-rs/jest");

process.env.OPENAI_BASE_URL = "http://example.invalid/v1";
delete process.env.ANTHROPIC_BASE_URL;
const aimock = useAimock();

for (const k of Object.keys(hooks)) delete g[k];

afterAll(async () => {
  for (const fn of hooks.afterAll!) await fn();
});

it("registers the three hooks", () => {
  expect([hooks.beforeAll!.length, hooks.beforeEach!.length, hooks.afterAll!.length]).toEqual([1, 1, 1]);
  expect(() => aimock()).toThrow(/beforeAll/);
});

it("starts, patches, restores and stops", async () => {
  await hooks.beforeAll![0]!();
  const { url, llm } = aimock();
  expect(process.env.OPENAI_BASE_URL).toBe(`${url}/v1`);
  expect(process.env.ANTHROPIC_BASE_URL).toBe(url);
  expect((await fetch(`${url}/health`)).status).toBe(200);
  llm.onMessage("x", { content: "y" });
  await hooks.beforeEach![0]!();
  await hooks.afterAll![0]!();
  hooks.afterAll = [];
  expect(process.env.OPENAI_BASE_URL).toBe("http://example.invalid/v1");
  expect(process.env.ANTHROPIC_BASE_URL).toBeUndefined();
  const down = await fetch(`${url}/health`).catch((e) => e);
  expect(down).toBeInstanceOf(TypeError);
});
