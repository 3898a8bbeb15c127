#!/usr/bin/env node
// `npx aimock-rs --fixtures ./fixtures`: run the aimock binary of this platform's package (or
// $AIMOCK_BIN) with the same arguments, passing signals on and exiting as it does.
"use strict";
const { spawn } = require("node:child_process");
const { resolveBinary } = require("../dist/cjs/binary.js");

let bin;
try {
  bin = resolveBinary();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
const child = spawn(bin, process.argv.slice(2), { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => child.kill(sig));
}
child.on("error", (e) => {
  console.error(`aimock-rs: ${bin}: ${e.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
