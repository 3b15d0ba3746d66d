import { fileURLToPath, pathToFileURL } from "node:url";
import { pipe, transformParseEnvelope, transformSplitEnvelope } from "@connectrpc/connect/protocol";
import { runCommand } from "./commands.js";

/**
 * What outlives two scavenges per call when a call reads one message through
 * async generators: native `async function*` against Connect's. Connect is
 * compiled for ES2017, so its own run on TypeScript's __asyncGenerator
 * helpers; our patch makes them native, so to see the helpers' cost run it
 * between `npx patch-package --reverse` and `npx patch-package`. No HTTP, no
 * service: a call is started every millisecond for `PROMOTION_SECONDS` (10) and drains its
 * pipeline. docs/hot-path.md#what-is-left-the-tail has the figures and why
 * they matter for the gRPC tail.
 *
 *   npx tsx bench/generator-promotion.ts
 */

const serialization = {
  parse: (b: Uint8Array) => b,
  serialize: (m: Uint8Array) => Uint8Array.from(m),
};
const seconds = Number(process.env.PROMOTION_SECONDS ?? "10");

async function* source(): AsyncGenerator<Uint8Array> {
  await new Promise((resolve) => setImmediate(resolve));
  yield new Uint8Array([0, 0, 0, 0, 2, 8, 1]);
  await new Promise((resolve) => setImmediate(resolve));
}

async function* nativeSplit(it: AsyncIterable<Uint8Array>) {
  for await (const chunk of it) yield { flags: chunk[0] ?? 0, data: chunk.subarray(5) };
}

async function* nativeParse(it: AsyncIterable<{ flags: number; data: Uint8Array }>) {
  for await (const envelope of it) yield serialization.parse(envelope.data);
}

const split = () => transformSplitEnvelope(1 << 20);
const parse = () => transformParseEnvelope(serialization);

/** Each variant: what one call drains. */
export const variants: Record<string, { label: string; drain: () => AsyncIterable<unknown> }> = {
  source: { label: "the source alone", drain: () => source() },
  native: {
    label: "two native async function* transforms (split, parse)",
    drain: () => nativeParse(nativeSplit(source())),
  },
  pipe: {
    label: "Connect's pipe() with no transform",
    drain: () => pipe(source(), (it: AsyncIterable<Uint8Array>) => it),
  },
  split: { label: "Connect's transformSplitEnvelope alone", drain: () => split()(source()) },
  "split+parse": {
    label: "transformParseEnvelope(transformSplitEnvelope(source))",
    drain: () => parse()(split()(source())),
  },
  "pipe+split+parse": {
    label: "pipe(source, split, parse): how the gRPC handler reads a request",
    drain: () => pipe(source(), split(), parse()),
  },
};

/**
 * Bytes the scavenges promoted per call, from `--trace-gc-nvp` output: the
 * `promoted=` of every scavenge (`gc=s`), full collections left out.
 *
 * @example
 * promotedPerCall("... gc=s ... promoted=2048 ...\n", 2); // 1024
 */
export function promotedPerCall(traceLog: string, calls: number): number {
  let promoted = 0;
  for (const line of traceLog.split("\n")) {
    if (!/\bgc=s\b/.test(line)) continue;
    promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return calls > 0 ? promoted / calls : Number.NaN;
}

async function child(name: string): Promise<void> {
  const variant = variants[name];
  if (variant === undefined) throw new Error(`no variant ${name}`);
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      if (Date.now() > end) return done();
      calls++;
      void (async () => {
        for await (const _ of variant.drain()) {
          // drained
        }
      })();
      setTimeout(tick, 1);
    };
    tick();
  });
  process.stdout.write(`calls=${calls}\n`);
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  // The children run under tsx, whose loader adds about 1 KB a call of its
  // own; the last column takes the source alone (measured first) as the zero.
  process.stdout.write(
    "| each call drains | promoted per call | beyond the source alone |\n| --- | ---: | ---: |\n",
  );
  let base: number | undefined;
  for (const [name, { label }] of Object.entries(variants)) {
    const flags = ["--max-semi-space-size=8", "--trace-gc", "--trace-gc-nvp"];
    const run = await runCommand(
      process.execPath,
      [...flags, "--import", "tsx", self, "--child", name],
      (seconds + 60) * 1000,
    );
    const calls = Number(/calls=(\d+)/.exec(run.stdout)?.[1] ?? 0);
    const perCall = promotedPerCall(run.stdout, calls);
    if (name === "source") base = perCall;
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
    const beyond = base === undefined ? "–" : kb(perCall - base);
    process.stdout.write(`| ${label} | ${kb(perCall)} | ${beyond} |\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const at = process.argv.indexOf("--child");
  await (at >= 0 ? child(process.argv[at + 1] ?? "") : main());
}
