#!/usr/bin/env bash
# Copy the browser tests' current screenshots into docs/screenshots/ (embedded in the README).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
for name in overview area region feed; do
  [ -f "test-artifacts/$name.png" ] && cp "test-artifacts/$name.png" "docs/screenshots/$name.png"
done
ls -l docs/screenshots
