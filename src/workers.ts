import cluster, { type Worker } from "node:cluster";

/** Options for {@link runPrimary}. */
export interface PrimaryOptions {
  workers: number;
  /** How long workers get to drain after SIGTERM before they are killed. */
  shutdownGraceMs: number;
  /** Called once, with the banner of the first worker that listens. */
  onListening: (banner: string) => void;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The message a worker sends the primary once it listens. */
export interface ListeningMessage {
  type: "otp-listening";
  banner: string;
}

/**
 * Runs the primary of a multi-process service: forks the workers, which share
 * the port through `node:cluster`, replaces a worker that dies unexpectedly,
 * and on SIGTERM or SIGINT asks every worker to drain and exits once all have.
 */
export function runPrimary(options: PrimaryOptions): void {
  let stopping = false;
  let announced = false;
  const fork = () => {
    const worker = cluster.fork();
    worker.on("message", (message: ListeningMessage) => {
      if (message?.type === "otp-listening" && !announced) {
        announced = true;
        options.onListening(message.banner);
      }
    });
    return worker;
  };
  for (let i = 0; i < options.workers; i++) fork();

  cluster.on("exit", (worker: Worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    options.log("worker died; starting a new one", { pid: worker.process.pid, code, signal });
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.log("draining workers", { signal, workers: options.workers });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    // Workers bound their own drain; this is the backstop if one hangs.
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
      process.exit(1);
    }, options.shutdownGraceMs + 5_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** True in a process forked by {@link runPrimary}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}
