#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, only when it
# is missing: kcat (a librdkafka Kafka client, for the interop test).
set -euo pipefail

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)

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
