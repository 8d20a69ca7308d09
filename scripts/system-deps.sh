#!/usr/bin/env bash
# Debian packages Problembild needs: at run time Pango with HarfBuzz (WeasyPrint's PDFs, core/pdf.py);
# for the test suite also Chromium (browser tests) and PostgreSQL (second engine);
# with PROBLEMBILD_BENCH=1 also wrk, the HTTP load generator of benchmarks/bench_web.py.
# PROBLEMBILD_RUNTIME_ONLY=1 (scripts/install.sh) installs only the run-time libraries.
# Installs only what is missing; needs root (CI and the development machines run as root).
set -euo pipefail
need=()
# ldconfig lives in /sbin, which a normal user's PATH lacks; read its list once (no early-exit pipe).
ldlibs=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
for lib in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
  libharfbuzz-subset.so.0:libharfbuzz-subset0; do
  grep -qF "${lib%%:*}" <<<"$ldlibs" || need+=("${lib#*:}")
done
if [ "${PROBLEMBILD_RUNTIME_ONLY:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
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
