#!/usr/bin/env bash
# Metadata at scale on one node: load REPOS repositories x MANIFESTS manifests through the storage
# API (bench/ScaleLoad.java), restart the node as a process with the README's flags, and measure how
# long it takes to be ready, its resident memory, catalog page times, and manifest GETs/s against the
# same figure on an empty node. A benchmark, not a test.
#
#   bench/scale.sh                                   # 100,000 repositories x 10 manifests (1M)
#   REPOS=2000 MANIFESTS=5 bench/scale.sh            # smoke run
#   DATA=/var/tmp/scale1m KEEP=1 bench/scale.sh      # keep (and reuse) the loaded directory
#
# Environment (defaults in brackets): REPOS [100000], MANIFESTS [10], IN_FLIGHT [32], DATA [temp dir],
#   KEEP [unset], DURATION_S [10], WARMUP_S [10], CONNECTIONS [16], FLOTILLA_JAR [$ROOT/target/flotilla.jar],
#   FLOTILLA_JAVA_OPTS [-Xmx192m -XX:+UseParallelGC], BENCH_TMP [/tmp], RESULTS_DIR [bench/results]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
REPOS="${REPOS:-100000}"
MANIFESTS="${MANIFESTS:-10}"
IN_FLIGHT="${IN_FLIGHT:-32}"
DURATION_S="${DURATION_S:-10}"
WARMUP_S="${WARMUP_S:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
FLOTILLA_JAR="${FLOTILLA_JAR:-$ROOT/target/flotilla.jar}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_DIR/results}"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
BENCH_NAME=scale.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
for tool in curl jq java wrk; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f "$FLOTILLA_JAR" ]] || die "Flotilla jar $FLOTILLA_JAR is missing (mvn -q -DskipTests package)"
[[ -f "$BENCH_JAR" ]] || (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"

WORK="$(mktemp -d "$BENCH_TMP/flotilla-scale.XXXXXX")"
DATA="${DATA:-$WORK/data}"
PID=""
cleanup() {
  local st=$?
  [[ -z "$PID" ]] || stop_pid "$PID"
  (( st == 0 )) || tail_logs
  rm -rf "$WORK"
  exit "$st"
}
trap cleanup EXIT

if [[ -f "$DATA/.scale-loaded" ]]; then
  log "reusing the loaded directory $DATA ($(cat "$DATA/.scale-loaded"))"
  load="$(cat "$DATA/.scale-loaded")"
else
  log "loading $REPOS repositories x $MANIFESTS manifests into $DATA"
  load="$(java $FLOTILLA_JAVA_OPTS -cp "$FLOTILLA_JAR" "$BENCH_DIR/ScaleLoad.java" "$DATA" "$REPOS" "$MANIFESTS" "$IN_FLIGHT" \
    2>"$WORK/load.log" | tail -1)"
  echo "$load" >"$DATA/.scale-loaded"
fi
log "loaded: $load"
REPOS_LOADED="$(jq -r .repositories <<<"$load")"
MANIFESTS_LOADED="$(( $(jq -r .manifests <<<"$load") / REPOS_LOADED ))"

start_node() { # start_node DATA_DIR TAG: sets PID, PORT and READY_S (seconds until GET /v2/ answers 200)
  PORT="$(free_port 15700)"
  local t0
  t0="$(date +%s.%N)"
  # shellcheck disable=SC2086
  FLOTILLA_NODE_NAME=scale FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="$PORT" FLOTILLA_DATA_DIR="$1" \
    FLOTILLA_CLUSTER_HOST=127.0.0.1 FLOTILLA_CLUSTER_PORT="$(free_port 15970)" FLOTILLA_CLUSTER_NAME="scale-$$-$2" \
    FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_STORAGE_GC_INTERVAL=0 \
    java $FLOTILLA_JAVA_OPTS -jar "$FLOTILLA_JAR" >"$WORK/$2.log" 2>&1 &
  PID=$!
  wait_ready "node ($2)" "$PID" "$PORT"
  READY_S="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
}

start_node "$DATA" big
ready_s="$READY_S"
catalog_ms() { # catalog_ms QUERY: p50 / p99 of 3 s of page requests on one connection (wrk), in ms
  wrk -t1 -c1 -d3s --latency "http://127.0.0.1:$PORT/v2/_catalog?n=100$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = 1 }
    END { if (bad) print "failed"; else printf "%.2f / %.2f", p50, p99 }'
}
cold="$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/v2/_catalog?n=100" | awk '{ printf "%.1f", $1 * 1000 }')"
first="$(catalog_ms "")"
middle="$(catalog_ms "&last=scale500/repo-0000000")"
deep="$(catalog_ms "&last=scale996")"
driver --url "http://127.0.0.1:$PORT" --name big --figures manifest --prefix scalebench \
  --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" --out "$WORK/big.json" 2>>"$WORK/driver.log" >/dev/null
random_get() { # random_get SECONDS [--latency]: wrk over random loaded repositories and tags; prints wrk's summary
  SCALE_REPOS="$REPOS_LOADED" SCALE_MANIFESTS="$MANIFESTS_LOADED" wrk -t1 -c"$CONNECTIONS" -d"$1s" --timeout 10s \
    -s "$BENCH_DIR/random-manifest.lua" "${@:2}" "http://127.0.0.1:$PORT"
}
random_get "$WARMUP_S" >/dev/null
random_out="$(random_get "$DURATION_S" --latency)"
echo "$random_out" >"$WORK/random.txt"
! grep -q "Non-2xx" <<<"$random_out" || die "random manifest GETs saw failures: $random_out"
random_rps="$(awk '/Requests\/sec/ { print $2 }' <<<"$random_out")"
random_p99="$(awk '$1 == "99%" { print $2 }' <<<"$random_out")"
rss_kb="$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")"
stop_pid "$PID"; PID=""
mkdir -p "$WORK/empty"
start_node "$WORK/empty" empty
empty_ready="$READY_S"
driver --url "http://127.0.0.1:$PORT" --name empty --figures manifest --prefix scalebench \
  --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" --out "$WORK/empty.json" 2>>"$WORK/driver.log" >/dev/null
empty_rss="$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")"
stop_pid "$PID"; PID=""
big_rps="$(jq -r .figures.manifest_get.rps "$WORK/big.json")"
empty_rps="$(jq -r .figures.manifest_get.rps "$WORK/empty.json")"

mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/scale-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "Loaded: $load. Node: $FLOTILLA_JAVA_OPTS. Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| figure | loaded node | empty node |"
  echo "|---|---:|---:|"
  echo "| ready after restart, s (until GET /v2/ answers) | $ready_s | $empty_ready |"
  echo "| peak RSS, MiB | $(( rss_kb / 1024 )) | $(( empty_rss / 1024 )) |"
  echo "| catalog page n=100, p50 / p99 ms over 3 s on one connection (wrk): first page | $first | – |"
  echo "| ... a middle page | $middle | – |"
  echo "| ... the last page | $deep | – |"
  echo "| the very first catalog request after start (cold, by curl), ms | $cold | – |"
  echo "| manifest GET of one hot manifest, req/s (one run; compare runs) | $big_rps | $empty_rps |"
  echo "| manifest GET of random manifests across the data, req/s / p99 | $random_rps / $random_p99 | – |"
} | tee "$out"
cp "$out" "$RESULTS_DIR/scale-latest.md"
[[ -z "${KEEP:-}" || "$DATA" == "$WORK/data" ]] || log "kept $DATA"
