#!/usr/bin/env bash
# Starts the whole system locally: nats-server (JetStream, file storage) and
# redis-server (AOF, appendfsync everysec) with data under .run/, then every
# service; waits until each /readyz answers and prints where to reach it.
# Ports come from CC_*_PORT variables (SPEC section 9). `make down` stops
# exactly what this started (pid files under .run/pids). When kamailio is
# installed (make deps), the reference PBX (deploy/kamailio) is started too,
# on CC_SIP_PORT (default 5060, address CC_SIP_ADDR), pointed at call-router
# with the PBX token CC_PBX_TOKEN (generated into .run/pbx-token if unset).
# Redis and NATS take credentials generated into .run/redis-password and
# .run/nats-password (user "cc" in both; configs .run/redis.conf and
# .run/nats.conf, mode 600); everything listens on 127.0.0.1 only.
#
# Replicas: REGISTRIES, ROUTERS, CHATGWS, CALLROUTERS, CRMSYNCS and APIGWS
# (default 1 each; e.g. ROUTERS=3 CHATGWS=2 REGISTRIES=2 make up) start that
# many processes of agent-registry, skill-router, chat-gateway, call-router,
# crm-sync and api-gateway. Replica k listens on the service's port +
# (k-1)*CC_REPLICA_PORT_STEP (default 100: skill-router on 8084, 8184, 8284)
# and logs to .run/logs/<service>-<k>.log (the first keeps <service>.log).
# Running `make up` again with a smaller count scales in: the replicas beyond
# it get SIGTERM and drain (docs/scaling.md) before they exit.
set -eu
cd "$(dirname "$0")/.."
RUN=${CC_RUN_DIR:-$(pwd)/.run}
BIN=${CC_BIN_DIR:-$(pwd)/build/bin}
mkdir -p "$RUN/nats" "$RUN/redis" "$RUN/logs" "$RUN/pids" "$RUN/files"

: "${CC_NATS_PORT:=4222}" "${CC_REDIS_PORT:=6379}" "${CC_API_PORT:=8080}" "${CC_CHAT_PORT:=8081}"
: "${CC_CALL_PORT:=8082}" "${CC_REGISTRY_PORT:=8083}" "${CC_ROUTER_PORT:=8084}" "${CC_CRM_PORT:=8085}"
: "${CC_BOOTSTRAP_ADMIN_LOGIN:=admin}"
export CC_API_PORT CC_CHAT_PORT CC_CALL_PORT CC_REGISTRY_PORT CC_ROUTER_PORT CC_CRM_PORT
export CC_BOOTSTRAP_ADMIN_LOGIN
export CC_FILES_DIR="${CC_FILES_DIR:-$RUN/files}"
export CC_PUBLIC_URL="${CC_PUBLIC_URL:-http://127.0.0.1:$CC_CHAT_PORT}"
: "${REGISTRIES:=1}" "${ROUTERS:=1}" "${CHATGWS:=1}" "${CALLROUTERS:=1}" "${CRMSYNCS:=1}"
: "${APIGWS:=1}" "${CC_REPLICA_PORT_STEP:=100}"
for n in "$REGISTRIES" "$ROUTERS" "$CHATGWS" "$CALLROUTERS" "$CRMSYNCS" "$APIGWS"; do
  case $n in [1-9]|[1-9][0-9]) ;; *) echo "replica counts are 1 to 99, not '$n'"; exit 2 ;; esac
done

alive() { [ -f "$RUN/pids/$1.pid" ] && kill -0 "$(cat "$RUN/pids/$1.pid")" 2>/dev/null; }

# start NAME CMD...: runs CMD detached, logs to .run/logs/NAME.log.
start() {
  name=$1; shift
  if alive "$name"; then echo "  $name already running (pid $(cat "$RUN/pids/$name.pid"))"; return; fi
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/$name.pid"
}

wait_tcp() { # PORT NAME
  i=0
  until (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "$2 did not open port $1; see $RUN/logs/$2.log"; exit 1; }
    sleep 0.1
  done
}

if [ -n "${CC_BOOTSTRAP_ADMIN_PASSWORD:-}" ]; then
  admin_note="(from CC_BOOTSTRAP_ADMIN_PASSWORD)"
else
  if [ ! -s "$RUN/admin-password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$RUN/admin-password")
  fi
  CC_BOOTSTRAP_ADMIN_PASSWORD=$(cat "$RUN/admin-password")
  admin_note="(saved in .run/admin-password)"
fi
export CC_BOOTSTRAP_ADMIN_PASSWORD

# secret NAME: the contents of .run/NAME, generated (random, URL-safe) on first use.
secret() {
  [ -s "$RUN/$1" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$RUN/$1")
  cat "$RUN/$1"
}

# The token the PBX (Kamailio or any other) sends to call-router.
[ -n "${CC_PBX_TOKEN:-}" ] || CC_PBX_TOKEN=$(secret pbx-token)
export CC_PBX_TOKEN

# Redis: ACL user "cc" (the default user is off); NATS: user "cc". The
# passwords are in the config files and the services' environment, never on
# a command line (which every local user can read in ps).
redis_pw=$(secret redis-password) nats_pw=$(secret nats-password)
(umask 077
cat > "$RUN/redis.conf" <<CONF
port $CC_REDIS_PORT
bind 127.0.0.1
dir $RUN/redis
appendonly yes
appendfsync everysec
save ""
daemonize no
user default off
user cc on >$redis_pw ~* &* +@all
CONF
cat > "$RUN/nats.conf" <<CONF
listen: "127.0.0.1:$CC_NATS_PORT"
jetstream { store_dir: "$RUN/nats" }
authorization { user: cc, password: "$nats_pw" }
CONF
)
export CC_NATS_URL="nats://cc:$nats_pw@127.0.0.1:$CC_NATS_PORT"
export CC_REDIS_URL="redis://cc:$redis_pw@127.0.0.1:$CC_REDIS_PORT"

echo "starting nats-server on $CC_NATS_PORT and redis-server on $CC_REDIS_PORT"
start nats nats-server -c "$RUN/nats.conf"
start redis redis-server "$RUN/redis.conf"
wait_tcp "$CC_NATS_PORT" nats
wait_tcp "$CC_REDIS_PORT" redis

SERVICES="agent-registry skill-router chat-gateway call-router crm-sync api-gateway"
port_of() {
  case $1 in
    api-gateway) echo "$CC_API_PORT" ;; chat-gateway) echo "$CC_CHAT_PORT" ;;
    call-router) echo "$CC_CALL_PORT" ;; agent-registry) echo "$CC_REGISTRY_PORT" ;;
    skill-router) echo "$CC_ROUTER_PORT" ;; crm-sync) echo "$CC_CRM_PORT" ;;
  esac
}
replicas_of() {
  case $1 in
    api-gateway) echo "$APIGWS" ;; chat-gateway) echo "$CHATGWS" ;;
    call-router) echo "$CALLROUTERS" ;; agent-registry) echo "$REGISTRIES" ;;
    skill-router) echo "$ROUTERS" ;; crm-sync) echo "$CRMSYNCS" ;;
  esac
}
# replica NAME K: the pid/log name of replica K (the first keeps the bare name)
replica() { if [ "$2" -eq 1 ]; then echo "$1"; else echo "$1-$2"; fi; }
replica_port() { echo $(( $(port_of "$1") + ($2 - 1) * CC_REPLICA_PORT_STEP )); }

# Scale in first: replicas beyond the count asked for get SIGTERM and drain.
for svc in $SERVICES; do
  k=$(( $(replicas_of "$svc") + 1 ))
  while [ -f "$RUN/pids/$svc-$k.pid" ]; do
    if alive "$svc-$k"; then
      pid=$(cat "$RUN/pids/$svc-$k.pid"); kill -TERM "$pid"
      i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
      kill -0 "$pid" 2>/dev/null && { echo "  $svc-$k did not drain in 15 s, killing"; kill -KILL "$pid"; }
      echo "  $svc-$k drained and stopped (scale-in)"
    fi
    rm -f "$RUN/pids/$svc-$k.pid"; k=$((k + 1))
  done
done

t0=$(date +%s)
# Every service listens on 127.0.0.1 only (containers use 0.0.0.0 through CC_HTTP_ADDR).
for svc in $SERVICES; do
  for k in $(seq 1 "$(replicas_of "$svc")"); do
    start "$(replica "$svc" "$k")" env CC_HTTP_ADDR="127.0.0.1:$(replica_port "$svc" "$k")" "$BIN/$svc"
  done
done

for svc in $SERVICES; do
  for k in $(seq 1 "$(replicas_of "$svc")"); do
    name=$(replica "$svc" "$k"); port=$(replica_port "$svc" "$k")
    i=0
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
      alive "$name" || { echo "$name exited; see $RUN/logs/$name.log"; tail -5 "$RUN/logs/$name.log"; exit 1; }
      i=$((i + 1)); [ $i -lt 300 ] || { echo "$name not ready after 30 s; see $RUN/logs/$name.log"; exit 1; }
      sleep 0.1
    done
    printf '  %-17s ready  http://127.0.0.1:%s  (/healthz /readyz /metrics)\n' "$name" "$port"
  done
done
echo "all services ready in $(( $(date +%s) - t0 )) s"

# The reference PBX: configured into .run/kamailio (deploy/kamailio/configure.sh)
# with the queue numbers of CC_SIP_NUMBERS (default .run/sip-numbers).
: "${CC_SIP_PORT:=5060}" "${CC_SIP_ADDR:=127.0.0.1}"
udp_bound() { grep -q "^ *[0-9]*: [0-9A-F]*:$(printf '%04X' "$1") " /proc/net/udp; }
sip_note="not started: kamailio is not installed (make deps)"
if command -v kamailio >/dev/null; then
  export CC_SIP_NUMBERS="${CC_SIP_NUMBERS:-$RUN/sip-numbers}"
  [ -f "$CC_SIP_NUMBERS" ] || printf '# number queue_id   (one a line; make down && make up to apply,\n# or kamcmd -s unix:%s/kamailio/kamailio.ctl htable.sets numbers s:NUMBER s:QUEUE_ID)\n' \
    "$RUN" > "$CC_SIP_NUMBERS"
  CC_SIP_PORT=$CC_SIP_PORT CC_SIP_ADDR=$CC_SIP_ADDR \
    CC_PBX_URL="http://127.0.0.1:$CC_CALL_PORT/pbx/v1" sh deploy/kamailio/configure.sh "$RUN/kamailio"
  start kamailio kamailio -f "$RUN/kamailio/kamailio.cfg" -DD -E -m 256 -M 16
  i=0
  until udp_bound "$CC_SIP_PORT"; do
    alive kamailio || { echo "kamailio exited; see $RUN/logs/kamailio.log"; tail -5 "$RUN/logs/kamailio.log"; exit 1; }
    i=$((i + 1)); [ $i -lt 100 ] || { echo "kamailio did not open UDP $CC_SIP_PORT; see $RUN/logs/kamailio.log"; exit 1; }
    sleep 0.1
  done
  sip_note="sip:$CC_SIP_ADDR:$CC_SIP_PORT (UDP, TCP); queue numbers in $CC_SIP_NUMBERS"
fi
printf '  %-15s %s\n' kamailio "$sip_note"
echo
echo "staff API:         http://127.0.0.1:$CC_API_PORT/api/v1/  (OpenAPI: /api/v1/openapi.yaml)"
echo "first admin login:         $CC_BOOTSTRAP_ADMIN_LOGIN / $CC_BOOTSTRAP_ADMIN_PASSWORD $admin_note"
echo "PBX API:           http://127.0.0.1:$CC_CALL_PORT/pbx/v1/  (token in .run/pbx-token, docs/calls.md)"
echo "Redis:             redis-cli -p $CC_REDIS_PORT --user cc --askpass   (password in .run/redis-password)"
echo "NATS:              user cc, password in .run/nats-password"
echo "logs: .run/logs/   stop: make down   wipe data: make reset"
