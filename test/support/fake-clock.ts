/** A clock that moves only when a test says so. */
export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
}

/** Creates a {@link FakeClock} starting at a fixed, realistic time. */
export function createFakeClock(startMs = Date.UTC(2026, 0, 1)): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}
