/** A clock that moves only when a test says so. It starts at the real time, because Redis expires keys by the real clock. */
export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
}

/** Creates a {@link FakeClock} starting at a fixed, realistic time. */
export function createFakeClock(startMs = Date.now()): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}
