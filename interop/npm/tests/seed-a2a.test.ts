// The seed article's A2AMock examples (registerAgent + onMessage; onStreamingTask with a delay),
// as written there but for the import line, driven by the official A2A client.
import { afterAll, expect, it } from "vitest";
import { a2aClient, partsText, userMessage } from "./a2a-client.js";

import { A2AMock } from "aimock-rs/a2a";

const a2a = new A2AMock();

a2a.registerAgent({
  name: "translator",
  description: "Translates text between languages",
  skills: [{ id: "translate", name: "Translate" }],
});

a2a.onMessage("translator", "translate", [{ text: "Translated text" }]);

// The article's second snippet names an agent "agent": it is registered here.
a2a.registerAgent({ name: "agent", description: "Long-running tasks" });

a2a.onStreamingTask("agent", "long-task", [
  { type: "status", state: "TASK_STATE_WORKING" },
  { type: "artifact", parts: [{ text: "partial result" }], name: "output" },
  { type: "artifact", parts: [{ text: "final result" }], lastChunk: true, name: "output" },
], 50); // 50ms delay between events

const url = await a2a.start();
// Agent card at: ${url}/.well-known/agent-card.json
// JSON-RPC at: ${url}/

afterAll(async () => {
  await a2a.stop();
});

it("serves the agent card", async () => {
  const res = await fetch(`${url}/.well-known/agent-card.json`);
  expect(res.status).toBe(200);
  const card = await res.json();
  expect(card.name).toBe("translator");
  expect(card.description).toBe("Translates text between languages");
  expect(card.skills.map((s: { id: string }) => s.id)).toEqual(["translate"]);
  expect(card.capabilities.streaming).toBe(true);
});

it("answers a matching message with the parts", async () => {
  const client = await a2aClient(url);
  const reply = (await client.sendMessage(userMessage("please translate this"))) as any;
  expect(partsText(reply.parts)).toBe("Translated text");
});

it("streams the task's events, 50 ms apart", async () => {
  const client = await a2aClient(`${url}/agent`);
  const started = Date.now();
  const kinds: string[] = [];
  const artifacts: string[] = [];
  let last: any;
  for await (const ev of client.sendMessageStream(userMessage("start the long-task now"))) {
    const p = (ev as any).payload;
    kinds.push(p.$case);
    if (p.$case === "artifactUpdate") {
      artifacts.push(partsText(p.value.artifact.parts));
      last = p.value;
    }
  }
  expect(artifacts).toEqual(["partial result", "final result"]);
  expect(last.lastChunk).toBe(true);
  expect(last.artifact.name).toBe("output");
  expect(kinds[0]).toBe("task");
  expect(kinds).toContain("statusUpdate");
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  const tasks = a2a.getTasks() as Array<{ status: { state: string } }>;
  expect(tasks.length).toBe(1);
});
