import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/health/v1/health_pb.js";

/** The `grpc.health.v1.Health` implementation and the switches that drive it. */
export interface HealthService {
  /** Handlers to register with `router.service(Health, impl)`. */
  impl: ServiceImpl<typeof Health>;
  /**
   * Sets the status of a service (`""` is the server as a whole) and tells
   * its watchers. Ignored after {@link HealthService.shutdown}.
   */
  setStatus(service: string, status: HealthCheckResponse_ServingStatus): void;
  /** Marks each of these services as serving. */
  setServing(services: readonly string[]): void;
  /**
   * Marks every service NOT_SERVING, tells the watchers, then ends their
   * streams. Further `setStatus` calls are ignored: the server is going away.
   */
  shutdown(): void;
}

type Update = HealthCheckResponse_ServingStatus | "end";

/**
 * Creates the gRPC health service (https://github.com/grpc/grpc/blob/master/doc/health-checking.md).
 * The server as a whole (service name `""`) starts SERVING; other services
 * are unknown until `setStatus` names them.
 *
 * @example
 * const health = createHealthService();
 * router.service(Health, health.impl);
 * health.setStatus("otp.v1.OtpService", HealthCheckResponse_ServingStatus.SERVING);
 */
export function createHealthService(): HealthService {
  const state: HealthState = {
    statuses: new Map([["", HealthCheckResponse_ServingStatus.SERVING]]),
    watchers: new Map(),
    terminal: false,
  };
  const setStatus = (service: string, status: HealthCheckResponse_ServingStatus) =>
    setServiceStatus(state, service, status);

  const impl: ServiceImpl<typeof Health> = {
    check(req) {
      const status = state.statuses.get(req.service);
      if (status === undefined) {
        throw new ConnectError("unknown service", Code.NotFound);
      }
      return { status };
    },

    list() {
      const result: Record<string, HealthCheckResponse> = {};
      for (const [service, status] of state.statuses) {
        result[service] = create(HealthCheckResponseSchema, { status });
      }
      return { statuses: result };
    },

    watch: (req, context) => watchStatus(state, req.service, context.signal),
  };

  return {
    impl,
    setStatus,
    setServing(services) {
      for (const service of services) setStatus(service, HealthCheckResponse_ServingStatus.SERVING);
    },
    shutdown() {
      if (state.terminal) {
        return;
      }
      for (const service of state.statuses.keys()) {
        setStatus(service, HealthCheckResponse_ServingStatus.NOT_SERVING);
      }
      state.terminal = true;
      for (const service of state.watchers.keys()) {
        notify(state, service, "end");
      }
    },
  };
}

// The statuses, who watches them, and whether the server is going away.
interface HealthState {
  statuses: Map<string, HealthCheckResponse_ServingStatus>;
  watchers: Map<string, Set<(update: Update) => void>>;
  terminal: boolean;
}

function notify(state: HealthState, service: string, update: Update): void {
  for (const watcher of state.watchers.get(service) ?? []) {
    watcher(update);
  }
}

function setServiceStatus(
  state: HealthState,
  service: string,
  status: HealthCheckResponse_ServingStatus,
): void {
  if (state.terminal || state.statuses.get(service) === status) {
    return;
  }
  state.statuses.set(service, status);
  notify(state, service, status);
}

// Health/Watch: the current status at once, then each change, until the
// client leaves or the server shuts down.
async function* watchStatus(
  state: HealthState,
  service: string,
  signal: AbortSignal,
): AsyncGenerator<{ status: HealthCheckResponse_ServingStatus }> {
  const { statuses, watchers } = state;
  const queue: Update[] = [
    statuses.get(service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
  ];
  if (state.terminal) {
    queue.push("end");
  }
  let wake: (() => void) | undefined;
  const push = (update: Update) => {
    queue.push(update);
    wake?.();
  };
  const onAbort = () => push("end");
  const set = watchers.get(service) ?? new Set();
  watchers.set(service, set);
  set.add(push);
  signal.addEventListener("abort", onAbort);
  try {
    for (;;) {
      const update = queue.shift();
      if (update === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (update === "end" || signal.aborted) {
        return;
      }
      yield { status: update };
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    set.delete(push);
    if (set.size === 0 && watchers.get(service) === set) {
      watchers.delete(service);
    }
  }
}
