#!/usr/bin/env bash
# The one command that runs every test (README; make test-all; .ci/run). It
# installs what the tests need, fails loudly when something is missing, and
# never lets a test skip.
#   1. no binary or file over 1 MiB tracked by git (scripts/check-files.sh)
#   2. the pinned Temporal CLI into bin/ (skipped when present); PostgreSQL
#      started when it is not running; Debian's chromium installed when
#      missing (the web UI browser test)
#   3. golangci-lint v2 (gofmt, vet, staticcheck, revive, errcheck, gosec,
#      misspell: .golangci.yml), installed into bin/ when missing
#   4. the quick loop, go test -race ./... (unit tests, as `make test`), then
#      the integration loop: the packages with tests under the integration
#      build tag (real dev servers, PostgreSQL, Chromium, Belvo's specs)
#   5. a short fuzzing run of the webhook handler, the short forms of the
#      bridge, volume, incremental-update, end-to-end and soak benchmarks
#      and of the chaos suite (so none can rot; they assert correctness,
#      never timings)
#   6. the local stack's demo end to end (real processes, real HTTP)
#   7. the multi-replica run on Temporal server v1.29.1 on PostgreSQL, short
#      form (deploy/prodstack builds the server into bin/server when missing)
#   8. the reliability suite's short form: network faults on every hop,
#      database restarts, a full disk, slow clients (bench/reliability)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The same version as internal/stack.TemporalCLIVersion (a test checks).
TEMPORAL_CLI_VERSION=v1.5.1

step() { printf '\n==> %s\n' "$*"; }

step "tracked files"
bash scripts/check-files.sh

step "Temporal CLI $TEMPORAL_CLI_VERSION"
if [ ! -x bin/temporal ]; then
  echo "installing into $root/bin (about 5 minutes on a cold module cache)…"
  start=$(date +%s)
  ( while sleep 30; do echo "  … still building the Temporal CLI ($(( $(date +%s) - start ))s)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null || true' EXIT
  GOBIN="$root/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  kill $ticker 2>/dev/null || true
fi
bin/temporal --version
export TEMPORAL_CLI="$root/bin/temporal"

step "PostgreSQL"
# The store tests and the production-like stack need it (TEST_POSTGRES_DSN,
# default postgres://postgres@127.0.0.1:5432/test); start the machine's
# cluster when it is down, and stop here, loudly, when it cannot be reached.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it…"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! pg_isready -h 127.0.0.1 -p 5432; then
  echo "FAIL: PostgreSQL is not reachable at 127.0.0.1:5432; the store tests and deploy/prodstack need it" >&2
  exit 1
fi

step "Chromium (Debian's package) for the web UI browser test"
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  echo "installing Debian's chromium…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
fi
${CHROMIUM:-chromium} --version

spec_dir=${BELVO_OPENAPI_DIR:-$root/../shared/reference/belvo-openapi}
if [ ! -f "$spec_dir/belvo-openapi-v1.223.0.json" ] || [ ! -f "$spec_dir/belvo-openapi-v1.35.0.yaml" ]; then
  echo "FAIL: Belvo's OpenAPI specs not found in $spec_dir (set BELVO_OPENAPI_DIR)" >&2
  exit 1
fi
export BELVO_OPENAPI_DIR=$spec_dir

step "golangci-lint (.golangci.yml)"
bash scripts/lint.sh

# run_tests runs go test with the given arguments, prints what failed, and
# fails on any failure or skip.
passed=0
run_tests() {
  local log status p f k
  log=$(mktemp)
  set +e
  go test -race -count=1 -timeout 30m -v "$@" >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL' "$log" | grep -v -- '--- PASS' || true
  p=$(grep -cE '^\s*--- PASS' "$log" || true)
  f=$(grep -cE '^\s*--- FAIL' "$log" || true)
  k=$(grep -cE '^\s*--- SKIP' "$log" || true)
  if [ "$status" -ne 0 ]; then
    echo "--- failing tests and their messages ---"
    grep -nE '^\s*--- FAIL|^\s+[A-Za-z0-9_]+_test\.go:[0-9]+: |^panic:|^FAIL' "$log" | head -n 200
    echo "--- go test output (last 80 lines) ---"
    tail -n 80 "$log"
  fi
  if [ "$k" -ne 0 ]; then
    echo "FAIL: $k tests skipped; every test must run here:" >&2
    grep -E -A3 '^\s*--- SKIP' "$log" >&2
    status=1
  fi
  echo "go test $*: $p passed, $f failed, $k skipped"
  passed=$((passed + p))
  return "$status"
}

step "quick loop: go test -race ./... (make test)"
run_tests ./...

step "integration loop: go test -race -tags integration (dev servers, PostgreSQL, Chromium, Belvo's specs)"
# The packages that have tests under the tag; their unit tests run again
# with them, which costs seconds.
mapfile -t tagged < <(grep -rl --include='*_test.go' '^//go:build integration' . | xargs -n1 dirname | sort -u)
run_tests -tags integration "${tagged[@]}"

step "fuzz the webhook handler (20 s; README has the long run)"
go test -run='^$' -fuzz=FuzzWebhookHandler -fuzztime=20s ./webhookbridge

step "bridge benchmark, short form (BENCHMARKS.md has the full run)"
go run ./bench/bridge -n 200 -seconds 1 -temporal-cli bin/temporal

step "volume benchmark, short form (BENCHMARKS.md has the 100k run)"
go run ./bench/volume -transactions 10000 -rounds 1

step "incremental-update benchmark, short form (BENCHMARKS.md has the 100k run)"
go run ./bench/incremental -transactions 3000 -new 100 -rounds 1

step "end-to-end benchmark, short form (BENCHMARKS.md has the full run)"
go run ./bench/e2e -links 40 -async 40 -large 20000 -temporal-cli bin/temporal

step "soak, short form: 1 minute, correctness only (BENCHMARKS.md has the 30-minute run)"
go run ./bench/soak -duration 1m -calibrate 20 -temporal-cli bin/temporal

step "chaos suite, short form (README has the full run)"
go run ./chaos -short -temporal-cli bin/temporal

step "local stack demo (go run ./deploy/localstack -exit-after-demo)"
demo_dir=$(mktemp -d)
# Distinctive secrets, then every log line of every process is searched.
secrets=(ci-secret-id-5c1f0e ci-secret-pw-9ad2b7 "Bearer ci-hook-77e3aa")
BELVO_SECRET_ID=${secrets[0]} BELVO_SECRET_PASSWORD=${secrets[1]} BELVO_WEBHOOK_AUTHORIZATION=${secrets[2]} \
  go run ./deploy/localstack -exit-after-demo -data-dir "$demo_dir"
secrets+=("$(grep -v '^#' "$demo_dir/payload-keys" | head -n 1 | cut -d: -f2)")
for secret in "${secrets[@]}"; do
  if grep -rqF -- "$secret" "$demo_dir/logs"; then
    echo "FAIL: a secret appears in the local stack's logs ($demo_dir/logs)" >&2
    exit 1
  fi
done
echo "no secret in any of the $(cat "$demo_dir"/logs/*.log | wc -l) log lines of the local stack's processes"

step "multi-replica run on Temporal-on-PostgreSQL, short form (BENCHMARKS.md has the full run)"
go run ./deploy/prodstack -fresh -replica-test -links 60 -async 20 -db-prefix ci_prod \
  -temporal-port 17233 -webhook-addr 127.0.0.1:18080 -data-dir "$(mktemp -d)"
step "reliability suite, short form: infrastructure faults on the production-like stack (BENCHMARKS.md has the full run)"
go run ./bench/reliability -short -temporal-cli bin/temporal

echo
echo "all: $((passed + 10)) passed, 0 failed, 0 skipped (go tests, fuzzing, five benchmarks', chaos, multi-replica and reliability short forms, local stack demo), lint clean, no binary tracked"
