// The directory of the built module. The CommonJS build replaces this file with one that
// exports `__dirname` (see npm/build.mjs), so the rest of the sources stay format-neutral.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE: string = dirname(fileURLToPath(import.meta.url));
