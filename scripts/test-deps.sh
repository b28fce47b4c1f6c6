#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, only when it
# is missing: kcat (a librdkafka Kafka client, for the interop test),
# PostgreSQL (Debian's postgresql: the driver tests start a throwaway cluster
# with its initdb) and MinIO (built into bin/tools/minio: the S3 driver tests
# start it). internal/testbackend finds both there. Also Debian's prometheus
# package, for promtool and the prometheus server the deploy tests
# (internal/deploytest) run. And Debian's chromium, which the web UI's browser
# tests (internal/web, driven by chromedp) run headless. And Confluent's
# JavaScript clients for test/confluent-js, with `npm ci` from its lockfile.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"

# MinIO has no Debian package: build it with the Go toolchain, once.
if ! command -v minio >/dev/null 2>&1 && [ ! -x "$root/bin/tools/minio" ]; then
  echo "test-deps: building MinIO into bin/tools/minio (go install github.com/minio/minio@latest, about 3 minutes)" >&2
  GOBIN="$root/bin/tools" "${GO:-go}" install github.com/minio/minio@latest
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
echo "test-deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
