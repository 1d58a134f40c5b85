#!/usr/bin/env bash
# golangci-lint v2 with the repository's .golangci.yml (make lint, and a
# step of scripts/test.sh). The pinned version is installed into bin/ from
# the Go module proxy when missing (about 2 minutes on a cold module cache).
set -euo pipefail
cd "$(dirname "$0")/.."
GOLANGCI_LINT_VERSION=v2.15.0
if ! bin/golangci-lint --version 2>/dev/null | grep -q "version ${GOLANGCI_LINT_VERSION#v} "; then
  echo "installing golangci-lint $GOLANGCI_LINT_VERSION into bin/…"
  GOBIN="$PWD/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
exec bin/golangci-lint run ./...
