// A diagnostic preload: which functions allocate what outlives the young
// generation (the objects a busy server leaves for its full collections).
//
//   node --import ./bench/survivor-probe.mjs dist/src/main.js
//   kill -USR2 <pid>   # start, once the load runs
//   kill -USR2 <pid>   # stop, after the load has ended
//
// The first SIGUSR2 starts V8's sampling heap profiler (through
// node:inspector) keeping only objects that no scavenge collected: those still
// alive and those a full collection took. The second first churns the young
// generation with garbage of its own (scavenged, so not sampled), so that no
// call is still in flight and counted, then writes the profile to
// SURVIVOR_PROBE_OUT (default ./survivors.heapprofile), which Chrome DevTools
// (Memory, Load) shows by allocating function and stack. Stop the load before
// the second signal. The sampling costs CPU; never measure with it.
// docs/hot-path.md ("Object spreads that outlived the young generation") has
// what it found.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );

let sampling = false;
process.on("SIGUSR2", () => {
  const step = sampling ? stop() : start();
  step.catch((err) => process.stderr.write(`survivor-probe: ${err}\n`));
});

async function start() {
  sampling = true;
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: Number(process.env.SURVIVOR_PROBE_INTERVAL ?? 1024),
    includeObjectsCollectedByMinorGC: false,
    includeObjectsCollectedByMajorGC: true,
  });
  process.stderr.write("survivor-probe: sampling\n");
}

async function stop() {
  sampling = false;
  // About 100 MB of short-lived arrays: a dozen scavenges at any young size.
  let kept = 0;
  for (let i = 0; i < 400_000; i++) kept += new Array(32).length;
  const { profile } = await post("HeapProfiler.stopSampling");
  const out = process.env.SURVIVOR_PROBE_OUT ?? "survivors.heapprofile";
  writeFileSync(out, JSON.stringify(profile));
  process.stderr.write(`survivor-probe: wrote ${out} (churned ${kept} slots)\n`);
}
