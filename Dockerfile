# ext-authz image: Node 20, production dependencies only, runs the TypeScript CLI through tsx.
FROM node:20.19-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY ext-authz ./ext-authz
COPY policies ./policies
COPY proto ./proto
COPY demo ./demo
USER node
EXPOSE 9191 9192
ENTRYPOINT ["node", "bin/callback-proxy.cjs"]
CMD ["serve", "--grpc-addr", "0.0.0.0:9191", "--http-addr", "0.0.0.0:9192"]
