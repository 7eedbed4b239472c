#!/usr/bin/env bash
# Event bus throughput with cluster TLS off and on, between two Flotilla node processes.
# A benchmark, not a test.
#
#   bench/cluster-tls.sh                          # 3 runs per mode, interleaved off,on,off,on,off,on
#   RUNS=1 DURATION_S=5 bench/cluster-tls.sh      # smoke run
#
# Each run starts a fresh 2-node cluster (R=1, so every repository lives on one node only), with or
# without cluster TLS (certificates from cluster-config/make-certs.sh). The bench driver pushes one
# small image through node-1 into a repository whose only owner is node-2 (chosen with the server's
# own placement code, io.flotilla.bench.Owners), then runs its closed-loop manifest GET load
# (--figures manifest) through node-1: every GET is a MANIFEST_GET request/reply over the event
# bus, node-1 -> node-2 and back. Reported per mode: the median of the runs' req/s, p50 and p99.
#
# Environment (defaults in brackets): RUNS [3], DURATION_S [15], WARMUP_S [5], CONNECTIONS [16],
#   FLOTILLA_JAR [$ROOT/target/flotilla.jar], FLOTILLA_JAVA_OPTS [-Xmx192m -XX:+UseParallelGC],
#   BENCH_JAVA_OPTS [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC], FLOTILLA_PORT / FLOTILLA_CLUSTER_PORT [15400 / 15900], BENCH_TMP [/tmp], RESULTS_DIR [bench/results]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RUNS="${RUNS:-3}"
DURATION_S="${DURATION_S:-15}"
WARMUP_S="${WARMUP_S:-5}"
CONNECTIONS="${CONNECTIONS:-16}"
FLOTILLA_JAR="${FLOTILLA_JAR:-$ROOT/target/flotilla.jar}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_DIR/results}"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
BENCH_NAME=cluster-tls.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

for tool in curl jq ss openssl java; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f "$FLOTILLA_JAR" ]] || die "Flotilla jar $FLOTILLA_JAR is missing (mvn -q -DskipTests package)"
if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver"
  (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"
fi

WORK="$(mktemp -d "$BENCH_TMP/flotilla-tls-bench.XXXXXX")"
cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar"
JAR="$WORK/flotilla-under-bench.jar"
PIDS=()
cleanup() {
  local st=$? pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  (( st == 0 )) || tail_logs
  rm -rf "$WORK"
  exit "$st"
}
trap cleanup EXIT

"$ROOT/cluster-config/make-certs.sh" "$WORK/certs" node-1 node-2 >/dev/null

# a repository prefix whose "<prefix>/hot" (the driver's manifest repository) is owned by node-2 alone
PREFIX=""
for n in $(seq 0 50); do
  owner="$(echo "tls$n/hot" | java -cp "$BENCH_JAR:$JAR" io.flotilla.bench.Owners 1 node-1,node-2 | awk '{print $2}')"
  if [[ "$owner" == "node-2" ]]; then PREFIX="tls$n"; break; fi
done
[[ -n "$PREFIX" ]] || die "no prefix owned by node-2 found"
log "repository $PREFIX/hot is owned by node-2: manifest GETs through node-1 cross the bus"

median() { # median of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }

run_once() { # run_once MODE(off|on) RUN: writes "rps p50 p99" to $WORK/MODE-RUN.txt
  local mode="$1" run="$2" i http=() hz=() members="" tag="$1-$2" pid
  local p=$(( ${FLOTILLA_PORT:-15400} - 1 )) q=$(( ${FLOTILLA_CLUSTER_PORT:-15900} - 1 ))
  for i in 1 2; do
    p="$(free_port $(( p + 1 )))"; q="$(free_port $(( q + 1 )))"
    http+=("$p"); hz+=("$q"); members="${members:+$members,}127.0.0.1:$q"
  done
  PIDS=()
  for i in 1 2; do
    local tls_env=()
    if [[ "$mode" == "on" ]]; then
      tls_env=(FLOTILLA_CLUSTER_TLS_CERT="$WORK/certs/node-$i.pem" FLOTILLA_CLUSTER_TLS_KEY="$WORK/certs/node-$i-key.pem"
               FLOTILLA_CLUSTER_TLS_CA="$WORK/certs/ca.pem")
    fi
    mkdir -p "$WORK/data-$tag-$i"
    # shellcheck disable=SC2086
    env "${tls_env[@]}" FLOTILLA_NODE_NAME="node-$i" FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="${http[$((i-1))]}" \
      FLOTILLA_DATA_DIR="$WORK/data-$tag-$i" FLOTILLA_CLUSTER_NAME="tls-bench-$$-$tag" FLOTILLA_CLUSTER_HOST=127.0.0.1 \
      FLOTILLA_CLUSTER_PORT="${hz[$((i-1))]}" FLOTILLA_CLUSTER_MEMBERS="$members" FLOTILLA_CLUSTER_REPLICATION_FACTOR=1 \
      FLOTILLA_CLUSTER_HANDOFF_TIMEOUT=0s FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_STORAGE_GC_INTERVAL=0 \
      java $FLOTILLA_JAVA_OPTS -jar "$JAR" >"$WORK/$tag-node-$i.log" 2>&1 &
    PIDS+=($!)
  done
  for i in 1 2; do wait_ready "node-$i ($tag)" "${PIDS[$((i-1))]}" "${http[$((i-1))]}"; done
  for _ in $(seq 1 300); do
    local ok=1
    for i in 0 1; do
      [[ "$(curl -s --max-time 2 "http://127.0.0.1:${http[$i]}/api/v1/cluster" \
        | jq -r '[.members[] | select(.state == "serving")] | length' 2>/dev/null)" == "2" ]] || ok=0
    done
    (( ok )) && break
    sleep 0.2
  done
  (( ok )) || die "the two nodes ($tag) did not see each other serving within 60 s"
  driver --url "http://127.0.0.1:${http[0]}" --name "tls-$tag" --figures manifest \
    --prefix "$PREFIX" --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" \
    --out "$WORK/$tag.json" 2>>"$WORK/driver.log" >/dev/null || die "driver failed ($tag)"
  local held
  held="$(curl -s "http://127.0.0.1:${http[1]}/api/v1/storage/usage" | jq -r --arg r "$PREFIX/hot" \
    '[.repositories[] | select(.name == $r)] | length')"
  [[ "$held" == "1" ]] || die "node-2 does not hold $PREFIX/hot ($tag): the GETs did not cross the bus"
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
  jq -r '.figures.manifest_get | "\(.rps) \(.p50_ms) \(.p99_ms)"' "$WORK/$tag.json" >"$WORK/$tag.txt"
}

declare -A RPS P50 P99
for run in $(seq 1 "$RUNS"); do
  for mode in off on; do
    run_once "$mode" "$run"
    read -r rps p50 p99 <"$WORK/$mode-$run.txt"
    log "run $run, TLS $mode: $(fmt1 "$rps") req/s, p50 $p50 ms, p99 $p99 ms"
    RPS[$mode]+="$rps "; P50[$mode]+="$p50 "; P99[$mode]+="$p99 "
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/cluster-tls-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "Manifest GETs through the non-owner of a 2-node cluster (each one a request/reply over the event bus),"
  echo "$CONNECTIONS connections, ${WARMUP_S} s warm-up + ${DURATION_S} s, median of $RUNS interleaved runs per mode."
  echo "Machine: $(nproc) cores, $(java -version 2>&1 | head -1)."
  echo
  echo "| Cluster TLS | req/s | p50 ms | p99 ms | runs (req/s) |"
  echo "|---|---|---|---|---|"
  for mode in off on; do
    echo "| $mode | $(fmt1 "$(med "${RPS[$mode]}")") | $(med "${P50[$mode]}") | $(med "${P99[$mode]}") | ${RPS[$mode]}|"
  done
} | tee "$out"
cp "$out" "$RESULTS_DIR/cluster-tls-latest.md"
