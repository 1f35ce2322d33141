# callback-proxy ext-authz image. Three stages:
#   build    dev dependencies, `npm run build` (TypeScript -> dist/)
#   demo     the demo identity providers for docker-compose (build + demo/, run through the dev hook)
#   runtime  the service: production dependencies, dist/, policies/, proto/; no sources, no demo/, no dev
#            dependencies, no compiler. The last stage, so a plain `docker build .` produces it.
# Dependency install scripts are not run (--ignore-scripts): package.json allowScripts denies all of them,
# and `prepare` (the build) runs explicitly in the build stage.

FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY ext-authz ./ext-authz
RUN npm run build

# docker-compose's legacy-idp/new-idp (`target: demo`): never deployed.
FROM build AS demo
COPY demo ./demo
USER 1000:1000
ENTRYPOINT ["node", "-r", "./scripts/ts-register.cjs", "demo/idp/main.ts"]

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/dist ./dist
COPY policies ./policies
COPY proto ./proto
COPY ext-authz/cockpit ./ext-authz/cockpit
# Nothing is written at run time: every file above stays owned by root and read-only to the service,
# which runs as the image's unprivileged `node` user (numeric, so Kubernetes' runAsNonRoot can verify
# it) and works with a read-only root filesystem (decision logs go to stdout or a mounted volume).
USER 1000:1000
# 9191 gRPC ext_authz + grpc.health.v1, 9192 HTTP forward-auth + Pin API, 9193 admin (/metrics,
# /healthz, /readyz).
EXPOSE 9191 9192 9193
# Liveness from inside the container, with node itself (the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "bin/healthcheck.cjs", "http://127.0.0.1:9193/healthz"]
ENTRYPOINT ["node", "bin/callback-proxy.cjs"]
CMD ["serve", "--grpc-addr", "0.0.0.0:9191", "--http-addr", "0.0.0.0:9192", "--admin-addr", "0.0.0.0:9193"]
