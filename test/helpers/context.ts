/** The part of a tap test the helpers need: a place to register cleanup. */
export interface TestContext {
  teardown(fn: () => unknown): void;
}
