#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1 for the test suite; print its DATABASE_URL.
# Usage: scripts/pg-test-cluster.sh start|stop  (data in ${PGTEST_DIR:-/tmp/problembild-pg})
set -euo pipefail
DIR=${PGTEST_DIR:-/tmp/problembild-pg}
PORT=${PGTEST_PORT:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "PostgreSQL server binaries not found (scripts/system-deps.sh installs them)" >&2; exit 1; }
RUNAS=()
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); fi
case "${1:-start}" in
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      mkdir -p "$DIR"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
      "${RUNAS[@]}" "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # The port lies in Linux's range of client ports: a connection that just ended (a
    # benchmark's HTTP clients) can hold it for a moment, so a failed start is retried.
    for attempt in 1 2 3 4 5 6; do
      if "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then break; fi
      if "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
        -o "-h 127.0.0.1 -p $PORT -k /tmp -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null; then
        break
      fi
      [ "$attempt" = 6 ] && exit 1
      sleep 5
    done
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
