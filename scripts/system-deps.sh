#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (browser tests) and PostgreSQL (second engine);
# with PROBLEMBILD_BENCH=1 also wrk, the HTTP load generator of benchmarks/bench_web.py.
# Installs only what is missing; needs root (CI and the development machines run as root).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${PROBLEMBILD_TEST_POSTGRES:-0}" = "1" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
if [ "${PROBLEMBILD_BENCH:-0}" = "1" ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
