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
  // Worker 1 (and whoever replaces it) is the one that polls Telegram.
  const indexOf = new Map<Worker, number>();
  const fork = (index: number) => {
    const worker = cluster.fork({ [workerIndexVariable]: String(index) });
    indexOf.set(worker, index);
    worker.on("message", (message: ListeningMessage) => {
      if (message?.type === "otp-listening" && !announced) {
        announced = true;
        options.onListening(message.banner);
      }
    });
    return worker;
  };
  for (let i = 1; i <= options.workers; i++) fork(i);

  cluster.on("exit", (worker: Worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    options.log("worker died; starting a new one", { pid: worker.process.pid, code, signal });
    const index = indexOf.get(worker) ?? 0;
    indexOf.delete(worker);
    fork(index);
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

/** The variable that tells a worker its number, from 1. */
const workerIndexVariable = "OTP_WORKER_INDEX";

/**
 * True in the one process that does what only one process may do, such as
 * polling Telegram for updates: a single-process service, or worker 1.
 */
export function isLeader(): boolean {
  return !cluster.isWorker || process.env[workerIndexVariable] === "1";
}

/** True in a process forked by {@link runPrimary}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}
