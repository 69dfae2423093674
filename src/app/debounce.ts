/**
 * Collapses a burst of triggers into one call: `fn` runs `delayMs` after the
 * last trigger of a burst (a file write is often several fs events, and a
 * ConfigMap swap is a few renames in a row).
 */
export class Debouncer {
  readonly #delayMs: number;
  readonly #fn: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(delayMs: number, fn: () => void) {
    this.#delayMs = delayMs;
    this.#fn = fn;
  }

  /** (Re)starts the quiet period; `fn` runs once it passes without another trigger. */
  trigger(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fn();
    }, this.#delayMs);
  }

  /** Whether a call is waiting for its quiet period to pass. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Drops a pending call. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
