#!/usr/bin/env bash
# A/B of two Flotilla jars on the same figures, runs interleaved (A, B, A, B, ...), each on a fresh
# single node with an empty disk: the before/after measurement of a change that claims speed.
# A benchmark, not a test.
#
#   JAR_A=/tmp/before.jar JAR_B=target/flotilla.jar bench/ab.sh
#   FIGURES=manifest,images RUNS=5 JAR_A=... JAR_B=... bench/ab.sh
#
# Environment (defaults in brackets): JAR_A, JAR_B (required), FIGURES [manifest,images], RUNS [3],
#   DURATION_S [10], WARMUP_S [10], IMAGES [300], IMAGE_WARMUP [300], CONNECTIONS [16],
#   FLOTILLA_JAVA_OPTS [-Xmx192m -XX:+UseParallelGC], BENCH_TMP [/tmp]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIGURES="${FIGURES:-manifest,images}"
RUNS="${RUNS:-3}"
DURATION_S="${DURATION_S:-10}"
WARMUP_S="${WARMUP_S:-10}"
IMAGES="${IMAGES:-300}"
IMAGE_WARMUP="${IMAGE_WARMUP:-300}"
CONNECTIONS="${CONNECTIONS:-16}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
BENCH_NAME=ab.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
[[ -f "${JAR_A:-}" && -f "${JAR_B:-}" ]] || die "set JAR_A and JAR_B to two Flotilla jars"
for tool in curl jq java; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -f "$BENCH_JAR" ]] || (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"

WORK="$(mktemp -d "$BENCH_TMP/flotilla-ab.XXXXXX")"
cp "$JAR_A" "$WORK/a.jar"
cp "$JAR_B" "$WORK/b.jar"
PID=""
cleanup() {
  local st=$?
  [[ -z "$PID" ]] || stop_pid "$PID"
  (( st == 0 )) || tail_logs
  rm -rf "$WORK"
  exit "$st"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A MGET IMG
for run in $(seq 1 "$RUNS"); do
  for side in a b; do
    port="$(free_port 15600)"
    mkdir -p "$WORK/data-$side-$run"
    # shellcheck disable=SC2086
    FLOTILLA_NODE_NAME=ab FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="$port" FLOTILLA_DATA_DIR="$WORK/data-$side-$run" \
      FLOTILLA_CLUSTER_HOST=127.0.0.1 FLOTILLA_CLUSTER_PORT="$(free_port 15960)" FLOTILLA_CLUSTER_NAME="ab-$$-$side-$run" \
      FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_STORAGE_GC_INTERVAL=0 \
      java $FLOTILLA_JAVA_OPTS -jar "$WORK/$side.jar" >"$WORK/$side-$run.log" 2>&1 &
    PID=$!
    wait_ready "jar $side (run $run)" "$PID" "$port"
    driver --url "http://127.0.0.1:$port" --name "$side-$run" --figures "$FIGURES" \
      --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" --images "$IMAGES" --image-warmup "$IMAGE_WARMUP" \
      --out "$WORK/$side-$run.json" 2>>"$WORK/driver.log" >/dev/null || die "driver failed ($side, run $run)"
    stop_pid "$PID"
    PID=""
    m="$(jq -r '.figures.manifest_get.rps // empty' "$WORK/$side-$run.json")"
    i="$(jq -r '.figures.image_push.images_per_s // empty' "$WORK/$side-$run.json")"
    log "run $run, jar $side: manifest GET ${m:-–} req/s, small images ${i:-–}/s"
    MGET[$side]+="${m:+$m }"; IMG[$side]+="${i:+$i }"
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo "| figure | A ($JAR_A) | B ($JAR_B) | B / A | runs A | runs B |"
echo "|---|---:|---:|---:|---|---|"
for f in MGET IMG; do
  declare -n arr="$f"
  [[ -n "${arr[a]:-}" ]] || continue
  a="$(med "${arr[a]}")"; b="$(med "${arr[b]}")"
  name=$([[ "$f" == MGET ]] && echo "manifest GET, req/s" || echo "small-image pushes, images/s")
  echo "| $name | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }') | ${arr[a]}| ${arr[b]}|"
done
