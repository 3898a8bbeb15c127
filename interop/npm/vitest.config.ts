import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own servers; two workers fit the 2-core machines this runs on.
    poolOptions: { forks: { maxForks: 2 } },
    pool: "forks",
  },
});
