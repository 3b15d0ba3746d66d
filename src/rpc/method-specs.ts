import {
  type ConnectRouter,
  createServiceImplSpec,
  type MethodImplSpec,
} from "@connectrpc/connect";

/**
 * The router the routes register with, also keeping each method's
 * implementation by its request path, for the unary gRPC path
 * (grpc-unary.ts), which runs a method without Connect's handler. A service
 * registered with handler options of its own is left to Connect alone.
 *
 * @example
 * const specs = new Map<string, MethodImplSpec>();
 * routes(keepingSpecs(createConnectRouter(options), specs));
 */
export function keepingSpecs(
  router: ConnectRouter,
  specs: Map<string, MethodImplSpec>,
): ConnectRouter {
  const keeping: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, handlerOptions) {
      router.service(service, implementation, handlerOptions);
      if (handlerOptions === undefined) {
        const spec = createServiceImplSpec(service, implementation);
        for (const method of Object.values(spec.methods)) {
          specs.set(`/${service.typeName}/${method.method.name}`, method);
        }
      }
      return keeping;
    },
    rpc(method, implementation, handlerOptions) {
      router.rpc(method, implementation, handlerOptions);
      return keeping;
    },
  };
  return keeping;
}
