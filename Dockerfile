# Multi-stage image for the pixelmill API and worker (one image, two commands).
# Build: docker build -t pixelmill .   Run: see docker-compose.yml.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.9
# Manifests first, so dependency layers are cached across source changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json ./
COPY packages/core/package.json packages/core/
COPY packages/config/package.json packages/config/
COPY packages/logger/package.json packages/logger/
COPY packages/net-guard/package.json packages/net-guard/
COPY packages/providers/package.json packages/providers/
COPY packages/ratelimit/package.json packages/ratelimit/
COPY packages/redis-scripts/package.json packages/redis-scripts/
COPY packages/storage/package.json packages/storage/
COPY packages/webhooks/package.json packages/webhooks/
COPY packages/provider-sim/package.json packages/provider-sim/
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
COPY test/package.json test/
COPY infra/package.json infra/
RUN pnpm install --frozen-lockfile
COPY packages packages
COPY services services
RUN pnpm turbo run build --filter=@pixelmill/api --filter=@pixelmill/worker \
 && pnpm deploy --filter=@pixelmill/api --prod --legacy /out/api \
 && pnpm deploy --filter=@pixelmill/worker --prod --legacy /out/worker

FROM node:20.20-bookworm-slim AS api
ENV NODE_ENV=production
# A bounded heap makes V8 collect an upload's garbage as it goes: without it, on a host with lots of
# memory, the API's RSS rises ~150 MB during a large streamed upload (BENCHMARKS.md "Catalog scale").
ENV NODE_OPTIONS=--max-old-space-size=1024
WORKDIR /app
COPY --from=build /out/api .
USER node
EXPOSE 8080
CMD ["node", "--disable-warning=NodeVersionSupportWarning", "dist/main.js"]

FROM node:20.20-bookworm-slim AS worker
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/worker .
USER node
CMD ["node", "--disable-warning=NodeVersionSupportWarning", "dist/main.js"]
