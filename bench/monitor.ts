import { connect, type Socket } from "node:net";

/** One line of Redis `MONITOR` output. */
export interface MonitorLine {
  /** Seconds since the epoch, with microseconds. */
  time: number;
  /** `127.0.0.1:54321` for a client connection, `lua` for a call made inside a script. */
  client: string;
  /** The command name, upper case. */
  command: string;
}

/**
 * Parses a MONITOR line such as
 * `1700000000.123456 [0 127.0.0.1:5555] "EVALSHA" "abc" "1"`; undefined for
 * anything else (the `OK` that answers MONITOR itself).
 */
export function parseMonitorLine(line: string): MonitorLine | undefined {
  const found = /^(\d+\.\d+) \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
  if (found === null) return undefined;
  return {
    time: Number(found[1]),
    client: found[2] ?? "",
    command: (found[3] ?? "").toUpperCase(),
  };
}

/**
 * Top-level commands as the store saw them, for counting round trips:
 * calls made inside a Lua script (`[0 lua]`) belong to the EVAL/EVALSHA that
 * ran them and are dropped, and a MULTI ... EXEC block of one client counts
 * once, named `MULTI…EXEC`. Lines of `exclude`d clients (the bench's own
 * connections) are dropped too.
 *
 * @example
 * topLevelCommands(lines).map((c) => c.command); // ["EVALSHA", "MULTI…EXEC"]
 */
export function topLevelCommands(
  lines: readonly MonitorLine[],
  exclude: ReadonlySet<string> = new Set(),
): MonitorLine[] {
  const out: MonitorLine[] = [];
  const inMulti = new Set<string>();
  for (const line of lines) {
    if (line.client === "lua" || exclude.has(line.client)) continue;
    if (line.command === "MULTI") {
      inMulti.add(line.client);
      out.push({ ...line, command: "MULTI…EXEC" });
    } else if (line.command === "EXEC" || line.command === "DISCARD") {
      if (!inMulti.delete(line.client)) out.push(line);
    } else if (!inMulti.has(line.client)) {
      out.push(line);
    }
  }
  return out;
}

/** A MONITOR connection collecting lines until stopped. */
export interface Monitor {
  /** Lines seen so far; the array keeps growing until stop(). */
  lines: MonitorLine[];
  stop(): Promise<void>;
}

/**
 * Opens a MONITOR connection to the Redis at `port` on 127.0.0.1. Resolves
 * once Redis has answered `+OK`, so every command after that is seen.
 */
export function startMonitor(port: number): Promise<Monitor> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    const lines: MonitorLine[] = [];
    let buffered = "";
    let ready = false;
    const stop = () =>
      new Promise<void>((done) => {
        socket.once("close", () => done());
        socket.destroy();
      });
    socket.on("error", (err) => {
      if (!ready) reject(err);
    });
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      const parts = buffered.split("\r\n");
      buffered = parts.pop() ?? "";
      for (const part of parts) {
        if (!ready) {
          if (part !== "+OK") {
            reject(new Error(`MONITOR refused: ${part}`));
            return;
          }
          ready = true;
          resolve({ lines, stop });
          continue;
        }
        const line = parseMonitorLine(part.startsWith("+") ? part.slice(1) : part);
        if (line !== undefined) lines.push(line);
      }
    });
  });
}
