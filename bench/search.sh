#!/usr/bin/env bash
# Flotilla search benchmark: zot's GraphQL search (/v2/_zot/ext/search) over a 3-node cluster
# holding SEARCH_REPOS repositories. A benchmark, not a test.
#
#   bench/search.sh                                  # 3 nodes x 10,000 repositories (long: the pushes)
#   SEARCH_REPOS=300 DURATION_S=3 bench/search.sh    # smoke run
#
# Figures:
#   latency   GlobalSearch(query: SEARCH_QUERY) page of 10 by RELEVANCE, RepoListWithNewestImage page
#             of 10 at offset 0 and at DEEP_OFFSET, each through node-1 and node-3: wrk --latency,
#             CONNECTIONS connections on one thread, WARMUP_S unmeasured + DURATION_S measured;
#             requests/s, p50, p99 (target: p99 <= 20 ms for a page of 10). Every answer is checked
#             (200 and no "errors", bench/search-query.lua).
#   rebuild   node-2 stopped and started again on the same data dir: its log line "search index built:
#             N repositories with images in M ms" (SearchVerticle), and the seconds from its start
#             until GET /v2/ answers 200 (the search verticle is deployed before the HTTP server)
#             and until every node sees 3 members again.
#   memory    heap per repository of the search index: bench/SearchIndexMemory.java builds
#             SEARCH_REPOS RepoIndex objects in-process and measures the heap after GCs.
#
# Environment (defaults in brackets):
#   SEARCH_REPOS         repositories, one small image each, pushed by the bench driver [10000]
#   SEARCH_QUERY         GlobalSearch text, a substring of every repository name [repo]
#   DEEP_OFFSET          offset of the deep RepoListWithNewestImage page [5000]
#   DURATION_S           measured seconds per query and node [10]
#   WARMUP_S             unmeasured seconds of the same load first (the JIT) [5]
#   CONNECTIONS          wrk connections [4]
#   IMAGE_CONCURRENCY    images in flight while pushing [8]
#   REPLICATION_FACTOR   [2]; REBALANCE_INTERVAL [5s]
#   FLOTILLA_JAR         the Flotilla jar [$ROOT/target/flotilla.jar; a copy is run, never built here]
#   FLOTILLA_JAVA_OPTS   JVM options of each node [-Xmx192m -XX:+UseParallelGC]
#   MEMORY_JAVA_OPTS     JVM options of SearchIndexMemory.java [-Xmx1g -XX:+UseSerialGC]
#   BENCH_JAVA_OPTS      JVM options of the bench driver [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC]
#   FLOTILLA_PORT / FLOTILLA_CLUSTER_PORT   first ports tried [15500 / 16050]
#   BENCH_TMP [/tmp], RESULTS_DIR [bench/results], LOG_DIR [unset: logs are copied there on exit]
#
# Everything listens on and talks to 127.0.0.1 only; every wait is bounded; every process started
# here is stopped on exit, also on failure. The table is printed and written to
# RESULTS_DIR/search-<UTC timestamp>.md and RESULTS_DIR/search-latest.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

SEARCH_REPOS="${SEARCH_REPOS:-10000}"
SEARCH_QUERY="${SEARCH_QUERY:-repo}"
DEEP_OFFSET="${DEEP_OFFSET:-5000}"
DURATION_S="${DURATION_S:-10}"
WARMUP_S="${WARMUP_S:-5}"
CONNECTIONS="${CONNECTIONS:-4}"
IMAGE_CONCURRENCY="${IMAGE_CONCURRENCY:-8}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-2}"
REBALANCE_INTERVAL="${REBALANCE_INTERVAL:-5s}"
FLOTILLA_JAR="${FLOTILLA_JAR:-$ROOT/target/flotilla.jar}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
MEMORY_JAVA_OPTS="${MEMORY_JAVA_OPTS--Xmx1g -XX:+UseSerialGC}"
FLOTILLA_PORT="${FLOTILLA_PORT:-15500}"                  # read by add_node (lib.sh)
FLOTILLA_CLUSTER_PORT="${FLOTILLA_CLUSTER_PORT:-16050}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_DIR/results}"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
PREFIX=search

BENCH_NAME=search.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

for v in SEARCH_REPOS DURATION_S CONNECTIONS IMAGE_CONCURRENCY REPLICATION_FACTOR; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
for v in WARMUP_S DEEP_OFFSET; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
(( REPLICATION_FACTOR <= 3 )) || die "REPLICATION_FACTOR must be at most 3 (3 nodes)"
[[ "$SEARCH_QUERY" =~ ^[A-Za-z0-9._/-]+$ ]] || die "SEARCH_QUERY must be a plain repository-name text, got '$SEARCH_QUERY'"
for tool in curl jq ss java wrk; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# ---------------------------------------------------------------- jars
[[ -f "$FLOTILLA_JAR" ]] || die "Flotilla jar $FLOTILLA_JAR is missing (mvn -q -DskipTests package, or set FLOTILLA_JAR)"
if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver: (cd bench && mvn -q -o package)"
  (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"
fi

# ---------------------------------------------------------------- temp dir, processes, cleanup
WORK="$(mktemp -d "$BENCH_TMP/flotilla-search-bench.XXXXXX")"
cleanup() {
  local rc=$?
  stop_nodes
  [[ $rc -eq 0 ]] || tail_logs
  if [[ -n "${LOG_DIR:-}" ]]; then
    if mkdir -p "$LOG_DIR"; then cp "$WORK"/*.log "$WORK"/*.txt "$LOG_DIR"/ 2>/dev/null || true; fi
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Run a copy, so a rebuild of target/ during the run cannot pull classes from under the nodes.
cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar"
JAR="$WORK/flotilla-under-bench.jar"
CLUSTER_NAME="flotilla-search-bench-$$-$RANDOM"

# ---------------------------------------------------------------- queries
GLOBAL_Q="{ GlobalSearch(query: \"$SEARCH_QUERY\", requestedPage: {limit: 10, offset: 0, sortBy: RELEVANCE}) { Page { TotalCount ItemCount } Repos { Name LastUpdated Size NewestImage { Tag Digest } } } }"
list_q() { echo "{ RepoListWithNewestImage(requestedPage: {limit: 10, offset: $1}) { Page { TotalCount } Results { Name LastUpdated Size NewestImage { Tag } } } }"; }
PLATFORM_Q='{ RepoListWithNewestImage(requestedPage: {limit: 3, offset: 0}) { Results { Name Platforms { Os Arch } NewestImage { Tag Manifests { Platform { Os Arch } } } } } }'
QUERIES=(global list0 listdeep)
declare -A QTEXT=([global]="$GLOBAL_Q" [list0]="$(list_q 0)" [listdeep]="$(list_q "$DEEP_OFFSET")")
declare -A QLABEL=([global]="GlobalSearch(\"$SEARCH_QUERY\"), page of 10 by RELEVANCE"
  [list0]="RepoListWithNewestImage, page of 10 at offset 0"
  [listdeep]="RepoListWithNewestImage, page of 10 at offset $DEEP_OFFSET")
for q in "${QUERIES[@]}" platform; do
  if [[ "$q" == platform ]]; then t="$PLATFORM_Q"; else t="${QTEXT[$q]}"; fi
  jq -cn --arg q "$t" '{query: $q}' >"$WORK/body-$q.json"
done

search_once() { # search_once NODE_INDEX QUERY_KEY: the answer of one POST, or die unless 200 without "errors"
  local url code
  url="$(node_url "$1")/v2/_zot/ext/search"
  code="$(curl -s -o "$WORK/answer.json" -w '%{http_code}' --max-time 30 -X POST \
    -H 'Content-Type: application/json' --data-binary "@$WORK/body-$2.json" "$url" || true)"
  [[ "$code" == "200" ]] || die "POST $url ($2) answered ${code:-nothing}: $(head -c 400 "$WORK/answer.json" 2>/dev/null)"
  jq -e 'has("errors") | not' "$WORK/answer.json" >/dev/null \
    || die "POST $url ($2) answered with errors: $(head -c 400 "$WORK/answer.json")"
  cat "$WORK/answer.json"
}

check_answers() { # check_answers NODE_INDEX: every measured query answers as expected through that node
  local i="$1" a n want_items
  a="$(search_once "$i" global)"
  n="$(jq -r '.data.GlobalSearch.Page.TotalCount' <<<"$a")"
  [[ "$n" == "$SEARCH_REPOS" ]] || die "GlobalSearch(\"$SEARCH_QUERY\") through ${NODE_NAMES[$i]} counts $n repositories, expected $SEARCH_REPOS"
  want_items=$(( SEARCH_REPOS < 10 ? SEARCH_REPOS : 10 ))
  [[ "$(jq -r '.data.GlobalSearch.Repos | length' <<<"$a")" == "$want_items" ]] \
    || die "GlobalSearch through ${NODE_NAMES[$i]} returned $(jq -c '.data.GlobalSearch.Page' <<<"$a"), expected $want_items repositories"
  jq -e '[.data.GlobalSearch.Repos[] | .NewestImage.Tag == "latest" and (.NewestImage.Digest | startswith("sha256:"))] | all' <<<"$a" >/dev/null \
    || die "GlobalSearch through ${NODE_NAMES[$i]}: a repository without its newest image: $(head -c 400 <<<"$a")"
  for q in list0 listdeep; do
    a="$(search_once "$i" "$q")"
    n="$(jq -r '.data.RepoListWithNewestImage.Page.TotalCount' <<<"$a")"
    [[ "$n" == "$SEARCH_REPOS" ]] || die "$q through ${NODE_NAMES[$i]} counts $n repositories, expected $SEARCH_REPOS"
    if [[ "$q" == list0 ]]; then want_items=$(( SEARCH_REPOS < 10 ? SEARCH_REPOS : 10 ))
    else want_items=$(( SEARCH_REPOS - DEEP_OFFSET )); (( want_items < 0 )) && want_items=0; (( want_items > 10 )) && want_items=10
    fi
    [[ "$(jq -r '.data.RepoListWithNewestImage.Results | length' <<<"$a")" == "$want_items" ]] \
      || die "$q through ${NODE_NAMES[$i]}: $(jq -r '.data.RepoListWithNewestImage.Results | length' <<<"$a") results, expected $want_items"
  done
  log "  ${NODE_NAMES[$i]}: every query answers 200 without errors, $SEARCH_REPOS repositories counted"
}

# wrk_run NODE_INDEX QUERY_KEY SECONDS OUT: wrk --latency against the search endpoint, output into OUT
wrk_run() {
  SEARCH_BODY_FILE="$WORK/body-$2.json" timeout $(( $3 + 60 )) wrk -t1 -c"$CONNECTIONS" -d"$3s" --timeout 10s --latency \
    -s "$BENCH_DIR/search-query.lua" "$(node_url "$1")/v2/_zot/ext/search" >"$4" 2>&1 \
    || die "wrk against ${NODE_NAMES[$1]} ($2) failed: $(tail -n 5 "$4")"
  grep -q '^search answers: [0-9]* checked, 0 failed$' "$4" \
    || die "wrk against ${NODE_NAMES[$1]} ($2): failed answers: $(grep -E 'search answers|Non-2xx|Socket errors' "$4" | tr '\n' ' ')"
  ! grep -q 'Non-2xx\|Socket errors' "$4" || die "wrk against ${NODE_NAMES[$1]} ($2): $(grep -E 'Non-2xx|Socket errors' "$4" | tr '\n' ' ')"
}
wrk_ms() { # wrk_ms FILE PERCENT: that percentile of wrk's latency distribution, in ms
  awk -v p="$2%" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    $1 == p { printf "%.2f", ms($2); found = 1 } END { if (!found) print "nan" }' "$1"
}

ROWS=()
NOTES=()

# ================================================================= cluster and data
start_cluster s
N1="$(node_url 0)"
log "pushing $SEARCH_REPOS small images ($PREFIX/repo-NNNN:latest: OCI image config + 4 KiB layer) through ${NODE_NAMES[0]}, $IMAGE_CONCURRENCY in flight"
driver --url "$N1" --name flotilla --figures images --images "$SEARCH_REPOS" --image-concurrency "$IMAGE_CONCURRENCY" \
  --prefix "$PREFIX" --tmp-dir "$WORK" --out "$WORK/push.json" >/dev/null 2>"$WORK/driver.txt" \
  || { tail -n 20 "$WORK/driver.txt" >&2; die "the bench driver failed"; }
check_alive
PUSH_IPS="$(jq -r '.figures.image_push.images_per_s' "$WORK/push.json")"
PUSH_S="$(jq -r '.figures.image_push.seconds' "$WORK/push.json")"
log "pushed $SEARCH_REPOS images in $PUSH_S s ($PUSH_IPS images/s)"
HELD=""
for i in 0 1 2; do
  HELD="${HELD:+$HELD / }$(get_json "$(node_url "$i")/api/v1/storage/usage" | jq -r '.repositories | length')"
done
log "repositories held by ${NODE_NAMES[*]}: $HELD"

log "checking the answers (curl, once per query and node)"
for i in 0 1 2; do check_answers "$i"; done
PLATFORMS="$(search_once 0 platform | jq -c '[.data.RepoListWithNewestImage.Results[] | {Name, Platforms, Newest: [.NewestImage.Manifests[].Platform]}]')"
jq -e 'length > 0 and ([.[] | (.Platforms | length) > 0 and (.Newest | length) > 0 and all(.Newest[]; .Os == "linux" and .Arch == "amd64")] | all)' \
  <<<"$PLATFORMS" >/dev/null || die "the pushed images show no platform (are their configs image configs?): $PLATFORMS"
log "  the pushed images' configs are read as image configs: $PLATFORMS"
NOTES+=("platforms of the first repositories (their OCI image configs are read): \`$PLATFORMS\`")

# ================================================================= latency
declare -A RPS=() P50=() P99=()
for i in 0 2; do
  for q in "${QUERIES[@]}"; do
    if (( WARMUP_S > 0 )); then
      log "${NODE_NAMES[$i]} $q: $WARMUP_S s warm-up"
      wrk_run "$i" "$q" "$WARMUP_S" "$WORK/wrk-warmup-$q-$i.txt"
    fi
    log "${NODE_NAMES[$i]} $q: $DURATION_S s, $CONNECTIONS connections"
    out="$WORK/wrk-$q-${NODE_NAMES[$i]}.txt"
    wrk_run "$i" "$q" "$DURATION_S" "$out"
    RPS[$q-$i]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")"
    P50[$q-$i]="$(wrk_ms "$out" 50)"
    P99[$q-$i]="$(wrk_ms "$out" 99)"
    log "  ${RPS[$q-$i]} req/s, p50 ${P50[$q-$i]} ms, p99 ${P99[$q-$i]} ms ($(grep '^search answers' "$out"))"
    check_alive
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
for q in "${QUERIES[@]}"; do
  for i in 0 2; do
    verdict=""
    if [[ "$q" != listdeep ]] || (( SEARCH_REPOS > DEEP_OFFSET )); then
      verdict="$(awk -v p="${P99[$q-$i]}" 'BEGIN { print (p <= 20) ? "meets" : "ABOVE" }')"
    fi
    ROWS+=("| ${QLABEL[$q]} | ${NODE_NAMES[$i]} | ${RPS[$q-$i]} | ${P50[$q-$i]} | ${P99[$q-$i]} | ${verdict:-–} |")
  done
done
if (( SEARCH_REPOS <= DEEP_OFFSET )); then
  NOTES+=("with $SEARCH_REPOS repositories the page at offset $DEEP_OFFSET is empty (TotalCount only): its row measures the fan-out and the merge, not a deep page")
fi

# ================================================================= rebuild at start
R=1
log "restarting ${NODE_NAMES[$R]} on the same data dir"
stop_pid "${NODE_PIDS[$R]}"; NODE_PIDS[R]=""
mv "$WORK/s-${NODE_NAMES[$R]}.log" "$WORK/s-${NODE_NAMES[$R]}-before-restart.log"
t0="$(now)"
start_node "$R" "$(members_of 0 2)" s
wait_ready "${NODE_NAMES[$R]}" "${NODE_PIDS[$R]}" "${NODE_PORTS[$R]}"
READY_S="$(fsub "$(now)" "$t0")"
wait_members 3 0 2
MEMBERS_S="$(fsub "$(now)" "$t0")"
LINE="$(grep -o 'search index built: [0-9,.]* repositories with images in [0-9,.]* ms' "$WORK/s-${NODE_NAMES[$R]}.log" | tail -n 1 || true)"
[[ -n "$LINE" ]] || die "${NODE_NAMES[$R]}'s log has no 'search index built' line"
BUILT_REPOS="$(sed -E 's/^search index built: ([0-9,.]+) repositories.*/\1/' <<<"$LINE" | tr -d ',.')"
BUILT_MS="$(sed -E 's/.* in ([0-9,.]+) ms$/\1/' <<<"$LINE" | tr -d ',.')"
log "  ${NODE_NAMES[$R]}: \"$LINE\"; ready (GET /v2/ 200) $READY_S s after its start, 3 members seen after $MEMBERS_S s"
check_answers "$R"
check_alive
stop_nodes

# ================================================================= memory
log "index memory: java $MEMORY_JAVA_OPTS -cp flotilla.jar bench/SearchIndexMemory.java $SEARCH_REPOS"
# shellcheck disable=SC2086  # MEMORY_JAVA_OPTS is a list of words
MEM="$(timeout 900 java $MEMORY_JAVA_OPTS -cp "$JAR" "$BENCH_DIR/SearchIndexMemory.java" "$SEARCH_REPOS" 2>"$WORK/memory.txt" | tail -n 1)" \
  || { cat "$WORK/memory.txt" >&2; die "SearchIndexMemory.java failed"; }
jq -e '.bytes_per_repository' <<<"$MEM" >/dev/null || die "SearchIndexMemory.java printed no result: $MEM"
log "  $MEM"
MEM_PER="$(jq -r '.bytes_per_repository' <<<"$MEM")"

# ---------------------------------------------------------------- report
TS="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/search-$TS.md"
GIT_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  GIT_REV="$GIT_REV (with uncommitted changes)"
fi
{
  echo "# Flotilla search benchmark"
  echo
  echo "- date: $TS (UTC), git: $GIT_REV, jar: $FLOTILLA_JAR ($(date -u -r "$FLOTILLA_JAR" +%Y-%m-%dT%H:%MZ))"
  echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr); wrk and all nodes share the cores; load average after the latency runs: $LOAD_AFTER"
  echo "- java: $(java -version 2>&1 | head -1); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "- 3 nodes, each java ${FLOTILLA_JAVA_OPTS:-(no options)} -jar flotilla.jar, R=$REPLICATION_FACTOR, access log off, all on 127.0.0.1"
  echo "- data: $SEARCH_REPOS repositories $PREFIX/repo-NNNN, one image each (:latest, OCI manifest, OCI image config amd64/linux, one 4 KiB layer), pushed by the bench driver through ${NODE_NAMES[0]} in $PUSH_S s ($PUSH_IPS images/s); held per node (${NODE_NAMES[*]}): $HELD"
  echo "- load: wrk -t1 -c$CONNECTIONS --latency, POST /v2/_zot/ext/search with {\"query\": ...}, $WARMUP_S s warm-up + $DURATION_S s measured per query and node; every answer checked (200, no \"errors\")"
  echo
  echo "| Query | through | req/s | p50 ms | p99 ms | p99 <= 20 ms |"
  echo "|---|---|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "| Figure | value |"
  echo "|---|---:|"
  echo "| Index rebuild at start, ${NODE_NAMES[$R]} restarted on its data (its log: repositories with images / ms) | $BUILT_REPOS / $BUILT_MS |"
  echo "| ${NODE_NAMES[$R]} ready (GET /v2/ 200) after its start, s | $(fmt2 "$READY_S") |"
  echo "| ... and every node sees 3 members, s | $(fmt2 "$MEMBERS_S") |"
  echo "| Index heap per repository (SearchIndexMemory.java, $SEARCH_REPOS repositories, 1 image of 2 layers each), bytes | $(fmt1 "$MEM_PER") |"
  echo
  echo "Details:"
  echo
  echo "- queries: \`$GLOBAL_Q\`; \`$(list_q 0)\` (and offset $DEEP_OFFSET)"
  echo "- SearchIndexMemory.java (java $MEMORY_JAVA_OPTS): \`$MEM\`"
  for n in "${NOTES[@]}"; do echo "- $n"; done
} >"$OUT"
cp "$OUT" "$RESULTS_DIR/search-latest.md"
cat "$OUT"
log "written $OUT and $RESULTS_DIR/search-latest.md"
