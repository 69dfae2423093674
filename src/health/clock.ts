/**
 * Time as the health code sees it: now and one-shot timers. Injected so timer
 * logic (outlier ejection, half-open) is unit-tested without sleeping.
 */
export interface ClockTimer {
  /** Stops the timer; harmless after it fired. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (Date.now). */
  now(): number;
  /** Runs `callback` once after `ms`; real timers are unref'd (they never keep the process alive). */
  setTimeout(callback: () => void, ms: number): ClockTimer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
