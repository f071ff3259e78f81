#!/usr/bin/env bash
# Installs what kproxy needs on a fresh Debian machine, and does nothing that is already done:
#   Debian packages (kcat, promtool, HAProxy, Chromium, Java 17+, Maven), Node.js >= 24.12 (from the npm
#   registry's `node` package when the system Node is older), pnpm, kustomize (built with the
#   machine's Go from the Go module proxy), the workspace's dependencies, and the pinned Kafka jars. Everything it installs by itself lives under $KPROXY_CACHE (default
#   ~/.cache/kproxy); the only thing it writes outside is a `pnpm` launcher in /usr/local/bin
#   (when writable), so that `pnpm exec kproxy ...` works from the repository root afterwards.
set -euo pipefail

NODE_VERSION=24.21.0
PNPM_VERSION=10.34.9
MIN_NODE_MAJOR=24
MIN_NODE_MINOR=12

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${KPROXY_CACHE:-$HOME/.cache/kproxy}
toolchain=$cache/toolchain
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run '$*'; run this script as root or install sudo."
  fi
}

java_major() {
  local java=java
  [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && java="$JAVA_HOME/bin/java"
  command -v "$java" >/dev/null 2>&1 || { echo 0; return; }
  "$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

node_ok() { # $1 = node binary
  [ -x "$1" ] && "$1" -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(a>$MIN_NODE_MAJOR||(a===$MIN_NODE_MAJOR&&b>=$MIN_NODE_MINOR)?0:1)" 2>/dev/null
}

# 1. Debian packages -------------------------------------------------------------------------
packages=()
command -v kcat >/dev/null 2>&1 || packages+=(kcat)
command -v promtool >/dev/null 2>&1 || packages+=(prometheus) # promtool checks /metrics in tests
command -v haproxy >/dev/null 2>&1 || packages+=(haproxy) # load balancer of `kproxy sandbox up --replicas`
[ -x /usr/bin/chromium ] || packages+=(chromium) # the dashboard's browser tests (headless, over DevTools)
command -v mvn >/dev/null 2>&1 || packages+=(maven)
command -v npm >/dev/null 2>&1 || packages+=(npm)
[ "$(java_major)" -ge 17 ] 2>/dev/null || packages+=(openjdk-17-jre-headless)
if [ ${#packages[@]} -gt 0 ]; then
  say "installing Debian packages: ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# 2. Node.js and pnpm --------------------------------------------------------------------------
node_bin=$(command -v node 2>/dev/null || true)
if ! node_ok "${node_bin:-/nonexistent}"; then
  node_bin=$toolchain/node_modules/.bin/node
  if ! node_ok "$node_bin" || [ "$("$node_bin" --version)" != "v$NODE_VERSION" ]; then
    say "installing Node.js $NODE_VERSION into $toolchain (system Node is ${node_bin:+older than 24.12})"
    mkdir -p "$toolchain"
    npm install --prefix "$toolchain" --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >/dev/null
    node_ok "$node_bin" || die "Node.js $NODE_VERSION did not install into $toolchain; see npm's output above."
  fi
fi
pnpm_bin=$toolchain/node_modules/.bin/pnpm
if [ ! -x "$pnpm_bin" ] || [ "$(PATH="$(dirname "$node_bin"):$PATH" "$pnpm_bin" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION into $toolchain"
  mkdir -p "$toolchain"
  npm install --prefix "$toolchain" --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
fi

# A launcher that runs pnpm (and the scripts it starts) with the right Node first on PATH.
launcher=/usr/local/bin/pnpm
marker='# kproxy pnpm launcher'
path_prefix=$(dirname "$node_bin")
[ "$path_prefix" = "$toolchain/node_modules/.bin" ] || path_prefix="$path_prefix:$toolchain/node_modules/.bin"
if [ -w "$(dirname "$launcher")" ] && { [ ! -e "$launcher" ] || grep -q "$marker" "$launcher" 2>/dev/null; }; then
  cat > "$launcher.tmp" <<LAUNCHER
#!/bin/sh
$marker (written by scripts/setup.sh; safe to delete)
PATH="$path_prefix:\$PATH"
export PATH
exec "$pnpm_bin" "\$@"
LAUNCHER
  chmod +x "$launcher.tmp" && mv "$launcher.tmp" "$launcher"
elif [ "$(command -v pnpm 2>/dev/null)" != "$launcher" ]; then
  say "to use pnpm directly: export PATH=\"$(dirname "$node_bin"):$toolchain/node_modules/.bin:\$PATH\""
fi
export PATH="$(dirname "$node_bin"):$toolchain/node_modules/.bin:$PATH"

# 3. kustomize: renders deploy/kubernetes for the manifest test (test/deploy/kubernetes.test.ts) ----
KUSTOMIZE_VERSION=v5.7.1
kustomize_bin=$toolchain/bin/kustomize
if [ ! -x "$kustomize_bin" ] || [ "$("$kustomize_bin" version 2>/dev/null)" != "$KUSTOMIZE_VERSION" ]; then
  command -v go >/dev/null 2>&1 || die "kustomize is built with Go, which is missing; install Go 1.22+ and run this again."
  say "building kustomize $KUSTOMIZE_VERSION into $toolchain/bin (go install; about a minute the first time)"
  mkdir -p "$toolchain/bin"
  GOBIN="$toolchain/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
    || die "building kustomize failed; see go's output above."
fi

# 4. Workspace dependencies and the Kafka jars ----------------------------------------------------
cd "$root"
pnpm install --frozen-lockfile --reporter=silent
pnpm exec kproxy sandbox fetch >&2
say "ready: node $(node --version), pnpm $(pnpm --version), java $(java_major), $(kcat -V 2>/dev/null | head -n 1 | cut -c1-40)"
