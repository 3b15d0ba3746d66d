// The variable builders and the parse loop every area shares. Over 300 lines
// because each builder carries its documentation and JSDoc; every function in
// it is short, and splitting them would only scatter one vocabulary.
import { z } from "zod";

/**
 * What the reference (docs/configuration.md) says about one variable, kept on
 * its schema with zod's `.meta()`. The builders below fill `type`, `default`
 * and `allowed` from the same arguments that make the schema, so a range or a
 * default is written once.
 */
export interface VariableMeta {
  /** What the variable does, in a sentence or two of Markdown. */
  description: string;
  /** The kind of value: "integer", "string", "limit", "list", "URL", ... */
  type: string;
  /** The default as the reference shows it; undefined when unset means off or none. */
  default?: string;
  /** The range or the values accepted, as the reference shows them. */
  allowed?: string;
  /** Never echoed in a problem; shown as secret in the reference. */
  secret?: boolean;
  /** Variables that must be set when this one is (reported `NAME: needs OTHER`). */
  needs?: readonly string[];
  /** This variable must be set when that one is (reported `NAME: required with OTHER`). */
  requiredWith?: { name: string; hint?: string };
  /** Why the variable is required when NODE_ENV=production; undefined when it is not. */
  requiredInProduction?: string;
  /** Why the variable is required with a Redis store in development; undefined when it is not. */
  requiredWithRedis?: string;
  /** A further rule in production, checked by the area's code; for the reference. */
  production?: string;
}

/** A declared variable: a zod schema from the raw text (undefined when unset) to its value. */
export type Variable<T = unknown> = z.ZodType<T, string | undefined>;

/** Variables by environment name. */
export type Variables = Record<string, Variable>;

/** The parsed values of `V`, by environment name. */
export type Values<V extends Variables> = { [K in keyof V]: z.output<V[K]> };

/** A group of variables the reference shows under one heading. */
export interface Area {
  title: string;
  /** A paragraph of Markdown shown under the heading. */
  summary: string;
  variables: Variables;
}

/** The environment as `process.env` gives it. */
export type Env = Record<string, string | undefined>;

/** Reads the metadata a builder attached to a variable. */
export function metaOf(variable: Variable): VariableMeta {
  const meta = variable.meta() as VariableMeta | undefined;
  if (meta === undefined) throw new Error("a configuration variable without metadata");
  return meta;
}

/** What a builder takes besides its value rules; `defaultText` overrides the shown default. */
export type Doc = Omit<VariableMeta, "type" | "default" | "allowed"> & { defaultText?: string };

// Only the documented fields go into the metadata, not the builders' options.
// zod's `.meta()` takes an object with an index signature, which an interface lacks.
type MetaObject = VariableMeta & Record<string, unknown>;

function meta(doc: Doc, fields: Pick<VariableMeta, "type" | "default" | "allowed">): MetaObject {
  const { defaultText, ...rest } = doc;
  const own = Object.fromEntries(
    Object.entries(rest).filter(([key]) => documented.has(key as keyof VariableMeta)),
  );
  return { ...own, ...fields, default: defaultText ?? fields.default } as MetaObject;
}
const documented = new Set<keyof VariableMeta>([
  "description",
  "secret",
  "needs",
  "requiredWith",
  "requiredInProduction",
  "requiredWithRedis",
  "production",
]);

const code = (value: string | number) => `\`${value}\``;
const quote = (value: string) => `"${value}"`;
const orList = (values: readonly string[], mark: (value: string) => string = code) =>
  values.length === 1
    ? mark(values[0] as string)
    : `${values.slice(0, -1).map(mark).join(", ")} or ${mark(values.at(-1) as string)}`;

// A raw value is trimmed before parsing, and an empty one counts as unset.
const raw = z.string().optional();

/**
 * A whole number within `min..max`, `default` when unset. With `orZero`, 0 is
 * accepted too (for "0 turns it off" settings whose range starts higher).
 *
 * @example
 * integer({ default: 8080, min: 0, max: 65535, description: "The listening port." });
 */
export function integer(
  options: Doc & { default: number; min: number; max: number; orZero?: boolean; unit?: string },
): Variable<number> {
  const { min, max, orZero = false, unit } = options;
  const range = `${orZero ? "0, or " : ""}${min}..${max}${unit === undefined ? "" : ` ${unit}`}`;
  const message = (input: string) =>
    `must be ${orZero ? "0 or " : ""}a whole number from ${min} to ${max}, got "${input}"`;
  return raw
    .transform((input, ctx) => {
      if (input === undefined) return options.default;
      const n = Number(input);
      if (/^\d+$/.test(input) && ((n >= min && n <= max) || (orZero && n === 0))) return n;
      ctx.issues.push({ code: "custom", input, message: message(input) });
      return z.NEVER;
    })
    .meta(meta(options, { type: "integer", default: code(options.default), allowed: range }));
}

/**
 * One of `values`, `default` when unset (undefined when no default is given).
 *
 * @example
 * choice(["webhook", "polling", "off"], { description: "How the bot gets updates." });
 */
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  options: Doc & { default: T[number] },
): Variable<T[number]>;
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  options: Doc,
): Variable<T[number] | undefined>;
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  options: Doc & { default?: T[number] },
): Variable<T[number] | undefined> {
  return raw
    .transform((input, ctx) => {
      if (input === undefined) return options.default;
      if ((values as readonly string[]).includes(input)) return input as T[number];
      ctx.issues.push({
        code: "custom",
        input,
        message: `must be ${orList(values, quote)}, got "${input}"`,
      });
      return z.NEVER;
    })
    .meta(
      meta(options, {
        type: "enum",
        default: options.default === undefined ? undefined : code(options.default),
        allowed: orList(values),
      }),
    );
}

/**
 * `true` or `false`; undefined when unset, so the reader can tell "unset"
 * from "false" (the default often depends on the mode).
 */
export function flag(options: Doc & { defaultText: string }): Variable<boolean | undefined> {
  return raw
    .transform((input, ctx) => {
      if (input === undefined) return undefined;
      if (input === "true" || input === "false") return input === "true";
      ctx.issues.push({
        code: "custom",
        input,
        message: `must be "true" or "false", got "${input}"`,
      });
      return z.NEVER;
    })
    .meta(meta(options, { type: "boolean", allowed: orList(["true", "false"]) }));
}

/**
 * Free text, or text that must match `pattern` (then `what` says what it must
 * be, and the value is never echoed: such variables are often credentials).
 */
export function text(
  options: Doc & { pattern?: RegExp; what?: string; minLength?: number; allowed?: string },
): Variable<string | undefined>;
export function text(
  options: Doc & { default: string; pattern?: RegExp; what?: string; allowed?: string },
): Variable<string>;
export function text(
  options: Doc & {
    default?: string;
    pattern?: RegExp;
    what?: string;
    minLength?: number;
    allowed?: string;
  },
): Variable<string | undefined> {
  const { pattern, what, minLength, allowed } = options;
  return raw
    .transform((input, ctx) => {
      if (input === undefined) return options.default;
      if (minLength !== undefined && input.length < minLength) {
        // The length, never the value.
        const message = `must be at least ${minLength} characters, got ${input.length}`;
        ctx.issues.push({ code: "custom", input, message });
        return z.NEVER;
      }
      if (pattern === undefined || pattern.test(input)) return input;
      ctx.issues.push({ code: "custom", input, message: `must be ${what ?? "valid"}` });
      return z.NEVER;
    })
    .meta(
      meta(options, {
        type: options.secret === true ? "secret" : "string",
        default: options.default === undefined ? undefined : code(options.default),
        allowed:
          allowed ?? (minLength === undefined ? undefined : `at least ${minLength} characters`),
      }),
    );
}

/**
 * An http(s) URL (https only with `https`), without trailing slashes.
 * Whether https is required may depend on the mode; the area checks that.
 */
export function url(options: Doc): Variable<string | undefined> {
  return raw
    .transform((input, ctx) => {
      if (input === undefined) return undefined;
      const parsed = URL.canParse(input) ? new URL(input) : undefined;
      if (parsed?.protocol === "http:" || parsed?.protocol === "https:") {
        return input.replace(/\/+$/, "");
      }
      ctx.issues.push({ code: "custom", input, message: "must be an http(s) URL" });
      return z.NEVER;
    })
    .meta(meta(options, { type: "URL", allowed: "`http://` or `https://` URL" }));
}

/**
 * A value read by `parse`, a function that throws an Error saying what is
 * accepted (the message must not contain a secret value). `fallback` is the
 * raw text used when the variable is unset; without it, unset is undefined.
 *
 * @example
 * parsed(parseLimit, { type: "limit", fallback: "10/1m", description: "..." });
 */
export function parsed<T>(
  parse: (text: string) => T,
  options: Doc & { type: string; fallback: string; allowed: string },
): Variable<T>;
export function parsed<T>(
  parse: (text: string) => T,
  options: Doc & { type: string; allowed: string },
): Variable<T | undefined>;
export function parsed<T>(
  parse: (text: string) => T,
  options: Doc & { type: string; fallback?: string; allowed: string },
): Variable<T | undefined> {
  const { fallback } = options;
  return raw
    .transform((input, ctx) => {
      const value = input ?? fallback;
      if (value === undefined) return undefined;
      try {
        return parse(value);
      } catch (err) {
        ctx.issues.push({ code: "custom", input: value, message: (err as Error).message });
        return z.NEVER;
      }
    })
    .meta(
      meta(options, {
        type: options.type,
        default: fallback === undefined ? undefined : code(fallback),
        allowed: options.allowed,
      }),
    );
}

/**
 * Splits comma-separated text into trimmed, non-empty entries.
 *
 * @example
 * splitList(" a, b ,,c"); // ["a", "b", "c"]
 */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Parses every variable of `variables` from `env`, adding one problem
 * (`NAME: message`) per invalid variable. An invalid variable takes its
 * default, so the checks that relate variables still run and every problem
 * is reported at once.
 */
export function parseVariables<V extends Variables>(
  variables: V,
  env: Env,
  problems: string[],
): Values<V> {
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(variables)) {
    const input = readRaw(env, name);
    const result = variable.safeParse(input);
    if (result.success) {
      values[name] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      problems.push(`${name}: ${redact(issue.message, input, metaOf(variable).secret === true)}`);
    }
    values[name] = variable.safeParse(undefined).data;
  }
  return values as Values<V>;
}

/** The trimmed value of `name`, undefined when unset or empty. */
export function readRaw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

// A last guard: a message about a secret never carries its value.
function redact(message: string, input: string | undefined, secret: boolean): string {
  if (!secret || input === undefined || !message.includes(input)) return message;
  return "is not valid";
}

/** The service's mode: "production" refuses the outbox and every development default. */
export type Mode = "development" | "production";

/** What an area's reader gets besides its values: the mode, and where problems go. */
export interface Context {
  mode: Mode;
  /** True when the variable has a non-empty value, valid or not. */
  isSet(name: string): boolean;
  /** True when any Redis layout variable is set. */
  redisConfigured: boolean;
  /** Reports a problem with `name`; the message must not contain a secret. */
  problem(name: string, message: string): void;
}
