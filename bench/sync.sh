#!/usr/bin/env bash
# Sync throughput (issue 13): a Flotilla sync task (POST /api/v1/repositories/<name>/sync into a node
# process; timed from the task's creation to its end, as the task records them) against `skopeo sync`
# into a Flotilla node, both copying the same repository from the same upstream: CNCF distribution
# 2.8.2 (Debian's docker-registry) on loopback. bench/SyncBench.java fills the upstream.
#
# Two workloads: "large" (LARGE_TAGS images of one LARGE_BYTES random layer) and "small"
# (SMALL_TAGS images of two SMALL_BYTES layers). Each run starts a fresh target (an empty data
# folder), and the two contenders alternate within a run; RUNS runs, medians reported. Times are the
# copy alone: the node's start is not counted for either.
#
# Knobs (environment): RUNS [3], LARGE_TAGS [4], LARGE_BYTES [67108864], SMALL_TAGS [200],
# SMALL_BYTES [4096], JAR [target/flotilla.jar], DIST_BIN [/usr/bin/docker-registry], BENCH_TMP [/tmp],
# RESULTS_DIR [bench/results]
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=sync
# shellcheck source=bench/lib.sh
source bench/lib.sh

RUNS="${RUNS:-3}"
LARGE_TAGS="${LARGE_TAGS:-4}"
LARGE_BYTES="${LARGE_BYTES:-67108864}"
SMALL_TAGS="${SMALL_TAGS:-200}"
SMALL_BYTES="${SMALL_BYTES:-4096}"
JAR="${JAR:-target/flotilla.jar}"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"
RESULTS_DIR="${RESULTS_DIR:-bench/results}"
command -v skopeo >/dev/null || die "skopeo is needed"
[[ -x "$DIST_BIN" ]] || die "distribution ($DIST_BIN) is needed"
[[ -f "$JAR" ]] || die "build the jar first: mvn -DskipTests package"

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/flotilla-sync.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}" "${DIST_PID:-}"; do [[ -z "$p" ]] || stop_pid "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start_distribution
PIDS+=("$DIST_PID")
UPSTREAM="http://127.0.0.1:$DIST_PORT"
log "populating: large ($LARGE_TAGS x $LARGE_BYTES bytes), small ($SMALL_TAGS x 2 x $SMALL_BYTES bytes)"
java -cp "$JAR" bench/SyncBench.java populate "$UPSTREAM" bench/large "$LARGE_TAGS" 1 "$LARGE_BYTES" 1
java -cp "$JAR" bench/SyncBench.java populate "$UPSTREAM" bench/small "$SMALL_TAGS" 2 "$SMALL_BYTES" 2

start_target() { # start_target DIR NAME: a fresh Flotilla node on a free port; sets TARGET_PID and TARGET_PORT
  local port pid
  port="$(free_port 15300)"
  mkdir -p "$1"
  FLOTILLA_NODE_NAME="$2" FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="$port" FLOTILLA_DATA_DIR="$1" \
    FLOTILLA_CLUSTER_NAME="sync-bench-$RANDOM$RANDOM" FLOTILLA_CLUSTER_HOST=127.0.0.1 \
    FLOTILLA_CLUSTER_PORT="$(free_port 15900)" FLOTILLA_CLUSTER_DATA_PORT=0 FLOTILLA_HTTP_ACCESS_LOG=false \
    FLOTILLA_EVENTS_ENABLED=false java -Xmx512m -jar "$JAR" >>"$WORK/$2.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready flotilla "$pid" "$port" >&2
  TARGET_PID="$pid"
  TARGET_PORT="$port"
}

flotilla_sync() { # flotilla_sync REPO DIR: seconds of a sync task (POST .../sync) into a fresh node, created to finished
  local pid port base id task
  start_target "$2" flotilla-target
  pid="$TARGET_PID"
  port="$TARGET_PORT"
  base="http://127.0.0.1:$port/api/v1"
  curl -fsS -XPOST "$base/remotes" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"url\":\"$UPSTREAM\",\"upstreamName\":\"$1\"}" >/dev/null
  curl -fsS -XPUT "$base/repositories/$1" -H 'Content-Type: application/json' -d '{"remote":"bench"}' >/dev/null
  id="$(curl -fsS -XPOST "$base/repositories/$1/sync" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  for (( i = 0; i < 6000; i++ )); do # 10 min at most
    task="$(curl -fsS "$base/tasks/$id")"
    case "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$task")" in
      completed) break ;;
      failed|canceled) die "the sync task ended: $task" ;;
    esac
    sleep 0.1
  done
  stop_pid "$pid"
  python3 -c 'import json,sys,datetime as d
t = json.load(sys.stdin)
p = lambda s: d.datetime.fromisoformat(s.replace("Z", "+00:00"))
print("%.3f" % (p(t["finished"]) - p(t["created"])).total_seconds())' <<<"$task"
}

skopeo_sync() { # skopeo_sync REPO DIR: seconds of `skopeo sync` into a fresh Flotilla node
  local pid port t0 t1
  start_target "$2" skopeo-target
  pid="$TARGET_PID"
  port="$TARGET_PORT"
  t0="$(now)"
  skopeo sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false \
    "127.0.0.1:$DIST_PORT/$1" "127.0.0.1:$port" >>"$WORK/skopeo.log" 2>&1 || die "skopeo sync failed: $(tail -3 "$WORK/skopeo.log")"
  t1="$(now)"
  stop_pid "$pid"
  fsub "$t1" "$t0"
}

declare -A TIMES
for (( run = 1; run <= RUNS; run++ )); do
  for w in large small; do
    f="$(flotilla_sync "bench/$w" "$WORK/f-$w-$run")"
    s="$(skopeo_sync "bench/$w" "$WORK/s-$w-$run")"
    log "run $run $w: flotilla sync ${f} s, skopeo sync ${s} s"
    TIMES[$w-flotilla]+="$f "
    TIMES[$w-skopeo]+="$s "
    rm -rf "$WORK/f-$w-$run" "$WORK/s-$w-$run"
  done
done

mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/sync-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "sync throughput, medians of $RUNS interleaved runs (upstream: distribution 2.8.2 on loopback)"
  for w in large small; do
    f="$(xargs -n1 <<<"${TIMES[$w-flotilla]}" | median)"
    s="$(xargs -n1 <<<"${TIMES[$w-skopeo]}" | median)"
    if [[ "$w" == large ]]; then
      mb=$(awk -v n="$LARGE_TAGS" -v b="$LARGE_BYTES" 'BEGIN { printf "%.1f", n * b / 1048576 }')
      images="$LARGE_TAGS"
    else
      mb=$(awk -v n="$SMALL_TAGS" -v b="$SMALL_BYTES" 'BEGIN { printf "%.1f", n * 2 * b / 1048576 }')
      images="$SMALL_TAGS"
    fi
    awk -v w="$w" -v f="$f" -v s="$s" -v mb="$mb" -v n="$images" 'BEGIN {
      printf "%-5s flotilla %7.2f s (%7.1f MB/s, %7.1f images/s) | skopeo sync %7.2f s (%7.1f MB/s, %7.1f images/s) | ratio %.2fx\n",
        w, f, mb / f, n / f, s, mb / s, n / s, s / f }'
    echo "      runs: flotilla ${TIMES[$w-flotilla]}| skopeo ${TIMES[$w-skopeo]}"
  done
} | tee "$out"
