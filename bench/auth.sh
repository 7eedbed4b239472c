#!/usr/bin/env bash
# The cost of access control on the hot path: manifest GETs/s on one node with auth off, with a
# bearer token (the Docker token flow: what docker, podman, skopeo and Jib send), and with Basic
# credentials on every request; distribution 2.8.2 (Debian's docker-registry) off and with htpasswd
# Basic as the peer. A benchmark, not a test.
#
#   bench/auth.sh                                 # 3 runs per mode, interleaved
#   RUNS=1 DURATION_S=5 bench/auth.sh             # smoke run
#
# Every run starts a fresh server. Modes: flotilla-off, flotilla-bearer, flotilla-basic,
# distribution-off, distribution-basic. The driver (--figures manifest) pushes bench/hot:latest and
# runs its closed-loop GET load with BENCH_AUTHORIZATION sent on every request.
#
# Environment (defaults in brackets): RUNS [3], DURATION_S [10], WARMUP_S [3], CONNECTIONS [16],
#   MODES [all five], FLOTILLA_JAR [$ROOT/target/flotilla.jar], FLOTILLA_JAVA_OPTS [-Xmx192m -XX:+UseParallelGC],
#   DIST_BIN [/usr/bin/docker-registry], BENCH_TMP [/tmp], RESULTS_DIR [bench/results]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RUNS="${RUNS:-3}"
DURATION_S="${DURATION_S:-10}"
WARMUP_S="${WARMUP_S:-3}"
CONNECTIONS="${CONNECTIONS:-16}"
MODES="${MODES:-flotilla-off flotilla-bearer flotilla-basic distribution-off distribution-basic}"
FLOTILLA_JAR="${FLOTILLA_JAR:-$ROOT/target/flotilla.jar}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_DIR/results}"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
BENCH_NAME=auth.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

for tool in curl jq java; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f "$FLOTILLA_JAR" ]] || die "Flotilla jar $FLOTILLA_JAR is missing (mvn -q -DskipTests package)"
if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver"
  (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"
fi

WORK="$(mktemp -d "$BENCH_TMP/flotilla-auth-bench.XXXXXX")"
cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar"
JAR="$WORK/flotilla-under-bench.jar"
PID=""
cleanup() {
  local st=$?
  [[ -z "$PID" ]] || stop_pid "$PID"
  (( st == 0 )) || tail_logs
  rm -rf "$WORK"
  exit "$st"
}
trap cleanup EXIT

PASSWORD="bench-$$-$RANDOM"
echo "$PASSWORD" | java -jar "$JAR" htpasswd bench >"$WORK/htpasswd"
BASIC="Basic $(printf 'bench:%s' "$PASSWORD" | base64 -w0)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }

run_once() { # run_once MODE RUN: writes "rps p50 p99" to $WORK/MODE-RUN.txt
  local mode="$1" run="$2" tag="$1-$2" port auth="" wait_auth=""
  if [[ "$mode" == flotilla-* ]]; then
    port="$(free_port "${FLOTILLA_PORT:-15500}")"
    local auth_env=()
    if [[ "$mode" != flotilla-off ]]; then
      auth_env=(FLOTILLA_AUTH_HTPASSWD="$WORK/htpasswd" FLOTILLA_AUTH_ADMINS=bench FLOTILLA_AUTH_TOKEN_TTL=1h
                FLOTILLA_AUTH_KEY_ROTATION=24h)
      wait_auth="$BASIC"
    fi
    mkdir -p "$WORK/data-$tag"
    # shellcheck disable=SC2086
    env "${auth_env[@]}" FLOTILLA_NODE_NAME=bench FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="$port" \
      FLOTILLA_DATA_DIR="$WORK/data-$tag" FLOTILLA_CLUSTER_HOST=127.0.0.1 \
      FLOTILLA_CLUSTER_PORT="$(free_port "${FLOTILLA_CLUSTER_PORT:-15950}")" FLOTILLA_CLUSTER_NAME="auth-bench-$$-$tag" \
      FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_STORAGE_GC_INTERVAL=0 \
      java $FLOTILLA_JAVA_OPTS -jar "$JAR" >"$WORK/$tag.log" 2>&1 &
    PID=$!
    WAIT_AUTH="$wait_auth" wait_ready "flotilla ($tag)" "$PID" "$port"
    case "$mode" in
      flotilla-bearer)
        auth="Bearer $(curl -s -H "Authorization: $BASIC" \
          "http://127.0.0.1:$port/auth/token?service=flotilla&scope=repository:bench/hot:pull,push" | jq -r .token)"
        [[ "$auth" != "Bearer null" ]] || die "no token from the token endpoint";;
      flotilla-basic) auth="$BASIC";;
    esac
  else
    [[ -x "$DIST_BIN" ]] || die "$DIST_BIN not found (apt-get install docker-registry)"
    DIST_EXTRA_YAML=""
    if [[ "$mode" == distribution-basic ]]; then
      DIST_EXTRA_YAML="auth:
  htpasswd:
    realm: bench
    path: $WORK/htpasswd"
      auth="$BASIC"
    fi
    DIST_DATA="$WORK/dist-$tag" WAIT_AUTH="$auth" start_distribution
    PID="$DIST_PID"
    port="$DIST_PORT"
    unset DIST_PORT
  fi
  BENCH_AUTHORIZATION="$auth" driver --url "http://127.0.0.1:$port" --name "$tag" --figures manifest \
    --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" \
    --out "$WORK/$tag.json" 2>>"$WORK/driver.log" >/dev/null || die "driver failed ($tag)"
  stop_pid "$PID"
  PID=""
  jq -r '.figures.manifest_get | "\(.rps) \(.p50_ms) \(.p99_ms)"' "$WORK/$tag.json" >"$WORK/$tag.txt"
}

declare -A RPS P50 P99
for run in $(seq 1 "$RUNS"); do
  for mode in $MODES; do
    run_once "$mode" "$run"
    read -r rps p50 p99 <"$WORK/$mode-$run.txt"
    log "run $run, $mode: $(fmt1 "$rps") req/s, p50 $p50 ms, p99 $p99 ms"
    RPS[$mode]+="$rps "; P50[$mode]+="$p50 "; P99[$mode]+="$p99 "
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/auth-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "Manifest GETs on one node, $CONNECTIONS connections, ${WARMUP_S} s warm-up + ${DURATION_S} s,"
  echo "median of $RUNS interleaved runs per mode. Machine: $(nproc) cores, $(java -version 2>&1 | head -1)."
  echo
  echo "| Mode | req/s | p50 ms | p99 ms | vs. auth off | runs (req/s) |"
  echo "|---|---|---|---|---|---|"
  for mode in $MODES; do
    base="${mode%%-*}-off"
    ratio="–"
    if [[ -n "${RPS[$base]:-}" ]]; then ratio="$(awk -v a="$(med "${RPS[$mode]}")" -v b="$(med "${RPS[$base]}")" 'BEGIN { printf "%.2f", a / b }')"; fi
    echo "| $mode | $(fmt1 "$(med "${RPS[$mode]}")") | $(med "${P50[$mode]}") | $(med "${P99[$mode]}") | $ratio | ${RPS[$mode]}|"
  done
} | tee "$out"
cp "$out" "$RESULTS_DIR/auth-latest.md"
