#!/usr/bin/env bash
# Flotilla vs CNCF distribution (Debian's docker-registry) benchmark.
#
#   bench/run.sh                                # both servers, default sizes
#   TARGETS=distribution bench/run.sh           # distribution only (no Flotilla jar needed)
#   BLOB_MB=32 IMAGES=100 DURATION_S=3 bench/run.sh   # quick run
#
# Environment (defaults in brackets):
#   TARGETS            servers to measure, space or comma separated ["flotilla distribution"]
#   BLOB_MB            large blob size for figures 1-3, MiB [256]
#   REPS               measured pushes per push figure [3]
#   PULL_REPS          measured pulls [5]
#   CHUNK_MB           PATCH chunk size, MiB [8]
#   IMAGES             small images pushed in figure 5 (= repositories for figure 6) [511]
#   IMAGE_CONCURRENCY  images in flight [8]
#   IMAGE_WARMUP       unmeasured small images pushed before figure 5, into other repositories [300]
#   DURATION_S         measured seconds of the manifest GET load [10]
#   WARMUP_S           warm-up seconds before it, so the JIT has compiled the path [10]
#   CONNECTIONS        connections of the manifest GET load [16]
#   CATALOG_RUNS       measured full catalog listings [5]
#   FIGURES            figures to run, comma separated: mono,chunked,pull,manifest,images,catalog [all]
#                      (e.g. FIGURES=manifest,images for figures 4 and 5 only; the others show n/a)
#   SKIP_BUILD=1       do not rebuild target/flotilla.jar (the bench jar is still built if stale)
#   FLOTILLA_JAVA_OPTS JVM options for the Flotilla server [-Xmx192m -XX:+UseParallelGC, as README.md runs it]
#   BENCH_JAVA_OPTS    JVM options for the load generator [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC; set empty for none]
#   FLOTILLA_PORT / DIST_PORT  first port to try for each server [15000 / 15100]
#   FLOTILLA_CLUSTER_PORT      first Hazelcast member port to try [15700]
#   FLOTILLA_HTTP_ACCESS_LOG   Flotilla's access log [false, as distribution's is disabled]
#   BENCH_TMP          parent directory of the temporary data dirs [/tmp]
#
# Everything listens on and talks to 127.0.0.1 only. The table is printed and written to
# bench/results/<timestamp>.md and bench/results/latest.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

TARGETS="${TARGETS:-flotilla distribution}"
TARGETS="${TARGETS//,/ }"
BLOB_MB="${BLOB_MB:-256}"
REPS="${REPS:-3}"
PULL_REPS="${PULL_REPS:-5}"
CHUNK_MB="${CHUNK_MB:-8}"
IMAGES="${IMAGES:-511}"
IMAGE_CONCURRENCY="${IMAGE_CONCURRENCY:-8}"
IMAGE_WARMUP="${IMAGE_WARMUP:-300}"
DURATION_S="${DURATION_S:-10}"
WARMUP_S="${WARMUP_S:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
CATALOG_RUNS="${CATALOG_RUNS:-5}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"

FLOTILLA_JAR="$ROOT/target/flotilla.jar"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"

BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

want() { [[ " $TARGETS " == *" $1 "* ]]; }
for t in $TARGETS; do
  case "$t" in flotilla|distribution) ;; *) die "unknown target '$t' (known: flotilla distribution)";; esac
done
[[ -n "${TARGETS// /}" ]] || die "TARGETS is empty"

# ---------------------------------------------------------------- build
if want flotilla; then
  if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
    log "building Flotilla: mvn -q -DskipTests package"
    (cd "$ROOT" && mvn -q -DskipTests package) || die "Flotilla build failed"
  fi
  if [[ ! -f "$FLOTILLA_JAR" ]]; then
    die "Flotilla jar $FLOTILLA_JAR is missing (build it, or run with TARGETS=distribution)"
  fi
elif [[ ! -f "$FLOTILLA_JAR" ]]; then
  log "note: Flotilla jar $FLOTILLA_JAR is missing; running against: $TARGETS"
fi

if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver: (cd bench && mvn -q package)"
  (cd "$BENCH_DIR" && mvn -q package) || die "bench driver build failed"
fi
if want distribution; then
  [[ -x "$DIST_BIN" ]] || die "$DIST_BIN not found (apt-get install docker-registry)"
fi

# ---------------------------------------------------------------- temp dirs, cleanup
WORK="$(mktemp -d "$BENCH_TMP/flotilla-bench.XXXXXX")"
FLOTILLA_PID=""
DIST_PID=""

cleanup() {
  local rc=$?
  stop_pid "$FLOTILLA_PID"
  stop_pid "$DIST_PID"
  [[ $rc -eq 0 ]] || tail_logs
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vmhwm_kb() { # peak resident set of a process, kB
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || true
}

# ---------------------------------------------------------------- start servers
if want flotilla; then
  FLOTILLA_PORT="$(free_port "${FLOTILLA_PORT:-15000}")"
  mkdir -p "$WORK/flotilla-data"
  # Run a copy, so a rebuild of target/ during the run cannot pull classes from under it.
  cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar"
  log "starting Flotilla on 127.0.0.1:$FLOTILLA_PORT ${FLOTILLA_JAVA_OPTS:+(java opts: $FLOTILLA_JAVA_OPTS)}"
  # shellcheck disable=SC2086  # FLOTILLA_JAVA_OPTS is a list of words
  # A cluster name and member port of its own, so this node never joins another Flotilla
  # running on the machine; access log off like distribution's (override by exporting it).
  FLOTILLA_CLUSTER_PORT="$(free_port "${FLOTILLA_CLUSTER_PORT:-15700}")"
  FLOTILLA_HTTP_PORT="$FLOTILLA_PORT" FLOTILLA_HTTP_HOST=127.0.0.1 \
    FLOTILLA_DATA_DIR="$WORK/flotilla-data" \
    FLOTILLA_CLUSTER_NAME="flotilla-bench-$$" FLOTILLA_CLUSTER_HOST=127.0.0.1 \
    FLOTILLA_CLUSTER_PORT="$FLOTILLA_CLUSTER_PORT" \
    FLOTILLA_HTTP_ACCESS_LOG="${FLOTILLA_HTTP_ACCESS_LOG:-false}" \
    java $FLOTILLA_JAVA_OPTS -jar "$WORK/flotilla-under-bench.jar" >"$WORK/flotilla.log" 2>&1 &
  FLOTILLA_PID=$!
  wait_ready Flotilla "$FLOTILLA_PID" "$FLOTILLA_PORT"
fi

if want distribution; then
  start_distribution
fi

# ---------------------------------------------------------------- run the driver, one server at a time
run_driver() { # run_driver NAME PORT
  local name="$1" port="$2"
  log "measuring $name (this takes a while; progress below)"
  # shellcheck disable=SC2086
  driver \
    --url "http://127.0.0.1:$port" --name "$name" \
    --blob-mb "$BLOB_MB" --reps "$REPS" --pull-reps "$PULL_REPS" --chunk-mb "$CHUNK_MB" \
    --images "$IMAGES" --image-concurrency "$IMAGE_CONCURRENCY" --image-warmup "$IMAGE_WARMUP" \
    --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --connections "$CONNECTIONS" \
    --catalog-runs "$CATALOG_RUNS" --tmp-dir "$WORK" ${FIGURES:+--figures "$FIGURES"} \
    --out "$WORK/$name.json" >/dev/null \
    || die "benchmark driver failed against $name"
}

REPORT_ARGS=()
if want flotilla; then
  run_driver flotilla "$FLOTILLA_PORT"
  REPORT_ARGS+=(--result "flotilla=$WORK/flotilla.json")
fi
if want distribution; then
  run_driver distribution "$DIST_PORT"
  REPORT_ARGS+=(--result "distribution=$WORK/distribution.json")
fi

# Peak RSS of each server, sampled now that all load is over (VmHWM is a high-water mark).
if want flotilla; then
  kill -0 "$FLOTILLA_PID" 2>/dev/null || die "Flotilla died during the benchmark"
  REPORT_ARGS+=(--rss-kb "flotilla=$(vmhwm_kb "$FLOTILLA_PID")")
fi
if want distribution; then
  kill -0 "$DIST_PID" 2>/dev/null || die "distribution died during the benchmark"
  REPORT_ARGS+=(--rss-kb "distribution=$(vmhwm_kb "$DIST_PID")")
fi
stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""
stop_pid "$DIST_PID"; DIST_PID=""

# ---------------------------------------------------------------- report
TS="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/$TS.md"
GIT_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
REPORT_RC=0
driver report "${REPORT_ARGS[@]}" \
  --meta "date: $TS (UTC), git: $GIT_REV, targets: $TARGETS" \
  --meta "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr); client and servers share the cores" \
  --meta "java: $(java -version 2>&1 | head -1); distribution: $("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}')" \
  --meta "Flotilla JVM options: ${FLOTILLA_JAVA_OPTS:-(none)}" \
  --out "$OUT" || REPORT_RC=$?
[[ -s "$OUT" ]] || die "report was not written"
cp "$OUT" "$BENCH_DIR/results/latest.md"
log "written $OUT and bench/results/latest.md"
if [[ $REPORT_RC -ne 0 ]]; then
  die "report flagged a problem (exit $REPORT_RC), see the table"
fi
