import { defineConfig } from "vitest/config";

// Tests start real processes (redis-server, the service, Chromium) on a
// 2-core machine; these limits bound a hung test, they do not measure speed.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "sdk/**/*.test.ts", "bench/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
  },
});
