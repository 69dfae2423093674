# Demo Greeter backends for deploy/docker-compose.yaml: the repository's
# demo/greeter-backends.ts, which needs @grpc/grpc-js (a devDependency, so
# not in the switchyard image). Built from the repository root:
#
#   docker build -f deploy/compose/demo-backends.Dockerfile -t switchyard-demo-backends .
#   docker run --rm -p 50051:50051 switchyard-demo-backends --host 0.0.0.0 50051
FROM node:26-bookworm-slim
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# Everything tsconfig.build.json compiles.
COPY tsconfig*.json ./
COPY src ./src
COPY demo ./demo
COPY bench ./bench
COPY scripts ./scripts
RUN npm run build

USER node
ENTRYPOINT ["node", "/app/dist/demo/greeter-backends.js"]
CMD ["--host", "0.0.0.0", "50051"]
