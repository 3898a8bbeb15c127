import { makeUseAimock, type Hooks } from "./plugin.js";

export type { AimockHandle, UseAimockOptions } from "./plugin.js";

/** In a jest file (jest's globals): `const aimock = useAimock({ fixtures: "./fixtures" })`. */
export const useAimock = makeUseAimock(() => {
  const g = globalThis as unknown as Partial<Hooks>;
  if (!g.beforeAll || !g.beforeEach || !g.afterAll) {
    throw new Error("aimock-rs/jest: beforeAll/beforeEach/afterAll are not defined (run under jest)");
  }
  return { beforeAll: g.beforeAll, beforeEach: g.beforeEach, afterAll: g.afterAll };
});
