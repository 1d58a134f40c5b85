# syntax=docker/dockerfile:1
#
# One image holds every command of the product (worker, bridge, sandbox,
# codec-server, starter) under /usr/local/bin. It deliberately has no
# ENTRYPOINT and no CMD: each deployment names the binary it runs, so one
# build serves every role and a forgotten command fails loudly instead of
# silently starting the wrong process:
#
#   docker build -t belvo-backbone .
#   docker run --rm --env-file my.env belvo-backbone /usr/local/bin/worker
#   docker run --rm -p 8080:8080 --env-file my.env belvo-backbone /usr/local/bin/bridge
#   docker run --rm --env-file my.env belvo-backbone /usr/local/bin/starter status --link-id ID
#
# deploy/compose/compose.yaml and deploy/k8s/ set `command` the same way;
# deploy/deploytest checks that every binary they name is built here.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again; the cache
# mounts keep the module and build caches across builds without putting
# them in a layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# CGO off: the SQLite driver is pure Go and the final image has no libc.
# -trimpath and -buildvcs=false keep build paths and VCS state out of the
# binaries, so the same source gives the same image.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/ \
      ./cmd/worker ./cmd/bridge ./cmd/sandbox ./cmd/codec-server ./cmd/starter

# distroless/static: CA certificates (Belvo is HTTPS) and tzdata, no shell,
# no package manager; the :nonroot tag runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# Relative defaults such as .local/ resolve here, the one writable home of
# the nonroot user; deployments override STORE_DSN and the key ring anyway.
WORKDIR /home/nonroot
USER nonroot:nonroot
# The bridge's webhook port (WEBHOOK_LISTEN_ADDR must be 0.0.0.0:8080 in a
# container) and the codec server's (CODEC_LISTEN_ADDR).
EXPOSE 8080 8081
