#!/usr/bin/env bash
# Stops what `make up` started, services first (every replica: <name>-<k>.pid),
# using the pid files in .run/pids. Each gets SIGTERM and drains before it exits.
set -u
cd "$(dirname "$0")/.."
PIDS=${CC_RUN_DIR:-.run}/pids
[ -d "$PIDS" ] || { echo "nothing running"; exit 0; }
for f in "$PIDS"/kamailio.pid "$PIDS"/api-gateway*.pid "$PIDS"/crm-sync*.pid \
         "$PIDS"/call-router*.pid "$PIDS"/chat-gateway*.pid "$PIDS"/skill-router*.pid \
         "$PIDS"/agent-registry*.pid "$PIDS"/redis.pid "$PIDS"/nats.pid; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .pid)
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
