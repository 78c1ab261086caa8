#!/bin/sh
# Writes a runnable Kamailio configuration into DIR: the product's config
# files (copied from this directory), kamailio-local.cfg with this
# deployment's settings and kamailio-numbers.cfg with its queue numbers,
# taken from the environment:
#
#   CC_PBX_TOKEN     call-router's PBX token (required)
#   CC_PBX_URL       call-router's PBX API (default http://127.0.0.1:$CC_CALL_PORT/pbx/v1)
#   CC_SIP_ADDR      address Kamailio listens on, UDP and TCP (default 127.0.0.1)
#   CC_SIP_PORT      SIP port (default 5060)
#   CC_SIP_GATEWAY   host:port that agents' outgoing calls go to (default: none, 503)
#   CC_SIP_NUMBERS   file of "number queue_id" lines (# comments): queue numbers
#   CC_SIP_TUNING    extra "NAME=value" settings, space separated
#                    (ROUTE_WAIT_S, HTTP_TIMEOUT_S, POLLS_PER_TASK, ASYNC_WORKERS, SIP_WORKERS,
#                    DEFAULT_RING_MS, DIRECT_RING_MS, LOOKUP_FR_MS, CMD_WAIT_S, LOG_LEVEL)
#
# Usage: configure.sh DIR; then kamailio -f DIR/kamailio.cfg
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: configure.sh DIR}
mkdir -p "$OUT"

die() { echo "configure.sh: $*" >&2; exit 2; }
# check VALUE REGEX WHAT: the value must match (extended regex, whole value)
check() { printf '%s' "$1" | grep -Eqx "$2" || die "bad $3: '$1'"; }

token=${CC_PBX_TOKEN:-}
[ -n "$token" ] || die "CC_PBX_TOKEN is not set"
check "$token" '[A-Za-z0-9._~+/=-]{8,200}' "CC_PBX_TOKEN (8-200 of A-Z a-z 0-9 ._~+/=-)"
url=${CC_PBX_URL:-http://127.0.0.1:${CC_CALL_PORT:-8082}/pbx/v1}
check "$url" 'https?://[A-Za-z0-9.:_-]+(/[A-Za-z0-9._~/-]*)?' "CC_PBX_URL"
url=${url%/}
addr=${CC_SIP_ADDR:-127.0.0.1}
check "$addr" '[0-9.]+|[A-Za-z0-9.-]+' "CC_SIP_ADDR"
port=${CC_SIP_PORT:-5060}
check "$port" '[0-9]{1,5}' "CC_SIP_PORT"
gw=${CC_SIP_GATEWAY:-}
[ -z "$gw" ] || check "$gw" '[A-Za-z0-9.-]+(:[0-9]{1,5})?' "CC_SIP_GATEWAY"

for f in kamailio.cfg cc-queue.cfg cc-direct.cfg cc-events.cfg cc-commands.cfg; do
  cp "$HERE/$f" "$OUT/$f"
done

tmp="$OUT/kamailio-local.cfg.tmp"
{
  echo "# Written by deploy/kamailio/configure.sh: this deployment's settings."
  echo "#!substdef \"!SIP_ADDR!$addr!g\""
  echo "#!substdef \"!SIP_PORT!$port!g\""
  echo "#!substdef \"!ROUTER_URL!$url!g\""
  echo "#!substdef \"!ROUTER_TOKEN!$token!g\""
  echo "#!substdef \"!OUTBOUND_GW!$gw!g\""
  echo "#!substdef \"!CTL_SOCKET!$(cd "$OUT" && pwd)/kamailio.ctl!g\""
  for kv in ${CC_SIP_TUNING:-}; do
    check "$kv" '[A-Z_]{2,32}=[0-9]{1,9}' "CC_SIP_TUNING item"
    echo "#!substdef \"!${kv%%=*}!${kv#*=}!g\""
  done
} > "$tmp"
chmod 600 "$tmp"  # it holds the token
mv "$tmp" "$OUT/kamailio-local.cfg"

{
  echo "# Written by deploy/kamailio/configure.sh from ${CC_SIP_NUMBERS:-(no CC_SIP_NUMBERS)}."
  echo "# Queue numbers: number -> queue_id (kamcmd htable.sets numbers s:N s:Q at run time)."
  echo "route[QUEUE_NUMBERS] {"
  if [ -n "${CC_SIP_NUMBERS:-}" ]; then
    [ -r "$CC_SIP_NUMBERS" ] || die "cannot read CC_SIP_NUMBERS file $CC_SIP_NUMBERS"
    sed -e 's/#.*//' "$CC_SIP_NUMBERS" | while read -r number queue rest; do
      [ -n "$number" ] || continue
      [ -z "$rest" ] || die "bad line in $CC_SIP_NUMBERS: $number $queue $rest"
      check "$number" '[A-Za-z0-9._~+-]{1,64}' "number"
      check "$queue" '[A-Za-z0-9_-]{1,64}' "queue_id for $number"
      printf '\t$sht(numbers=>%s) = "%s";\n' "$number" "$queue"
    done
  fi
  printf '\treturn;\n}\n'  # a route may not be empty
} > "$OUT/kamailio-numbers.cfg.tmp"
mv "$OUT/kamailio-numbers.cfg.tmp" "$OUT/kamailio-numbers.cfg"
