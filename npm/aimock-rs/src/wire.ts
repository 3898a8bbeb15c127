// Turning aimock's JavaScript values into the JSON the server reads: a RegExp becomes
// `{"regex": source, "flags": ...}` (the `g` and `y` flags mean nothing to a match and are dropped).

export type Pattern = string | RegExp;

export function regex(r: RegExp): { regex: string; flags?: string } {
  const flags = r.flags.replace(/[gyd]/g, "");
  return flags ? { regex: r.source, flags } : { regex: r.source };
}

/** A deep copy with every RegExp replaced by its JSON form. Functions are refused. */
export function toWire(value: unknown, where: string): unknown {
  if (value instanceof RegExp) return regex(value);
  if (typeof value === "function") {
    throw new TypeError(
      `aimock-rs: ${where} is a function; only fixture responses, MCP tool handlers and vector query handlers can be functions`,
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => toWire(v, `${where}[${i}]`));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toWire(v, `${where}.${k}`);
    }
    return out;
  }
  return value;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
