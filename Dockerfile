# syntax=docker/dockerfile:1
# The Meterkit collector as an image. Untested on the machines this repository is developed on
# (no container engine runs there); test/e2e/container-files.test.ts checks its structure, and
# test/e2e/install.test.ts checks the install path the `install` stage takes.

# 1. build: compile the workspace and pack the collector and its packages as tarballs.
FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN npx -y pnpm@12.4.2 install --frozen-lockfile \
 && npx -y pnpm@12.4.2 build \
 && node scripts/pack-install.mjs /install @meterkit/collector

# 2. install: what users get from the registry (npm, production dependencies only; better-sqlite3
#    compiles here, where the compilers are).
FROM node:20-bookworm AS install
WORKDIR /install
COPY --from=build /install ./
RUN npm install --omit=dev --no-audit --no-fund

# 3. runtime: a slim image, a non-root user, the database in a volume.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8790 \
    MK_DB=/data/meterkit.db
RUN groupadd --system --gid 10001 meterkit \
 && useradd --system --uid 10001 --gid meterkit --home-dir /app --shell /usr/sbin/nologin meterkit \
 && mkdir -p /data \
 && chown meterkit:meterkit /data
WORKDIR /app
COPY --from=install --chown=root:root /install/node_modules ./node_modules
USER meterkit
VOLUME ["/data"]
EXPOSE 8790
# Readiness, not liveness: /readyz also fails while the store refuses writes or the server drains.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8790) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The CLI is PID 1 itself, so `docker stop` (SIGTERM) drains the server.
ENTRYPOINT ["node", "/app/node_modules/@meterkit/collector/bin/meterkit.js"]
CMD ["start"]
