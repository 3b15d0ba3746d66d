import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/index.js";
import { startProdArgs } from "../support/start-prod.js";

// No Docker engine runs on our machines, so this is how docker-compose.yml and
// the Dockerfile are kept runnable: their configuration is fed to the real parser.

/** Resolves compose's `${NAME:-default}` and `${NAME}` the way compose would with an empty environment. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Z_]+)(?::?-([^}]*))?\}/g,
    (_, _name: string, fallback?: string) => fallback ?? "",
  );
}

describe("docker-compose.yml", () => {
  const compose = parse(readFileSync("docker-compose.yml", "utf8")) as {
    services: Record<
      string,
      { environment?: Record<string, string>; image?: string; build?: unknown }
    >;
  };

  it("runs the service, Redis, an OpenTelemetry collector and Jaeger", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "jaeger",
      "otel-collector",
      "otp",
      "redis",
    ]);
  });

  it("gives the service a configuration it accepts", () => {
    const env = Object.fromEntries(
      Object.entries(compose.services.otp?.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(String(v)),
      ]),
    );
    const config = loadConfig(env);
    expect(config.redis?.layout).toEqual({ kind: "single", url: "redis://redis:6379" });
    expect(config.host).toBe("0.0.0.0");
  });
});

describe("Dockerfile", () => {
  it("runs the compiled service the way npm run start:prod does, from files the build writes", () => {
    const dockerfile = readFileSync("Dockerfile", "utf8");
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]";
    const args = JSON.parse(cmd) as string[];
    expect(["node", ...startProdArgs()]).toEqual(args);
    expect(dockerfile).toMatch(/RUN npm run build:service/);
    // What the compiled entry and its preloads come from, in the source tree.
    for (const file of args.filter((a) => a.startsWith("dist/") || a.startsWith("./dist/"))) {
      const source = file.replace(/^(\.\/)?dist\//, "").replace(/\.js$/, ".ts");
      expect(existsSync(source) || existsSync(file.replace(/^(\.\/)?dist\//, ""))).toBe(true);
    }
  });

  it("ships node_modules with patches/ applied, as npm ci applies them here", () => {
    const dockerfile = readFileSync("Dockerfile", "utf8");
    const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(scripts.postinstall).toMatch(/^patch-package\b/);
    // The patches are in the image's context before the install that runs the postinstall...
    expect(dockerfile).toMatch(/COPY patches patches\/\nRUN npm ci\n/);
    expect(readFileSync(".dockerignore", "utf8").split("\n")).not.toContain("patches");
    // ...and the runtime takes node_modules from that install, never from one without scripts.
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/node_modules \.\/node_modules$/m);
    expect(dockerfile).not.toMatch(/--ignore-scripts/);
  });
});
