#!/usr/bin/env bash
# Stops what `make up` started, services first, using the pid files in .run/pids.
set -u
cd "$(dirname "$0")/.."
PIDS=${CC_RUN_DIR:-.run}/pids
[ -d "$PIDS" ] || { echo "nothing running"; exit 0; }
for name in kamailio api-gateway crm-sync call-router chat-gateway skill-router agent-registry redis nats; do
  f="$PIDS/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && { echo "  $name did not stop in 10 s, killing"; kill -KILL "$pid"; }
    echo "  stopped $name"
  fi
  rm -f "$f"
done
