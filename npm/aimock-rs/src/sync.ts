// Synchronous HTTP for the control API. aimock's methods (`mock.on(...)`, `getRequests()`, ...)
// are synchronous, and a test sends its request right after registering a fixture, so a
// registration must be in place when the call returns. A worker thread performs the request
// while this thread waits on an Atomics cell; the answer is read with receiveMessageOnPort.
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";

export interface SyncResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const WORKER = `
const { workerData } = require("node:worker_threads");
const { port } = workerData;
port.on("message", async ({ cell, method, url, body, headers }) => {
  const flag = new Int32Array(cell);
  let reply;
  try {
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    const h = {};
    res.headers.forEach((v, k) => { h[k] = v; });
    reply = { status: res.status, headers: h, text };
  } catch (e) {
    reply = { error: String((e && e.cause && e.cause.message) || (e && e.message) || e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

let worker: Worker | undefined;
let local: MessageChannel["port1"] | undefined;

function ensure(): MessageChannel["port1"] {
  if (!local) {
    const ch = new MessageChannel();
    worker = new Worker(WORKER, { eval: true, workerData: { port: ch.port2 }, transferList: [ch.port2] });
    worker.unref();
    ch.port1.unref();
    local = ch.port1;
  }
  return local;
}

/** Send one HTTP request and wait for its answer, blocking this thread (at most `timeoutMs`). */
export function syncRequest(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): SyncResponse {
  const port = ensure();
  const cell = new SharedArrayBuffer(4);
  const flag = new Int32Array(cell);
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  port.postMessage({ cell, method, url, body: payload, headers: h });
  if (Atomics.wait(flag, 0, 0, timeoutMs) === "timed-out") {
    throw new Error(`aimock-rs: ${method} ${url} got no answer within ${timeoutMs} ms`);
  }
  const msg = receiveMessageOnPort(port);
  if (!msg) throw new Error(`aimock-rs: ${method} ${url}: no reply from the request worker`);
  const reply = msg.message as SyncResponse & { error?: string };
  if (reply.error !== undefined) throw new Error(`aimock-rs: ${method} ${url} failed: ${reply.error}`);
  return reply;
}
