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
  const statuses = new Map<string, HealthCheckResponse_ServingStatus>([
    ["", HealthCheckResponse_ServingStatus.SERVING],
  ]);
  const watchers = new Map<string, Set<(update: Update) => void>>();
  let terminal = false;

  function notify(service: string, update: Update): void {
    for (const watcher of watchers.get(service) ?? []) {
      watcher(update);
    }
  }

  function setStatus(service: string, status: HealthCheckResponse_ServingStatus): void {
    if (terminal || statuses.get(service) === status) {
      return;
    }
    statuses.set(service, status);
    notify(service, status);
  }

  const impl: ServiceImpl<typeof Health> = {
    check(req) {
      const status = statuses.get(req.service);
      if (status === undefined) {
        throw new ConnectError("unknown service", Code.NotFound);
      }
      return { status };
    },

    list() {
      const result: Record<string, HealthCheckResponse> = {};
      for (const [service, status] of statuses) {
        result[service] = create(HealthCheckResponseSchema, { status });
      }
      return { statuses: result };
    },

    async *watch(req, context) {
      const queue: Update[] = [
        statuses.get(req.service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
      ];
      if (terminal) {
        queue.push("end");
      }
      let wake: (() => void) | undefined;
      const push = (update: Update) => {
        queue.push(update);
        wake?.();
      };
      const onAbort = () => push("end");
      const set = watchers.get(req.service) ?? new Set();
      watchers.set(req.service, set);
      set.add(push);
      context.signal.addEventListener("abort", onAbort);
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
          if (update === "end" || context.signal.aborted) {
            return;
          }
          yield { status: update };
        }
      } finally {
        context.signal.removeEventListener("abort", onAbort);
        set.delete(push);
        if (set.size === 0 && watchers.get(req.service) === set) {
          watchers.delete(req.service);
        }
      }
    },
  };

  return {
    impl,
    setStatus,
    setServing(services) {
      for (const service of services) setStatus(service, HealthCheckResponse_ServingStatus.SERVING);
    },
    shutdown() {
      if (terminal) {
        return;
      }
      for (const service of statuses.keys()) {
        setStatus(service, HealthCheckResponse_ServingStatus.NOT_SERVING);
      }
      terminal = true;
      for (const service of watchers.keys()) {
        notify(service, "end");
      }
    },
  };
}
