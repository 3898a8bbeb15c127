// useAimock for a test runner: start an LLMock before the suite, load fixtures, point the OpenAI
// and Anthropic SDKs at it through OPENAI_BASE_URL / ANTHROPIC_BASE_URL (restored afterwards),
// start sequences again before each test, and stop it after the suite.
import { statSync } from "node:fs";
import { LLMock } from "./llmock.js";
import type { LLMockOptions } from "./types.js";

export interface UseAimockOptions extends LLMockOptions {
  /** A fixture file or directory to load. */
  fixtures?: string;
  /** Set OPENAI_BASE_URL and ANTHROPIC_BASE_URL (default true). */
  patchEnv?: boolean;
}

export interface AimockHandle {
  llm: LLMock;
  url: string;
}

type Hook = (fn: () => unknown, timeout?: number) => void;

export interface Hooks {
  beforeAll: Hook;
  beforeEach: Hook;
  afterAll: Hook;
}

const ENV = ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"] as const;

export function makeUseAimock(hooks: () => Hooks) {
  return function useAimock(options: UseAimockOptions = {}): () => AimockHandle {
    const { fixtures, patchEnv = true, ...rest } = options;
    const h = hooks();
    let handle: AimockHandle | undefined;
    const saved = new Map<string, string | undefined>();
    h.beforeAll(async () => {
      const llm = new LLMock(rest);
      if (fixtures) {
        if (statSync(fixtures).isDirectory()) llm.loadFixtureDir(fixtures);
        else llm.loadFixtureFile(fixtures);
      }
      const url = await llm.start();
      if (patchEnv) {
        for (const k of ENV) saved.set(k, process.env[k]);
        process.env.OPENAI_BASE_URL = `${url}/v1`;
        process.env.ANTHROPIC_BASE_URL = url;
      }
      handle = { llm, url };
    }, 30_000);
    h.beforeEach(() => {
      handle?.llm.resetMatchCounts();
    });
    h.afterAll(async () => {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      saved.clear();
      await handle?.llm.stop();
      handle = undefined;
    });
    return () => {
      if (!handle) throw new Error("aimock-rs: useAimock's server runs from beforeAll to afterAll");
      return handle;
    };
  };
}
