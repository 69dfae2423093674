# Switchyard container image.
#
#   docker build -t switchyard .
#   docker run --rm -p 8080:8080 -p 9901:9901 \
#     -v "$PWD/config.yaml:/etc/switchyard/config.yaml:ro" switchyard
#
# The default config is config.example.yaml. Its admin endpoint listens on
# 127.0.0.1:9901, which is not reachable through -p: a config of your own
# should use 0.0.0.0:9901 to probe /healthz and /readyz from outside.
# test/docker/dockerfile-commands.test.ts runs these same steps without
# Docker; keep the two in step.

# ---- build: compile TypeScript, then keep only production dependencies ----
FROM node:26-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so this layer is cached until the lockfile changes.
# --ignore-scripts: no dependency needs its install script, and npm versions
# differ in how they gate them (npm 11 asks for package.json "allowScripts").
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# One COPY per directory: COPY of several directories flattens their contents.
COPY tsconfig*.json ./
COPY src ./src
COPY demo ./demo
COPY bench ./bench
COPY scripts ./scripts
COPY schema ./schema
RUN npm run build
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: node, production node_modules and the compiled proxy ----
FROM node:26-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY --from=build /app/node_modules /app/node_modules
COPY --from=build /app/dist/src /app/dist/src
COPY --from=build /app/package.json /app/package.json
COPY --from=build /app/schema /app/schema
COPY config.example.yaml /etc/switchyard/config.yaml

# The image's unprivileged user; the proxy needs no root (ports above 1024).
USER node
EXPOSE 8080 9901

# Exec form, so node is PID 1 and gets SIGTERM itself: it closes listeners,
# lets calls in flight finish, and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--config", "/etc/switchyard/config.yaml"]
