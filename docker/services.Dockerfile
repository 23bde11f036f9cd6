# syntax=docker/dockerfile:1
#
# Images of the producer and consumer services, one target each, built from the repo root:
#   docker build -f docker/services.Dockerfile --target producer -t kafka-platform-producer:0.1.0 .
#   docker build -f docker/services.Dockerfile --target consumer -t kafka-platform-consumer:0.1.0 .
# `npm run images` builds both with podman (tools/images/), on machines without a registry
# from base images made locally, passed in as NODE_BUILD_IMAGE and NODE_RUNTIME_IMAGE.
#
# Base images (tag for humans, digest pulled) and the version are the pins of
# config/versions.ts (images.nodeBuild, images.nodeRuntime, images.services);
# __tests__/docker keeps them equal.
ARG NODE_BUILD_IMAGE=node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6
ARG NODE_RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a

# --- build: compiles the TypeScript with the dev dependencies --------------------------
FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
# The services' own manifest and lock (derived from the root lock by docker/services-lock.ts):
# the CDK toolchain of the root package.json never enters an image.
COPY services/package.json services/package-lock.json services/
RUN npm ci --prefix services --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY services/ services/
RUN services/node_modules/.bin/tsc -p services/tsconfig.build.json

# --- deps: production dependencies only ---------------------------------------------
FROM ${NODE_BUILD_IMAGE} AS deps
WORKDIR /src
COPY services/package.json services/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: distroless Node.js, no shell, no package manager, non-root ---------------
FROM ${NODE_RUNTIME_IMAGE} AS runtime
ARG NODE_RUNTIME_IMAGE
ARG VERSION=0.1.0
LABEL org.opencontainers.image.vendor="kafka-platform" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kafka-platform/kafka-platform" \
      org.opencontainers.image.base.name="${NODE_RUNTIME_IMAGE}"
WORKDIR /app
# Owned by root and not writable by the service user: the code cannot be altered at runtime.
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/services ./services
ENV NODE_ENV=production \
    HTTP_PORT=8080
EXPOSE 8080
USER 65532:65532
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/services/shared/healthcheck.js", "/readyz"]
ENTRYPOINT ["/nodejs/bin/node"]

FROM runtime AS producer
LABEL org.opencontainers.image.title="kafka-platform-producer" \
      org.opencontainers.image.description="One-shot job publishing test messages to Kafka (idempotent, acks=all)"
CMD ["/app/services/producer/main.js"]

FROM runtime AS consumer
LABEL org.opencontainers.image.title="kafka-platform-consumer" \
      org.opencontainers.image.description="Kafka consumer group member with at-least-once processing and a dead-letter topic"
CMD ["/app/services/consumer/main.js"]
