import { describe, expect, it } from "vitest";
import { type MonitorLine, parseMonitorLine, topLevelCommands } from "./monitor.js";
import { descendants, parseProcStat, parseRssBytes } from "./proc.js";

describe("parseProcStat", () => {
  it("reads ppid and utime+stime after a command name holding spaces and parentheses", () => {
    const line =
      "4242 (node (worker) 1) S 4000 4242 4000 0 -1 4194560 10 0 0 0 150 30 0 0 20 0 11 0 99";
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      ppid: 4000,
      name: "node (worker) 1",
      cpuTicks: 180,
    });
  });
});

describe("parseRssBytes", () => {
  it("reads VmRSS in bytes", () => {
    expect(parseRssBytes("Name:\tnode\nVmRSS:\t  120 kB\nThreads: 7\n")).toBe(120 * 1024);
  });
});

describe("descendants", () => {
  it("finds the primary and its workers, not unrelated processes", () => {
    const all = [
      { pid: 10, ppid: 1, name: "node", cpuTicks: 0 },
      { pid: 11, ppid: 10, name: "node", cpuTicks: 0 },
      { pid: 12, ppid: 10, name: "node", cpuTicks: 0 },
      { pid: 13, ppid: 12, name: "node", cpuTicks: 0 },
      { pid: 20, ppid: 1, name: "node", cpuTicks: 0 },
    ];
    expect(descendants(10, all).sort()).toEqual([10, 11, 12, 13]);
  });
});

describe("MONITOR lines", () => {
  const lines = [
    '1796021440.248533 [0 127.0.0.1:60350] "evalsha" "abc" "1" "k"',
    '1796021440.248767 [0 lua] "hget" "k" "f"',
    '1796021440.282676 [0 127.0.0.1:60350] "MULTI"',
    '1796021440.283060 [0 127.0.0.1:60350] "INCR" "x"',
    '1796021440.283089 [0 127.0.0.1:60350] "EXPIRE" "x" "10"',
    '1796021440.283106 [0 127.0.0.1:60350] "EXEC"',
    '1796021440.290000 [0 127.0.0.1:60999] "info" "stats"',
    '1796021440.300000 [0 127.0.0.1:60350] "GET" "key"',
  ]
    .map(parseMonitorLine)
    .filter((l): l is MonitorLine => l !== undefined);

  it("parses time, client and the upper-cased command", () => {
    expect(lines[0]).toEqual({
      time: 1796021440.248533,
      client: "127.0.0.1:60350",
      command: "EVALSHA",
    });
    expect(parseMonitorLine("OK")).toBeUndefined();
  });

  it("drops calls made inside scripts and counts a MULTI block once", () => {
    const top = topLevelCommands(lines, new Set(["127.0.0.1:60999"]));
    expect(top.map((l) => l.command)).toEqual(["EVALSHA", "MULTI…EXEC", "GET"]);
  });
});
