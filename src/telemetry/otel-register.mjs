// Loaded first with `node --import`: registers OpenTelemetry's ESM loader hook
// so that the instrumentations (ioredis, http, undici) see modules imported by
// an ESM app. Without it they see nothing. Only when traces are exported.
import { register } from "node:module";
import { otelWanted } from "./otel-wanted.mjs";

if (otelWanted(process.env)) register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
