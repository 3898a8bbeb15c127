// For compiling only: the vitest helper's imports (vitest is the user's, a peer dependency).
declare module "vitest" {
  type Hook = (fn: () => unknown, timeout?: number) => void;
  export const beforeAll: Hook;
  export const beforeEach: Hook;
  export const afterAll: Hook;
}
