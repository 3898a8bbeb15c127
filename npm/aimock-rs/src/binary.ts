// Where the aimock binary is: an explicit path, $AIMOCK_BIN, or the platform package that npm
// installed through aimock-rs's optionalDependencies (one package per row of targets.json).
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { HERE } from "./here.js";

interface Target {
  name: string;
  os: string;
  cpu: string;
  libc?: string;
  exe: string;
}

/** The package root: dist/esm or dist/cjs is two levels down. */
const ROOT = join(HERE, "..", "..");

function targets(): Target[] {
  const file = join(ROOT, "targets.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { targets: Target[] }).targets;
}

function isMusl(): boolean {
  if (process.platform !== "linux") return false;
  const report = (process.report?.getReport?.() ?? {}) as { header?: { glibcVersionRuntime?: string } };
  return !report.header?.glibcVersionRuntime;
}

/** The rows of targets.json that fit this machine, best first. */
export function hostTargets(): Target[] {
  const musl = isMusl();
  return targets().filter(
    (t) =>
      t.os === process.platform &&
      t.cpu === process.arch &&
      (t.libc === undefined || t.libc === (musl ? "musl" : "glibc")),
  );
}

/** The path of the aimock binary to run. */
export function resolveBinary(explicit?: string): string {
  const given = explicit ?? process.env.AIMOCK_BIN;
  if (given) {
    if (!existsSync(given)) throw new Error(`aimock-rs: the binary ${given} does not exist`);
    return given;
  }
  const req = createRequire(join(ROOT, "package.json"));
  const tried: string[] = [];
  for (const t of hostTargets()) {
    const pkg = `aimock-rs-${t.name}`;
    tried.push(pkg);
    try {
      const dir = join(req.resolve(`${pkg}/package.json`), "..");
      const bin = join(dir, "bin", t.exe);
      if (existsSync(bin)) return bin;
    } catch {
      // not installed: try the next row
    }
  }
  throw new Error(
    `aimock-rs: no aimock binary for ${process.platform}-${process.arch}` +
      (tried.length ? ` (looked for ${tried.join(", ")}; was it installed with --omit=optional?)` : " (no platform package is published for it)") +
      ". Set AIMOCK_BIN to a binary built with `cargo build --release`.",
  );
}
