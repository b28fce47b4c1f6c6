#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, only when it
# is missing: kcat (a librdkafka Kafka client, for the interop test and the
# README's tour, which also runs curl), PostgreSQL (Debian's postgresql: the
# driver tests start a throwaway cluster with its initdb) and MinIO (built
# into bin/tools/minio: the S3 driver tests start it). internal/testbackend
# finds both there. Also
# Debian's prometheus package, for promtool and the prometheus server the
# deploy tests (internal/deploytest) run. And Debian's chromium, which the web
# UI's browser tests (internal/web, driven by chromedp) run headless. And
# Confluent's JavaScript clients for test/confluent-js, with `npm ci` from its
# lockfile.
#
# The long steps (the MinIO build, apt-get) print a line every 30 seconds
# while they run, so a quiet terminal means a stuck step, not a slow one.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"

# The MinIO version is pinned in the Makefile (make deps passes it).
minio_version="${MINIO_VERSION:-$(sed -n 's/^MINIO_VERSION[[:space:]]*?=[[:space:]]*//p' "$root/Makefile")}"
if [ -z "$minio_version" ]; then
  echo "test-deps: no MINIO_VERSION in $root/Makefile" >&2
  exit 1
fi

# with_progress runs a command, printing "still <what>" every 30 seconds
# (PROGRESS_INTERVAL) until it ends, and returns its status.
with_progress() {
  local what="$1"
  shift
  local start=$SECONDS
  (
    # The sleep runs in the background so that the TERM below ends it too.
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "${PROGRESS_INTERVAL:-30}" &
      sleeper=$!
      wait "$sleeper"
      echo "test-deps: still $what ($((SECONDS - start))s so far)" >&2
    done
  ) &
  local ticker=$!
  local status=0
  "$@" || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  echo "test-deps: $what took $((SECONDS - start))s" >&2
  return "$status"
}

# MinIO has no Debian package: build it with the Go toolchain, once.
if ! command -v minio >/dev/null 2>&1 && [ ! -x "$root/bin/tools/minio" ]; then
  echo "test-deps: building MinIO $minio_version into bin/tools/minio with go install, once: it downloads ~240 modules and compiles ~1,300 packages, 20 to 40 minutes on a busy 2-core machine" >&2
  with_progress "building MinIO" env GOBIN="$root/bin/tools" "${GO:-go}" install "github.com/minio/minio@$minio_version"
fi

# Confluent's JavaScript Schema Registry client and serdes, and kafkajs, for
# the conformance test in test/confluent-js: npm ci from its lockfile when
# node_modules is missing or older than the lockfile.
js="$root/test/confluent-js"
if command -v npm >/dev/null 2>&1; then
  if [ ! -f "$js/node_modules/.package-lock.json" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
    echo "test-deps: installing Confluent's JavaScript clients into test/confluent-js/node_modules (npm ci, about a minute)" >&2
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  fi
else
  echo "test-deps: no npm: the Confluent JavaScript client test (test/confluent-js) will skip, or fail under CI=true" >&2
fi

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v curl >/dev/null 2>&1 || need+=(curl) # the README's tour (internal/tourtest)
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  need+=(chromium)
fi
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  need+=(prometheus)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${need[*]} and no apt-get to install it; install it by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "test-deps: installing ${need[*]} with apt-get" >&2
with_progress "running apt-get update" $sudo apt-get update -qq
with_progress "installing ${need[*]}" $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
