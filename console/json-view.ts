// Reading responses of RPCs this build knows only by name: proto3 JSON,
// walked generically. Once the lead merges those RPCs, pages can switch to
// the generated types; until then nothing here invents a field.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { h } from "./dom.js";

/** Whether a JSON value is an object (not an array or null). */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first array of objects among a response's fields (the list of a List or page response). */
export function firstList(value: JsonValue): JsonObject[] {
  if (!isObject(value)) return [];
  for (const field of Object.values(value)) {
    if (Array.isArray(field)) return field.filter(isObject);
  }
  return [];
}

/** A record's time in milliseconds, from the first RFC 3339 string field that looks like one. */
export function timeOf(record: JsonObject): number | undefined {
  for (const [name, value] of Object.entries(record)) {
    if (
      typeof value === "string" &&
      /(at|time|start)$/i.test(name) &&
      !Number.isNaN(Date.parse(value))
    ) {
      return Date.parse(value);
    }
  }
  return undefined;
}

/** The numeric fields of a record (int64 arrives as a string in proto3 JSON). */
export function numbersOf(record: JsonObject): [string, number][] {
  const out: [string, number][] = [];
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === "number") out.push([name, value]);
    else if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value))
      out.push([name, Number(value)]);
  }
  return out;
}

/** "verifiedPerMinute" as "Verified per minute". */
export function labelOf(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A one-line summary of a record: its scalar fields as `name: value`. */
export function summarize(record: JsonObject, skip: readonly string[] = []): string {
  return Object.entries(record)
    .filter(([k, v]) => !skip.includes(k) && !isObject(v) && !Array.isArray(v) && v !== "")
    .map(([k, v]) => `${labelOf(k).toLowerCase()}: ${shortEnum(v)}`)
    .join(" · ");
}

// The enum prefixes of the records the pages show, dropped for reading.
const enumPrefix = /^(AUDIT_OUTCOME|AUDIT_ACTOR_KIND|ACTIVITY_KIND|CHANNEL|DELIVERY_STATUS)_/;

/** An enum value as its short lower-case name ("AUDIT_OUTCOME_SUCCESS" reads "success"). */
export function shortEnum(value: JsonValue): string {
  const text = String(value);
  return enumPrefix.test(text) ? text.replace(enumPrefix, "").toLowerCase() : text;
}

/** Any JSON value as nested definition lists; a list of records as a table. */
export function renderJson(value: JsonValue): HTMLElement {
  if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    return recordTable(value.filter(isObject));
  }
  if (Array.isArray(value)) {
    return h("ol", { class: "json-list" }, ...value.map((item) => h("li", {}, renderJson(item))));
  }
  if (isObject(value)) {
    const list = h("dl", { class: "json" });
    for (const [name, field] of Object.entries(value)) {
      list.append(h("dt", {}, labelOf(name)), h("dd", {}, renderField(name, field)));
    }
    return list;
  }
  return h("span", {}, String(value));
}

// A share from 0 to 1 (a conversion, an error rate) reads as a percentage.
function renderField(name: string, value: JsonValue): HTMLElement {
  if (typeof value === "number" && (name === "conversion" || /(Rate|Ratio)$/.test(name))) {
    return h("span", {}, `${(value * 100).toFixed(1)} %`);
  }
  return renderJson(value);
}

// Records of one kind (segments, nodes, channels) as rows, their fields as columns.
function recordTable(records: JsonObject[]): HTMLElement {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return h(
    "table",
    { class: "table compact" },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", {}, labelOf(c))))),
    h(
      "tbody",
      {},
      ...records.map((r) =>
        h(
          "tr",
          {},
          ...columns.map((c) =>
            h("td", {}, r[c] === undefined ? "" : renderField(c, r[c] as JsonValue)),
          ),
        ),
      ),
    ),
  );
}
