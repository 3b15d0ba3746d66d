import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests start real processes (redis-server, the service, Chromium) on a
// 2-core machine; these limits bound a hung test, they do not measure speed.
export default defineConfig({
  resolve: {
    // Examples and tests import the SDK as users do (`@otp/sdk`); point that
    // name at its TypeScript sources, so no build is needed first. tsc does
    // the same through the SDK's `otp-sdk-source` export condition.
    alias: [
      {
        find: /^@otp\/sdk$/,
        replacement: fileURLToPath(new URL("./sdk/src/node.ts", import.meta.url)),
      },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "sdk/**/*.test.ts", "bench/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
  },
});
