// Loaded first with `node --import`: registers OpenTelemetry's ESM loader hook
// so that the instrumentations (ioredis, http, undici) see modules imported by
// an ESM app. Without it they see nothing.
import { register } from "node:module";

register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
