#!/bin/sh
# Installs every Debian 12 package the build, the system and the tests need.
# Idempotent: packages already present are left alone; apt-get update runs
# only when something is missing. clang with libclang-rt-dev (libFuzzer and
# the sanitizer runtimes, only a recommendation of clang) builds the fuzz
# targets; llvm gives llvm-symbolizer for their stack traces.
set -eu
PKGS="build-essential pkg-config git ca-certificates curl procps
  libnats-dev libprotobuf-c-dev protobuf-c-compiler libhiredis-dev libmicrohttpd-dev
  libcjson-dev libsodium-dev libcurl4-openssl-dev libcmocka-dev libuv1-dev uthash-dev
  clang libclang-rt-dev llvm
  nats-server redis-server redis-sentinel tzdata
  kamailio kamailio-utils-modules kamailio-extra-modules sip-tester
  python3 python3-pytest python3-pytest-xdist python3-requests python3-prometheus-client python3-yaml
  chromium python3-websocket fonts-noto-color-emoji
  docker-compose prometheus"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm (Debian's package, unless a Node.js install already brings one)
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# kubectl for `kubectl kustomize` (deploy/kubernetes): Debian's kubernetes-client
# unless a kubectl is already installed (its kustomize renders the overlays too)
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
if [ -z "$missing" ]; then
  echo "deps: all packages installed"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "deps: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# axe-core (the browser tests' accessibility check), the exact version and
# checksum of tools/axe/package-lock.json, into tools/axe/node_modules.
AXE_DIR="$(dirname "$0")/axe"
want=$(sed -n 's/.*"axe-core": "\(.*\)".*/\1/p' "$AXE_DIR/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$AXE_DIR/node_modules/axe-core/package.json" 2>/dev/null | head -1)
if [ "$have" = "$want" ]; then
  echo "deps: axe-core $have installed"
else
  echo "deps: installing axe-core $want"
  (cd "$AXE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The offline Kubernetes schema validator (deploy/tools/validate): the exact
# kubernetes-models of its package-lock.json (Kubernetes 1.27 schemas).
VAL_DIR="$(dirname "$0")/../deploy/tools/validate"
want=$(sed -n 's/.*"kubernetes-models": "\(.*\)".*/\1/p' "$VAL_DIR/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$VAL_DIR/node_modules/kubernetes-models/package.json" 2>/dev/null | head -1)
if [ "$have" = "$want" ]; then
  echo "deps: kubernetes-models $have installed"
else
  echo "deps: installing kubernetes-models $want"
  (cd "$VAL_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
