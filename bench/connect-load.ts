import autocannon from "autocannon";
import type { LoadDriver } from "./load.js";

const connections = 10;

/**
 * Connect JSON over HTTP/1.1 with autocannon: 10 keep-alive connections, one
 * call in flight on each. When a scenario has several bodies, each call takes
 * the next one in turn, continuing across runs of the same target.
 */
export const connectDriver: LoadDriver = {
  protocol: "Connect JSON",
  description: `autocannon over HTTP/1.1, ${connections} connections, no pipelining; latencies in whole ms`,
  rotatesBodies: true,
  seesRpcErrors: true,
  async prepare(baseUrl, procedure, payloads) {
    const bodies = payloads.json;
    if (bodies.length === 0) throw new Error("no request body given");
    let next = 0;
    const headers = { "content-type": "application/json", "connect-protocol-version": "1" };
    return {
      async run(seconds) {
        const result = await autocannon({
          url: `${baseUrl}/${procedure}`,
          connections,
          duration: seconds,
          timeout: 10,
          requests: [
            {
              method: "POST",
              headers,
              setupRequest: (request) => {
                const body = bodies[next % bodies.length];
                next += 1;
                return { ...request, body };
              },
            },
          ],
        });
        const calls = result["2xx"] + result.non2xx;
        return {
          callsPerSecond: calls / result.duration,
          calls,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          clientErrors: result.errors + result.non2xx,
          detail: {
            s2xx: result["2xx"],
            non2xx: result.non2xx,
            s4xx: result["4xx"],
            s5xx: result["5xx"],
            errors: result.errors,
            timeouts: result.timeouts,
            sent: result.requests.sent,
          },
        };
      },
      close: async () => {},
    };
  },
};
