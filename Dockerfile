# syntax=docker/dockerfile:1
#
# OTP service image: gRPC, gRPC-web and Connect on one port (8080), run as JavaScript
# compiled by `npm run build:service` (no TypeScript loader at run time).
#
#   docker build -t otp .
#   docker run --init -p 8080:8080 -e OTP_HMAC_SECRET=... -e REDIS_URL=redis://... otp
#
# The image defaults to NODE_ENV=production, which requires OTP_HMAC_SECRET and refuses the
# dev outbox channel; docker-compose.yml overrides it for local development.

# Node 20, the major our machines test on. Node 24 was measured as the alternative
# (`npm run bench -- --node 24`, docs/hot-path.md#what-is-left-the-tail): it promotes less
# than half as much per call, runs a third of the full collections and met the 10 ms p99 over
# JSON, but with these memory flags a process holds 200 to 245 MB after load where Node 20
# holds 95, and its CPU per call is 2.1x the floor's, so it awaits its own tuning.
# .ci/run runs the compiled service on whatever major this line names.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: the service compiled to dist/, then production node_modules only ------------
# npm ci runs the postinstall, which applies patches/ (patch-package, a dev dependency);
# pruning afterwards keeps the patched production packages.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY patches patches/
RUN npm ci
COPY . .
RUN npm run build:service && npm prune --omit=dev && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0
WORKDIR /app
# Sources stay owned by root (read-only for the service); the app runs as `node`.
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
# No curl in the slim image: Node's fetch probes the HTTP/1.1 health endpoint.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm) so SIGTERM reaches the server; use `--init` / compose `init: true`.
# The two V8 flags keep a process's memory small (docs/operations.md#memory); workers inherit them.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "--import", "./dist/src/telemetry/otel-register.mjs", "--import", "./dist/src/telemetry/otel-start.mjs", "dist/src/main.js"]
