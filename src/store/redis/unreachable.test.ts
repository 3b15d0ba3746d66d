import { describe, expect, it } from "vitest";
import { isUnreachableError } from "./unreachable.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function named(message: string, name: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

describe("isUnreachableError", () => {
  it("recognises a node that is down, timed out or has lost its slots", () => {
    for (const err of [
      new Error("Command timed out"),
      new Error("Connection is closed."),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error("Cluster isn't ready and enableOfflineQueue options is false"),
      new Error("CLUSTERDOWN The cluster is down"),
      new Error("CLUSTERDOWN Hash slot not served"),
      new Error("LOADING Redis is loading the dataset in memory"),
      new Error("Redis connection is not ready"),
      new Error("Too many Cluster redirections. Last error: Error: Connection is closed."),
      withCode("connect ECONNREFUSED 127.0.0.1:6379", "ECONNREFUSED"),
      named("Reached the max retries per request limit", "MaxRetriesPerRequestError"),
      named("Failed to refresh slots cache.", "ClusterAllFailedError"),
    ]) {
      expect(isUnreachableError(err), err.message).toBe(true);
    }
  });

  it("leaves every other failure closed", () => {
    for (const err of [
      new Error("ERR Error running script"),
      new Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
      new Error("NOPERM this user has no permissions to access one of the keys"),
      new Error("TRYAGAIN Multiple keys request during rehashing of slot"),
      new Error("Too many Cluster redirections. Last error: ReplyError: ERR unknown command"),
      "Command timed out",
      undefined,
    ]) {
      expect(isUnreachableError(err), String(err)).toBe(false);
    }
  });
});
