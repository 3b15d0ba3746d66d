// Rewrites TypeScript's ES2017 emulation of async generators in compiled
// JavaScript back to native syntax, the way an ES2018 build would emit it:
//
//   __asyncGenerator(this, arguments, function* f() { ... })  ->  async function* f() { ... }
//   yield __await(x)                                          ->  await (x)
//   yield yield __await(x)                                    ->  yield (x)
//   yield __await(yield* __asyncDelegator(__asyncValues(x)))  ->  yield* x
//
// A function whose whole body returns such a generator becomes the async
// generator function itself, so a call makes no closure. Downleveled
// `for await` loops (TypeScript's __asyncValues, iterated by hand) are left
// as they are: inside a native generator they iterate exactly as before.
//
// It made the generator part of patches/@connectrpc+connect+2.1.2.patch
// (docs/hot-path.md says why). On an upgrade of Connect: run it on the new
// package's dist, then `npx patch-package @connectrpc/connect`.
//
//   npx tsx scripts/native-async-generators.ts node_modules/@connectrpc/connect/dist/esm/protocol/async-iterable.js ...
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const generatorHead = /__asyncGenerator\(this, arguments, function\* ?(\w*)\(\) \{/g;
const wrapperHead = /function( \w+)? ?\(([^()]*)\) \{\s*return \(async function\* \w*\(\) \{/g;
const wrapperTail = /^\}\)\.call\(this\);\s*\}/;

/**
 * The index of the `}` that closes the block whose body starts at `from`,
 * skipping strings, template literals and comments.
 */
function closingBrace(src: string, from: number): number {
  let depth = 1;
  for (let j = from; j < src.length; j++) {
    const c = src[j];
    if (c === "/" && src[j + 1] === "/") j = src.indexOf("\n", j);
    else if (c === "/" && src[j + 1] === "*") j = src.indexOf("*/", j) + 1;
    else if (c === '"' || c === "'" || c === "`") {
      for (j++; j < src.length && src[j] !== c; j++) if (src[j] === "\\") j++;
    } else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return j;
    if (j < 0) break;
  }
  throw new Error(`no closing brace for the block at ${from}`);
}

/**
 * Rewrites each block whose opening `head` matches: `rewrite` gets the match,
 * the block's body and the index of its closing brace, and returns the text
 * that replaces everything from the match up to `next`, or undefined to
 * leave the match as it is (its body is still scanned).
 */
function rewriteBlocks(
  src: string,
  head: RegExp,
  rewrite: (
    m: RegExpExecArray,
    body: string,
    end: number,
  ) => { text: string; next: number } | undefined,
): string {
  let out = "";
  let i = 0;
  for (;;) {
    head.lastIndex = i;
    const m = head.exec(src);
    if (m === null) return out + src.slice(i);
    const start = m.index + m[0].length;
    const end = closingBrace(src, start);
    const done = rewrite(m, src.slice(start, end), end);
    out += src.slice(i, done === undefined ? start : m.index) + (done?.text ?? "");
    i = done?.next ?? start;
  }
}

/** Replaces each `__asyncGenerator(...)` call with a native async generator, called the same way. */
function nativeGenerators(src: string): string {
  return rewriteBlocks(src, generatorHead, (m, inner, end) => {
    if (src[end + 1] !== ")") throw new Error(`no ")" after the generator ending at ${end}`);
    const body = nativeGenerators(inner)
      .replaceAll("yield __await(yield* __asyncDelegator(__asyncValues(", "yield* (((")
      .replaceAll("yield yield __await(", "yield (")
      .replaceAll("yield __await(", "await (")
      .replace(/yield\* \(\(\(([A-Za-z_$][\w$.]*)\)\)\)/g, "yield* $1");
    if (/__await\(|__asyncDelegator\(/.test(body)) {
      throw new Error(`a helper call this rewrite does not know is left in:\n${body}`);
    }
    return { text: `(async function* ${m[1] ?? ""}() {${body}}).call(this)`, next: end + 2 };
  });
}

/** Turns `function (a) { return (async function* () { ... }).call(this); }` into `async function* (a) { ... }`. */
function unwrapped(src: string): string {
  return rewriteBlocks(src, wrapperHead, (m, body, end) => {
    const tail = wrapperTail.exec(src.slice(end));
    if (tail === null) return undefined;
    return {
      text: `async function*${m[1] ?? " "}(${m[2] ?? ""}) {${body}}`,
      next: end + tail[0].length,
    };
  });
}

/**
 * The native rewrite of one compiled file's text; unchanged when it has no
 * emulated generator.
 *
 * @example
 * nativeAsyncGenerators(readFileSync("dist/esm/protocol/async-iterable.js", "utf8"));
 */
export function nativeAsyncGenerators(src: string): string {
  return unwrapped(nativeGenerators(src));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const file of process.argv.slice(2)) {
    const before = readFileSync(file, "utf8");
    const after = nativeAsyncGenerators(before);
    writeFileSync(file, after);
    const count = before.match(generatorHead)?.length ?? 0;
    process.stdout.write(`${file}: ${count} generator(s) made native\n`);
  }
}
