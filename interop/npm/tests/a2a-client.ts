// The official A2A client (@a2a-js/sdk, protocol v1.0) and its message shape.
import { ClientFactory } from "@a2a-js/sdk/client";

export async function a2aClient(url: string) {
  return new ClientFactory().createFromUrl(url);
}

let n = 0;
/** A user message with one text part, in the SDK's (protobuf-style) shape. */
export function userMessage(text: string) {
  return {
    message: {
      messageId: `m-${++n}`,
      role: 1 /* ROLE_USER */,
      parts: [{ content: { $case: "text" as const, value: text }, metadata: undefined, filename: "", mediaType: "text/plain" }],
      contextId: "",
      taskId: "",
      metadata: undefined,
      extensions: [],
      referenceTaskIds: [],
    },
  } as any;
}

/** The text of a part list. */
export function partsText(parts: Array<{ content?: { $case: string; value: unknown } }>): string {
  return parts.map((p) => (p.content?.$case === "text" ? String(p.content.value) : "")).join("");
}
