// Whether the standard OTEL_* variables ask for a trace exporter. Both
// preloads (otel-register.mjs, otel-start.mjs) ask this first: when nothing
// is exported, neither the loader hook nor the SDK is loaded at all (about
// 50 MB of a process's memory, and a hook on every module load).

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {boolean}
 */
export function otelWanted(env) {
  const exporter = env.OTEL_TRACES_EXPORTER;
  return (
    env.OTEL_SDK_DISABLED !== "true" &&
    exporter !== "none" &&
    (exporter !== undefined ||
      env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
  );
}
