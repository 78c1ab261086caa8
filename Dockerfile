# Contact-center engine: one image holding all six service binaries.
# Pick the service with the container command, e.g.
#   docker run IMAGE agent-registry          (docker)
#   command: ["agent-registry"]              (docker-compose / Kubernetes)
# Without a command the image runs $CC_SERVICE (build arg SERVICE, default api-gateway).

# The runtime stage has no compiler, headers or build tools: only the shared
# libraries the binaries link, CA certificates, and a non-root user (10001).

# ---------------------------------------------------------------- build stage
FROM debian:bookworm-slim AS build

ARG DEBIAN_FRONTEND=noninteractive
# libcmocka-dev: `make build` also links the C unit tests.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential pkg-config \
        libnats-dev libprotobuf-c-dev protobuf-c-compiler \
        libhiredis-dev libmicrohttpd-dev libcjson-dev libsodium-dev \
        libcurl4-openssl-dev libuv1-dev \
        libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN make build

# -------------------------------------------------------------- runtime stage
FROM debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (libuv1 matches libuv1-dev used at build time).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libnats3.4 libprotobuf-c1 libhiredis0.14 libmicrohttpd12 \
        libcjson1 libsodium23 libcurl4 libuv1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Fixed numeric uid/gid so Kubernetes runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 cc \
 && useradd --system --uid 10001 --gid cc --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin cc \
 && mkdir -p /var/lib/cc/files \
 && chown -R cc:cc /var/lib/cc

# Only the six service binaries (not the tests, benchmarks or simulator).
COPY --from=build /src/build/bin/agent-registry /src/build/bin/skill-router \
     /src/build/bin/chat-gateway /src/build/bin/call-router /src/build/bin/crm-sync \
     /src/build/bin/api-gateway /usr/local/bin/
COPY deploy/docker/cc-healthcheck /usr/local/bin/cc-healthcheck

ARG SERVICE=api-gateway
ENV CC_SERVICE=${SERVICE} \
    CC_FILES_DIR=/var/lib/cc/files

USER 10001:10001
WORKDIR /var/lib/cc

# /readyz on the service's port (Kubernetes uses its own probes instead).
HEALTHCHECK --interval=10s --timeout=4s --start-period=15s --retries=3 CMD ["cc-healthcheck"]
# SIGTERM drains (offers in flight finish or are re-queued); allow it time:
# docker stop -t 30, terminationGracePeriodSeconds in Kubernetes.
STOPSIGNAL SIGTERM

# No ENTRYPOINT: the command is the binary name (found on PATH), so
# `command:` in compose or Kubernetes selects the service directly.
CMD ["/bin/sh", "-c", "exec \"$CC_SERVICE\""]
