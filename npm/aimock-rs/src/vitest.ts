import { afterAll, beforeAll, beforeEach } from "vitest";
import { makeUseAimock } from "./plugin.js";

export type { AimockHandle, UseAimockOptions } from "./plugin.js";

/** In a vitest file: `const aimock = useAimock({ fixtures: "./fixtures" })`, then `aimock().llm`. */
export const useAimock = makeUseAimock(() => ({ beforeAll, beforeEach, afterAll }));
