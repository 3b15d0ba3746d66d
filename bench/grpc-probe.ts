import { connect } from "node:http2";

/** The gRPC status of one call. */
export interface GrpcOutcome {
  status: string;
  message: string;
}

/**
 * Sends one framed gRPC request over h2c and reads `grpc-status` from the
 * trailers (or the headers, for a trailers-only answer). h2load cannot see
 * trailers, so this is how the bench knows its body file is a valid call.
 */
export function probeGrpc(
  baseUrl: string,
  path: string,
  frame: Uint8Array,
  headers: Record<string, string> = {},
): Promise<GrpcOutcome> {
  return new Promise((resolve, reject) => {
    const session = connect(baseUrl);
    const done = (err: Error | undefined, outcome?: GrpcOutcome) => {
      session.close();
      if (err !== undefined || outcome === undefined) reject(err ?? new Error("no outcome"));
      else resolve(outcome);
    };
    session.on("error", (err) => done(err));
    session.setTimeout(10_000, () => done(new Error(`gRPC probe of ${path} timed out`)));
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let headerStatus: string | undefined;
    let headerMessage = "";
    req.on("response", (headers) => {
      headerStatus = headers["grpc-status"]?.toString();
      headerMessage = headers["grpc-message"]?.toString() ?? "";
    });
    req.on("trailers", (trailers) => {
      headerStatus = trailers["grpc-status"]?.toString() ?? headerStatus;
      headerMessage = trailers["grpc-message"]?.toString() ?? headerMessage;
    });
    req.on("error", (err) => done(err));
    req.resume();
    req.on("end", () =>
      done(undefined, {
        status: headerStatus ?? "missing",
        message: decodeURIComponent(headerMessage),
      }),
    );
    req.end(frame);
  });
}
