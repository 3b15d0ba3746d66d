/**
 * Counter names of the activity store: short fields joined by "|", the kind
 * first and the tenant second, so a reader can filter by tenant without
 * knowing the kind:
 *
 * - `g|<tenant>|<channel>|<country>`: a challenge was created
 * - `v|<tenant>|<channel>|<country>|<result>`: a verification finished
 * - `n|<tenant>|<method>|<code>`: an RPC was answered with a Connect code
 * - `l|<tenant>|<method>|<bucket>`: an RPC took a time in latency bucket `<bucket>`
 * - `r|<tenant>|<limit>`: a call was refused by the rate limit `<limit>`
 * - `x|<tenant>|<reason>`: a call was refused with the error reason `<reason>`
 * - `d|<tenant>|<channel>|<status>`: a delivery reached `<status>`
 * - `e|<tenant>`: challenges whose code expires in this minute, less those that ended early
 *
 * Every part comes from a closed set (tenant ids, channel kinds, ISO country
 * codes, method names, limit names, reasons, codes); anything else is folded
 * into "other", so no recipient, code or free text can become a counter.
 */
export type CounterKind = "g" | "v" | "n" | "l" | "r" | "x" | "d" | "e";

interface Node {
  field: string;
  next: Map<string, Node> | undefined;
}

// Parts are short, start with a letter or digit (or are "-", no tenant), and hold no "|".
const partPattern = /^(?:-|[A-Za-z0-9][A-Za-z0-9_./-]{0,63})$/;
// Beyond this many distinct names, new ones fold into "other".
const maxNodes = 50_000;

/**
 * Builds counter names from their parts, each name once: the names live in
 * a tree keyed by part, so a call that counts something already seen looks
 * up a few map entries and builds no string.
 */
export interface FieldNames {
  /** The name of a counter with the given parts (2 to 5, the kind first). */
  name(kind: CounterKind, a: string, b?: string, c?: string, d?: string): string;
}

/** Creates {@link FieldNames}. */
export function createFieldNames(): FieldNames {
  const root: Node = { field: "", next: undefined };
  let nodes = 0;
  const child = (node: Node, part: string): Node => {
    let next = node.next?.get(part);
    if (next !== undefined) return next;
    const safe = partPattern.test(part) && nodes < maxNodes ? part : "other";
    next = node.next?.get(safe);
    if (next === undefined) {
      next = { field: node.field === "" ? safe : `${node.field}|${safe}`, next: undefined };
      node.next ??= new Map();
      node.next.set(safe, next);
      nodes += 1;
    }
    return next;
  };
  return {
    name(kind, a, b, c, d) {
      let node = child(child(root, kind), a === "" ? "-" : a);
      if (b !== undefined) node = child(node, b);
      if (c !== undefined) node = child(node, c);
      if (d !== undefined) node = child(node, d);
      return node.field;
    },
  };
}

/** A counter name split into its parts: the kind, the tenant ("-" for none) and the rest. */
export interface ParsedField {
  kind: CounterKind;
  tenant: string;
  rest: string[];
}

const kinds = new Set<string>(["g", "v", "n", "l", "r", "x", "d", "e"]);

/** Splits a counter name; undefined for a name this version does not know. */
export function parseField(field: string): ParsedField | undefined {
  const parts = field.split("|");
  const [kind, tenant, ...rest] = parts;
  if (kind === undefined || tenant === undefined || !kinds.has(kind)) return undefined;
  return { kind: kind as CounterKind, tenant, rest };
}
