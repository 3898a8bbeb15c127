#!/usr/bin/env node
// Build the npm packages: aimock-rs (the TypeScript library, ESM + CJS with .d.ts, and the
// `aimock-rs` bin) and one aimock-rs-<target> package per row of targets.json whose binary is
// given, then `npm pack` them into the output directory.
//
//   node npm/build.mjs [--out DIR] [--no-pack]
//
// The binary of a target comes from $AIMOCK_BIN_<TARGET> (LINUX_X64, DARWIN_ARM64, ...); the
// host's target also takes $AIMOCK_BIN, else target/release/aimock. Targets without a binary are
// still listed in aimock-rs's optionalDependencies (their packages are built on their own CI
// runners), and skipped here. The version is the workspace's (Cargo.toml), or $AIMOCK_NPM_VERSION.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const NPM = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(NPM, "..");
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const OUT = resolve(opt("--out") ?? join(ROOT, "target", "npm"));
const PKG = join(OUT, "pkg");
const LIB = join(NPM, "aimock-rs");

function version() {
  if (process.env.AIMOCK_NPM_VERSION) return process.env.AIMOCK_NPM_VERSION;
  const cargo = readFileSync(join(ROOT, "Cargo.toml"), "utf8");
  const section = cargo.split(/^\[workspace\.package\]/m)[1] ?? "";
  const m = /^version\s*=\s*"([^"]+)"/m.exec(section);
  if (!m) throw new Error("no version in Cargo.toml [workspace.package]");
  return m[1];
}

function run(cmd, argv, cwd) {
  execFileSync(cmd, argv, { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

function runAsync(cmd, argv, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(" ")}: exit ${code}`))));
  });
}

const VERSION = version();
const { targets } = JSON.parse(readFileSync(join(NPM, "targets.json"), "utf8"));
const envName = (t) => `AIMOCK_BIN_${t.name.toUpperCase().replace(/-/g, "_")}`;
const isHost = (t) => t.os === process.platform && t.cpu === process.arch && (t.libc ?? "glibc") === "glibc";

// 0. The build tools (typescript), from npm/package-lock.json.
const tsc = join(NPM, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) run("npm", ["ci", "--no-audit", "--no-fund"], NPM);

rmSync(PKG, { recursive: true, force: true });
mkdirSync(PKG, { recursive: true });

// 1. The library: ESM from src/, CJS from a copy whose here.ts uses __dirname.
const lib = join(PKG, "aimock-rs");
mkdirSync(lib, { recursive: true });

const cjsSrc = join(OUT, "cjs-src");
rmSync(cjsSrc, { recursive: true, force: true });
cpSync(join(LIB, "src"), join(cjsSrc, "src"), { recursive: true });
writeFileSync(join(cjsSrc, "src", "here.ts"), "// CommonJS build: the directory of the built module.\nexport const HERE: string = __dirname;\n");
const base = JSON.parse(readFileSync(join(LIB, "tsconfig.json"), "utf8"));
writeFileSync(
  join(cjsSrc, "tsconfig.json"),
  JSON.stringify({
    compilerOptions: {
      ...base.compilerOptions,
      module: "CommonJS",
      moduleResolution: "Node10",
      typeRoots: [join(NPM, "node_modules", "@types")],
      outDir: join(lib, "dist", "cjs"),
    },
    include: ["src"],
  }),
);
// The two compilations run side by side.
await Promise.all([
  runAsync("node", [tsc, "-p", join(LIB, "tsconfig.json"), "--outDir", join(lib, "dist", "esm")], LIB),
  runAsync("node", [tsc, "-p", join(cjsSrc, "tsconfig.json")], cjsSrc),
]);
writeFileSync(join(lib, "dist", "esm", "package.json"), JSON.stringify({ type: "module" }) + "\n");
writeFileSync(join(lib, "dist", "cjs", "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
rmSync(cjsSrc, { recursive: true, force: true });

cpSync(join(LIB, "bin"), join(lib, "bin"), { recursive: true });
copyFileSync(join(NPM, "targets.json"), join(lib, "targets.json"));
copyFileSync(join(LIB, "README.md"), join(lib, "README.md"));

const manifest = JSON.parse(readFileSync(join(LIB, "package.json"), "utf8"));
manifest.version = VERSION;
for (const [key, value] of Object.entries(manifest.exports)) {
  const m = typeof value === "string" && /^@@ENTRY:(.+)@@$/.exec(value);
  if (!m) continue;
  const e = m[1];
  manifest.exports[key] = {
    import: { types: `./dist/esm/${e}.d.ts`, default: `./dist/esm/${e}.js` },
    require: { types: `./dist/cjs/${e}.d.ts`, default: `./dist/cjs/${e}.js` },
  };
}
manifest.optionalDependencies = Object.fromEntries(targets.map((t) => [`aimock-rs-${t.name}`, VERSION]));
writeFileSync(join(lib, "package.json"), JSON.stringify(manifest, null, 2) + "\n");

// 2. The platform packages whose binary is here.
const built = [];
for (const t of targets) {
  let bin = process.env[envName(t)];
  if (!bin && isHost(t)) bin = process.env.AIMOCK_BIN ?? join(ROOT, "target", "release", "aimock");
  if (!bin || !existsSync(bin)) {
    console.log(`aimock-rs-${t.name}: no binary (${envName(t)}), not built`);
    continue;
  }
  const dir = join(PKG, `aimock-rs-${t.name}`);
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(bin, join(dir, "bin", t.exe));
  chmodSync(join(dir, "bin", t.exe), 0o755);
  const pkg = {
    name: `aimock-rs-${t.name}`,
    version: VERSION,
    description: `The aimock binary for ${t.os} ${t.cpu}${t.libc ? ` (${t.libc})` : ""} (${t.rust}); installed by aimock-rs`,
    license: "MIT",
    os: [t.os],
    cpu: [t.cpu],
    ...(t.libc ? { libc: [t.libc] } : {}),
    files: ["bin"],
    preferUnplugged: true,
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  writeFileSync(join(dir, "README.md"), `# ${pkg.name}\n\n${pkg.description}. Use the \`aimock-rs\` package.\n`);
  built.push(dir);
}

// 3. The tarballs.
if (!flag("--no-pack")) {
  const tarballs = [];
  for (const dir of [lib, ...built]) {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", OUT], { cwd: dir, encoding: "utf8" });
    const [info] = JSON.parse(out);
    tarballs.push(join(OUT, info.filename));
    console.log(`packed ${info.filename} (${(info.size / 1e6).toFixed(1)} MB, ${info.entryCount} files)`);
  }
  writeFileSync(join(OUT, "tarballs.json"), JSON.stringify(tarballs, null, 2) + "\n");
}
