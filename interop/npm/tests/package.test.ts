// The installed packages themselves: the `npx aimock-rs` bin, the platform package that supplies
// the binary, the CommonJS build, and createMockSuite with AGUIMock and a searched VectorMock.
import { QdrantClient } from "@qdrant/js-client-rest";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

import { createMockSuite, resolveBinary } from "aimock-rs";

const require = createRequire(import.meta.url);

describe("the packages", () => {
  it("the binary comes from the platform package, chosen by os and cpu", () => {
    expect(process.env.AIMOCK_BIN).toBeUndefined();
    const bin = resolveBinary();
    expect(bin).toMatch(/node_modules\/aimock-rs-linux-x64\/bin\/aimock$/);
    const pkg = JSON.parse(readFileSync(require.resolve("aimock-rs-linux-x64/package.json"), "utf8"));
    expect(pkg.os).toEqual(["linux"]);
    expect(pkg.cpu).toEqual(["x64"]);
    const main = JSON.parse(readFileSync(require.resolve("aimock-rs/package.json"), "utf8"));
    expect(main.optionalDependencies["aimock-rs-linux-x64"]).toBe(main.version);
    expect(Object.keys(main.optionalDependencies).length).toBeGreaterThan(1);
  });

  it("npx aimock-rs --fixtures ./fixtures serves them", async () => {
    // Run from the project, as a user would: ./fixtures is the project's (interop/npm/fixtures).
    const child = spawn("npx", ["--no-install", "aimock-rs", "--fixtures", "./fixtures", "--port", "0"], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        let stdout = "";
        const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 15000);
        child.stdout!.on("data", (c) => {
          out += c;
          stdout += c;
          const m = /listening on (http:\/\/\S+)\n/.exec(stdout);
          if (m) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        });
        child.stderr!.on("data", (c) => (out += c));
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hello" }] }),
      });
      expect((await res.json()).choices[0].message.content).toBe("Hi from npx");
    } finally {
      const exited = new Promise((r) => child.once("exit", (code, signal) => r(signal ?? code)));
      child.kill("SIGTERM");
      expect(await exited).not.toBeNull();
    }
  });

  it("the CommonJS build works with require()", async () => {
    const cjs = require("aimock-rs") as typeof import("aimock-rs");
    expect(require.resolve("aimock-rs")).toMatch(/dist\/cjs\/index\.js$/);
    const mock = new cjs.LLMock();
    const url = await mock.start();
    mock.onMessage("cjs", { content: "from require" });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "cjs" }] }),
    });
    expect((await res.json()).choices[0].message.content).toBe("from require");
    await mock.stop();
    const { MCPMock } = require("aimock-rs/mcp");
    expect(typeof MCPMock).toBe("function");
  });
});

describe("createMockSuite", () => {
  it("mounts every service on one port, configured before start", async () => {
    const suite = createMockSuite({ mcp: true, a2a: true, vector: true, agui: true });
    suite.agui!.onMessage("hello", "Hi from AG-UI");
    suite.agui!.onToolCall(/weather/, "get_weather", '{"city":"Paris"}');
    suite.vector!.addCollection("notes", { dimension: 3 });
    suite.vector!.upsert("notes", [
      { id: "1", values: [1, 0, 0], metadata: { t: "x" } },
      { id: "2", values: [0, 1, 0], metadata: { t: "y" } },
    ]);
    suite.a2a!.registerAgent({ name: "helper" });
    suite.a2a!.onMessage("helper", "hi", [{ text: "hello agent" }]);
    suite.mcp!.addTool({ name: "noop" });
    const url = await suite.start();
    try {
      const health = await (await fetch(`${url}/health`)).json();
      expect(health.status).toBe("ok");

      const sse = await fetch(`${url}/agui`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ threadId: "t", runId: "r", messages: [{ id: "m", role: "user", content: "hello there" }] }),
      });
      const events = (await sse.text()).split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
      expect(events.map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(events[2].delta).toBe("Hi from AG-UI");

      // Added after start: through the control API.
      suite.agui!.onMessage("later", "added later");
      const later = await fetch(`${url}/agui`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ threadId: "t", runId: "r2", messages: [{ id: "m", role: "user", content: "later" }] }),
      });
      expect(await later.text()).toContain("added later");

      const qdrant = new QdrantClient({ url: `${url}/vector`, checkCompatibility: false });
      const hits = await qdrant.search("notes", { vector: [0.9, 0.1, 0], limit: 1, with_payload: true });
      expect(hits.map((h) => String(h.id))).toEqual(["1"]);
      suite.vector!.upsert("notes", [{ id: "3", values: [0.95, 0.05, 0] }]);
      const again = await qdrant.search("notes", { vector: [0.95, 0.05, 0], limit: 1 });
      expect(again.map((h) => String(h.id))).toEqual(["3"]);

      const card = await (await fetch(`${url}/a2a/.well-known/agent-card.json`)).json();
      expect(card.name).toBe("helper");
      expect(suite.mcp!.health()).toMatchObject({ tools: ["noop"] });
    } finally {
      await suite.stop();
    }
  });
});
