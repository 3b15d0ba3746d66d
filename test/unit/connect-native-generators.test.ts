import { createAsyncIterable, pipe, transformSplitEnvelope } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { nativeAsyncGenerators } from "../../scripts/native-async-generators.js";

// patches/@connectrpc+connect+2.1.2.patch: Connect's async generators run
// natively instead of on TypeScript's ES2017 emulation, which cost a gRPC
// call a quarter of its CPU (docs/hot-path.md).
// scripts/native-async-generators.ts made that part of the patch.

const tag = (value: unknown) => Object.prototype.toString.call(value);

describe("Connect's pipeline, as installed", () => {
  it("runs on native async generators", async () => {
    const source = createAsyncIterable([new Uint8Array([0, 0, 0, 0, 1, 7])]);
    const envelopes = pipe(source, transformSplitEnvelope(1024));
    expect(tag(source)).toBe("[object AsyncGenerator]");
    expect(tag(envelopes)).toBe("[object AsyncGenerator]");
    const read = [];
    for await (const envelope of envelopes) read.push([...envelope.data]);
    expect(read).toEqual([[7]]);
  });
});

// The shapes TypeScript 5 emits for an ES2017 target, as in Connect's dist:
// a generator returned by an exported function, one returned by a function
// that a transform factory returns, a hand-iterated `for await`, a `yield*`
// and a nested generator; a comment and a string hold braces and quotes.
const emitted = `
var __asyncValues = (o) => o[Symbol.asyncIterator]();
function numbers(n) {
    return __asyncGenerator(this, arguments, function* numbers_1() {
        // don't stop at a "}" in a comment
        for (let i = 0; i < n; i++) {
            yield __await(null);
            yield yield __await(i);
        }
    });
}
function doubling() {
    return function (iterable) {
        return __asyncGenerator(this, arguments, function* () {
            var _a, e_1, _b, _c;
            try {
                for (var _d = true, it_1 = __asyncValues(iterable), it_1_1; it_1_1 = yield __await(it_1.next()), _a = it_1_1.done, !_a; _d = true) {
                    _c = it_1_1.value;
                    _d = false;
                    if (_c === 3) throw new Error("three: '{'");
                    yield yield __await(_c * 2);
                }
            }
            catch (e_1_1) { e_1 = { error: e_1_1 }; }
            finally {
                try {
                    if (!_d && !_a && (_b = it_1.return)) yield __await(_b.call(it_1));
                }
                finally { if (e_1) throw e_1.error; }
            }
        });
    };
}
function then(tail) {
    return function (iterable) {
        const inner = function () {
            return __asyncGenerator(this, arguments, function* () {
                yield yield __await(yield __await(tail));
            });
        };
        return __asyncGenerator(this, arguments, function* () {
            yield __await(yield* __asyncDelegator(__asyncValues(iterable)));
            yield __await(yield* __asyncDelegator(__asyncValues(inner())));
        });
    };
}
return { numbers, doubling, then };
`;

type Gen = (iterable: AsyncIterable<number>) => AsyncGenerator<number>;
interface Emitted {
  numbers(n: number): AsyncGenerator<number>;
  doubling(): Gen;
  then(tail: Promise<number>): Gen;
}

async function collect(iterable: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

describe("scripts/native-async-generators.ts", () => {
  const rewritten = nativeAsyncGenerators(emitted);
  const made = new Function(rewritten)() as Emitted;

  it("leaves none of TypeScript's generator helpers called", () => {
    expect(rewritten).not.toMatch(/__asyncGenerator\(|__await\(|__asyncDelegator\(/);
    expect(rewritten).toContain("return async function* (iterable) {");
    expect(rewritten).toContain("yield* iterable;");
  });

  it("makes generators that yield what the emulated ones would", async () => {
    const { numbers, doubling, then } = made;
    expect(tag(numbers(1))).toBe("[object AsyncGenerator]");
    expect(await collect(numbers(3))).toEqual([0, 1, 2]);
    expect(await collect(doubling()(numbers(3)))).toEqual([0, 2, 4]);
    expect(await collect(then(Promise.resolve(9))(numbers(2)))).toEqual([0, 1, 9]);
  });

  it("passes errors on and closes the source when the reader stops early", async () => {
    const { numbers, doubling } = made;
    await expect(collect(doubling()(numbers(5)))).rejects.toThrow("three: '{'");
    let closed = false;
    const source = (async function* () {
      try {
        yield* numbers(10);
      } finally {
        closed = true;
      }
    })();
    for await (const value of doubling()(source)) if (value === 2) break;
    expect(closed).toBe(true);
  });

  it("refuses a helper call it does not know, rather than leave it half-done", () => {
    const unknown =
      "function f() { return __asyncGenerator(this, arguments, function* () { x(__await(1)); }); }";
    expect(() => nativeAsyncGenerators(unknown)).toThrow(/does not know/);
  });
});
