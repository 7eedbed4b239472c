#!/usr/bin/env bash
# Flotilla multi-node cluster benchmark, with CNCF distribution (Debian's docker-registry,
# single node) as the peer where one applies. A benchmark, not a test.
#
#   bench/cluster.sh                                          # default sizes (long: 15k repositories, 1 GiB moved)
#   BLOB_MB=16 CATALOG_REPOS=300 REBALANCE_MB=64 REBALANCE_LAYER_MB=4 bench/cluster.sh   # quick smoke run
#   FIGURES=rebalance bench/cluster.sh                        # one figure only
#
# Figures:
#   pull       a BLOB_MB blob pushed into a 3-node cluster, pulled through its primary owner, its
#              second owner and a non-owner (MiB/s, median of PULL_REPS); ratio non-owner / primary;
#              the same blob pulled from distribution for reference; each node's CPU seconds per GiB pulled
#   push       a BLOB_MB blob pushed (monolithic POST, acknowledged once durable on the primary) through
#              the repository's primary and through a node that is not an owner (its body crosses to
#              the primary), MiB/s, median of PUSH_REPS; ratio non-primary / primary. Each push is of
#              distinct bytes (a unique prefix before the same random file) into a fresh repository
#   catalog    CATALOG_REPOS small images pushed through node 1 of the 3-node cluster (and into
#              distribution) by the bench driver, then full `_catalog?n=CATALOG_N` listings timed
#              by the driver (median of CATALOG_RUNS) and one listing walked page by page with curl
#   rebalance  REBALANCE_MB of repositories (one REBALANCE_LAYER_MB random layer each) pushed into a
#              fresh 3-node cluster; a 4th node joins; time until all rebalancing is over
#   replicate  a REPLICATE_MB blob pushed (monolithic POST) through the repository's primary owner of a
#              3-node cluster, then the time until its second owner holds it on its own disk (the
#              node-local /api/v1/storage/usage of that node lists the blob), polled every 50 ms;
#              MiB/s from the push's acknowledgement (replication alone: the copy starts then) and
#              from the push's start, median of REPLICATE_REPS, each into a fresh repository
#   disk       the fsync'd write rate of the disk under BENCH_TMP: dd of a 256 MiB random file with
#              bs=1M conv=fsync, DISK_REPS times, median (the yardstick of replicate and rebalance)
#
# Environment (defaults in brackets):
#   FIGURES              comma list of pull,push,replicate,catalog,rebalance,disk
#                        [pull,push,replicate,catalog,rebalance,disk]
#   FLOTILLA_JAR         the Flotilla jar to run [$ROOT/target/flotilla.jar; never built by this script]
#   BLOB_MB              large blob of the pull figure, MiB [256]
#   PULL_REPS            measured pulls per node [5]
#   PUSH_REPS            measured pushes through each kind of node [3]
#   REPLICATE_MB         blob of the replicate figure, MiB [256]
#   REPLICATE_REPS       measured replications [3]
#   DISK_REPS            dd runs of the disk figure [3]
#   CATALOG_REPOS        small images = repositories of the catalog figure [15000]
#   CATALOG_N            page size of the listings [100]
#   CATALOG_RUNS         measured full listings by the driver [5]
#   IMAGE_CONCURRENCY    images in flight while pushing them [8]
#   REBALANCE_MB         MiB of layers pushed before the 4th node joins [1024]
#   REBALANCE_LAYER_MB   layer size, one layer per repository [16]
#   REBALANCE_TIMEOUT_S  limit of the wait for the rebalancing to end [900]
#   STABLE_S             how long the end state must hold before it counts [3]
#   REPLICATION_FACTOR   FLOTILLA_CLUSTER_REPLICATION_FACTOR of every node [2]
#   REBALANCE_INTERVAL   FLOTILLA_CLUSTER_REBALANCE_INTERVAL of every node [5s]
#   FLOTILLA_JAVA_OPTS   JVM options of each node [-Xmx192m -XX:+UseParallelGC]
#   BENCH_JAVA_OPTS      JVM options of the bench driver [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC]
#   FLOTILLA_PORT / DIST_PORT / FLOTILLA_CLUSTER_PORT   first ports tried [15200 / 15100 / 15800]
#   BENCH_TMP            parent of the temporary data dirs [/tmp]
#   RESULTS_DIR          where the table is written [bench/results]
#   LOG_DIR              if set, the nodes' logs and the driver's progress are copied there on exit
#
# Everything listens on and talks to 127.0.0.1 only; every wait is bounded; every process started
# here is stopped on exit. The table is printed and written to RESULTS_DIR/cluster-<UTC timestamp>.md
# and RESULTS_DIR/cluster-latest.md. Exits non-zero, with the servers' last log lines, on any failure.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

FIGURES="${FIGURES:-pull,push,replicate,catalog,rebalance,disk}"
FIGURES="${FIGURES//,/ }"
FLOTILLA_JAR="${FLOTILLA_JAR:-$ROOT/target/flotilla.jar}"
BLOB_MB="${BLOB_MB:-256}"
PULL_REPS="${PULL_REPS:-5}"
PUSH_REPS="${PUSH_REPS:-3}"
REPLICATE_MB="${REPLICATE_MB:-256}"
REPLICATE_REPS="${REPLICATE_REPS:-3}"
DISK_REPS="${DISK_REPS:-3}"
CATALOG_REPOS="${CATALOG_REPOS:-15000}"
CATALOG_N="${CATALOG_N:-100}"
CATALOG_RUNS="${CATALOG_RUNS:-5}"
IMAGE_CONCURRENCY="${IMAGE_CONCURRENCY:-8}"
REBALANCE_MB="${REBALANCE_MB:-1024}"
REBALANCE_LAYER_MB="${REBALANCE_LAYER_MB:-16}"
REBALANCE_TIMEOUT_S="${REBALANCE_TIMEOUT_S:-900}"
STABLE_S="${STABLE_S:-3}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-2}"
REBALANCE_INTERVAL="${REBALANCE_INTERVAL:-5s}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_DIR/results}"

BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"
MIB=1048576

BENCH_NAME=cluster.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

want() { [[ " $FIGURES " == *" $1 "* ]]; }
for f in $FIGURES; do
  case "$f" in pull|push|replicate|catalog|rebalance|disk) ;;
    *) die "unknown figure '$f' (known: pull push replicate catalog rebalance disk)";; esac
done
[[ -n "${FIGURES// /}" ]] || die "FIGURES is empty"
for v in BLOB_MB PULL_REPS PUSH_REPS REPLICATE_MB REPLICATE_REPS DISK_REPS CATALOG_REPOS CATALOG_N CATALOG_RUNS IMAGE_CONCURRENCY REBALANCE_MB \
         REBALANCE_LAYER_MB REBALANCE_TIMEOUT_S STABLE_S REPLICATION_FACTOR; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
(( REBALANCE_MB >= REBALANCE_LAYER_MB )) || die "REBALANCE_MB must be at least REBALANCE_LAYER_MB"
for tool in curl jq ss sha256sum java; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# ---------------------------------------------------------------- jars
[[ -f "$FLOTILLA_JAR" ]] || die "Flotilla jar $FLOTILLA_JAR is missing (mvn -q -DskipTests package, or set FLOTILLA_JAR)"
if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver: (cd bench && mvn -q -o package)"
  (cd "$BENCH_DIR" && { mvn -q -o package || mvn -q package; }) || die "bench driver build failed"
fi
if want pull || want push || want catalog; then
  [[ -x "$DIST_BIN" ]] || die "$DIST_BIN not found (apt-get install docker-registry)"
fi

# ---------------------------------------------------------------- temp dir, processes, cleanup
WORK="$(mktemp -d "$BENCH_TMP/flotilla-cluster-bench.XXXXXX")"
# Run a copy, so a rebuild of target/ during the run cannot pull classes from under the nodes.
cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar"
JAR="$WORK/flotilla-under-bench.jar"
CLUSTER_NAME="flotilla-cluster-bench-$$-$RANDOM"

DIST_PID=""

cleanup() {
  local rc=$?
  stop_nodes
  stop_pid "$DIST_PID"
  [[ $rc -eq 0 ]] || tail_logs
  if [[ -n "${LOG_DIR:-}" ]]; then
    if mkdir -p "$LOG_DIR"; then cp "$WORK"/*.log "$WORK"/*.txt "$LOG_DIR"/ 2>/dev/null || true; fi
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- distribution
# ---------------------------------------------------------------- pushing with curl
# send_file METHOD URL FILE RESP: streams FILE as the body (Content-Length, no chunking, no
# Expect: 100-continue), answer body into RESP; prints the status. The body comes from stdin so
# that curl -T does not append the file name to a URL ending in '/' (".../uploads/?digest=").
send_file() {
  # shellcheck disable=SC2094  # reads $3, writes $4
  curl -s -o "$4" -w '%{http_code}' --max-time 600 -X "$1" -H 'Expect:' -H 'Transfer-Encoding:' \
    -H "Content-Length: $(stat -c %s "$3")" -H 'Content-Type: application/octet-stream' \
    -T - "$2" <"$3" || true
}

# push_blob KIND BASE REPO FILE DIGEST
#   flotilla:     one monolithic POST /v2/<repo>/blobs/uploads/?digest=... with the body, expecting 201
#   distribution: POST (202 + Location), then PUT <location>&digest=... with the body, expecting 201
#                 (distribution 2.8 ignores the body of a monolithic POST, see README.md)
push_blob() {
  local kind="$1" base="$2" repo="$3" file="$4" digest="$5" code loc sep resp="$WORK/push.resp"
  if [[ "$kind" == flotilla ]]; then
    code="$(send_file POST "$base/v2/$repo/blobs/uploads/?digest=$digest" "$file" "$resp")"
    [[ "$code" == "201" ]] || die "monolithic POST of $digest to $base/v2/$repo answered ${code:-nothing}: $(head -c 300 "$resp")"
  else
    loc="$(curl -s -o "$resp" -D - --max-time 30 -X POST -H 'Content-Length: 0' "$base/v2/$repo/blobs/uploads/" \
      | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')"
    [[ -n "$loc" ]] || die "POST $base/v2/$repo/blobs/uploads/ gave no Location: $(head -c 300 "$resp")"
    [[ "$loc" == http* ]] || loc="$base$loc"
    [[ "$loc" == http://127.0.0.1:* || "$loc" == http://localhost:* ]] || die "upload Location off the machine: $loc"
    sep='?'; [[ "$loc" == *\?* ]] && sep='&'
    code="$(send_file PUT "$loc${sep}digest=$digest" "$file" "$resp")"
    [[ "$code" == "201" ]] || die "PUT of $digest to $base/v2/$repo answered ${code:-nothing}: $(head -c 300 "$resp")"
  fi
}

# push_image KIND BASE REPO LAYER_FILE: config blob + the layer + an OCI manifest at :latest
push_image() {
  local kind="$1" base="$2" repo="$3" layer="$4" ldigest lsize cdigest csize code resp="$WORK/push.resp"
  ldigest="sha256:$(sha256sum "$layer" | awk '{print $1}')"
  lsize="$(stat -c %s "$layer")"
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' "$ldigest" >"$WORK/config.json"
  cdigest="sha256:$(sha256sum "$WORK/config.json" | awk '{print $1}')"
  csize="$(stat -c %s "$WORK/config.json")"
  push_blob "$kind" "$base" "$repo" "$layer" "$ldigest"
  push_blob "$kind" "$base" "$repo" "$WORK/config.json" "$cdigest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$cdigest" "$csize" "$ldigest" "$lsize" >"$WORK/manifest.json"
  code="$(curl -s -o "$resp" -w '%{http_code}' --max-time 120 -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$WORK/manifest.json" \
    "$base/v2/$repo/manifests/latest" || true)"
  [[ "$code" == "201" ]] || die "manifest PUT to $base/v2/$repo answered ${code:-nothing}: $(head -c 300 "$resp")"
}

# pull_rates URL SIZE DIGEST REPS: one warm-up pull whose sha256 is checked, then REPS timed pulls;
# prints the MiB/s of each timed pull, one per line
pull_rates() {
  local url="$1" size="$2" digest="$3" reps="$4" got code bytes secs
  got="sha256:$(curl -s --fail --max-time 600 "$url" | sha256sum | awk '{print $1}')"
  [[ "$got" == "$digest" ]] || die "digest mismatch pulling $url: got $got"
  for (( k = 0; k < reps; k++ )); do
    read -r code bytes secs < <(curl -s -o /dev/null --max-time 600 -w '%{http_code} %{size_download} %{time_total}\n' "$url" || true)
    [[ "$code" == "200" ]] || die "GET $url answered ${code:-nothing}"
    [[ "$bytes" == "$size" ]] || die "GET $url gave $bytes bytes, expected $size"
    awk -v b="$bytes" -v s="$secs" -v m="$MIB" 'BEGIN { printf "%.1f\n", b / m / s }'
  done
}

holders_of() { # holders_of REPO FIRST LAST: names of nodes FIRST..LAST holding REPO on their own disk
  local repo="$1" i n
  for (( i = $2; i <= $3; i++ )); do
    n="$(get_json "$(node_url "$i")/api/v1/storage/usage?repository=$repo" | jq -r '.repositories | length')"
    (( n > 0 )) && echo "${NODE_NAMES[$i]}"
  done
  return 0
}

index_of() { # index_of NODE_NAME
  local i
  for i in "${!NODE_NAMES[@]}"; do [[ "${NODE_NAMES[$i]}" == "$1" ]] && { echo "$i"; return 0; }; done
  die "unknown node $1"
}

owners_expected() { # owners_expected NODES_CSV < repos: "repo owner1 owner2 ..." per line (server's own placement code)
  java -cp "$BENCH_JAR:$JAR" io.flotilla.bench.Owners "$REPLICATION_FACTOR" "$1"
}

# ---------------------------------------------------------------- the report rows
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 |"); }
NOTES=()

# ================================================================= disk: the yardstick
if want disk; then
  log "disk: $DISK_REPS x dd of a 256 MiB random file into $BENCH_TMP, bs=1M conv=fsync"
  head -c "$(( 256 * MIB ))" /dev/urandom >"$WORK/dd-src.bin"
  DISK_RATES=""
  for (( k = 0; k < DISK_REPS; k++ )); do
    t0="$(now)"
    dd if="$WORK/dd-src.bin" of="$WORK/dd-dst.bin" bs=1M conv=fsync status=none || die "dd failed"
    secs="$(fsub "$(now)" "$t0")"
    rm -f "$WORK/dd-dst.bin"
    DISK_RATES="$DISK_RATES $(awk -v s="$secs" 'BEGIN { printf "%.1f", 256 / s }')"
  done
  rm -f "$WORK/dd-src.bin"
  DISK_MED="$(printf '%s\n' $DISK_RATES | median)"
  log "  disk: samples$DISK_RATES MiB/s, median $DISK_MED"
  row "0. Disk: fsync'd write rate, dd 256 MiB bs=1M conv=fsync (MiB/s, median of $DISK_REPS; target of replicate and rebalance: half of it)" "$(fmt1 "$DISK_MED")" "–"
  NOTES+=("disk write samples (MiB/s):$DISK_RATES; load average before the figures: $(cut -d' ' -f1-3 /proc/loadavg)")
fi

# ================================================================= cluster A: figures pull + push + replicate + catalog
if want pull || want push || want replicate || want catalog; then
  start_cluster a
fi
if want pull || want push || want catalog; then
  start_distribution
  N1="$(node_url 0)"
  DIST="http://127.0.0.1:$DIST_PORT"
fi

LARGE_REPO="bench/large"
if want pull; then
  log "figure 1: writing a $BLOB_MB MiB random blob"
  head -c "$(( BLOB_MB * MIB ))" /dev/urandom >"$WORK/blob.bin"
  SIZE="$(stat -c %s "$WORK/blob.bin")"
  DIGEST="sha256:$(sha256sum "$WORK/blob.bin" | awk '{print $1}')"
  log "pushing it (monolithic POST) plus a manifest through node-1, and into distribution"
  t0="$(now)"
  push_image flotilla "$N1" "$LARGE_REPO" "$WORK/blob.bin"
  PUSH_S="$(fsub "$(now)" "$t0")"
  push_image distribution "$DIST" "$LARGE_REPO" "$WORK/blob.bin"
  rm -f "$WORK/blob.bin"

  mapfile -t HOLDERS < <(holders_of "$LARGE_REPO" 0 2)
  read -r _ PRIMARY SECOND _ < <(echo "$LARGE_REPO" | owners_expected "$(IFS=,; echo "${NODE_NAMES[*]}")") \
    || die "the placement helper (io.flotilla.bench.Owners) failed"
  log "holders of $LARGE_REPO: ${HOLDERS[*]:-none}; placement says primary $PRIMARY, second $SECOND"
  (( ${#HOLDERS[@]} == REPLICATION_FACTOR )) \
    || die "$LARGE_REPO is on ${#HOLDERS[@]} node(s) (${HOLDERS[*]:-none}) after an acknowledged push, expected $REPLICATION_FACTOR"
  [[ " ${HOLDERS[*]} " == *" $PRIMARY "* && " ${HOLDERS[*]} " == *" $SECOND "* ]] \
    || die "$LARGE_REPO is on ${HOLDERS[*]}, but placement puts it on $PRIMARY and $SECOND"
  NONOWNER=""
  for n in "${NODE_NAMES[@]}"; do [[ " ${HOLDERS[*]} " == *" $n "* ]] || NONOWNER="$n"; done
  [[ -n "$NONOWNER" ]] || die "no non-owner among 3 nodes (REPLICATION_FACTOR=$REPLICATION_FACTOR must be below 3 for this figure)"

  declare -A PULL_MED=()
  for role in primary second nonowner dist; do
    case "$role" in
      primary)  base="$(node_url "$(index_of "$PRIMARY")")"; label="$PRIMARY (primary owner)" ;;
      second)   base="$(node_url "$(index_of "$SECOND")")"; label="$SECOND (second owner)" ;;
      nonowner) base="$(node_url "$(index_of "$NONOWNER")")"; label="$NONOWNER (non-owner)" ;;
      dist)     base="$DIST"; label="distribution" ;;
    esac
    log "pulling $BLOB_MB MiB through $label: 1 verified warm-up + $PULL_REPS timed"
    declare -a T0=(); for i in 0 1 2; do T0[i]="$(cpu_ticks "${NODE_PIDS[$i]}")"; done
    mapfile -t rates < <(pull_rates "$base/v2/$LARGE_REPO/blobs/$DIGEST" "$SIZE" "$DIGEST" "$PULL_REPS")
    (( ${#rates[@]} == PULL_REPS )) || die "pull through $label did not complete"
    if [[ "$role" != dist ]]; then # CPU each node spent per GiB pulled (warm-up pull included)
      cpu=""; for i in 0 1 2; do
        cpu+=" ${NODE_NAMES[$i]} $(awk -v t="$(( $(cpu_ticks "${NODE_PIDS[$i]}") - T0[i] ))" -v hz="$(getconf CLK_TCK)" \
          -v gib="$(awk -v s="$SIZE" -v r="$PULL_REPS" -v m="$MIB" 'BEGIN { print s * (r + 1) / m / 1024 }')" \
          'BEGIN { printf "%.2f", t / hz / gib }')"
      done
      NOTES+=("CPU seconds per GiB pulled through $label:$cpu")
    fi
    PULL_MED[$role]="$(printf '%s\n' "${rates[@]}" | median)"
    log "  $label: samples ${rates[*]} MiB/s, median ${PULL_MED[$role]}"
    NOTES+=("pull samples through $label (MiB/s): ${rates[*]}")
  done
  check_alive
  RATIO="$(awk -v a="${PULL_MED[nonowner]}" -v b="${PULL_MED[primary]}" 'BEGIN { printf "%.2f", a / b }')"
  VERDICT="$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.60) ? "meets" : "BELOW" }')"
  row "1. Blob pull through the primary owner, $BLOB_MB MiB (MiB/s, median of $PULL_REPS)" "$(fmt1 "${PULL_MED[primary]}")" "$(fmt1 "${PULL_MED[dist]}") (single node)"
  row "1. Blob pull through the second owner (MiB/s, median of $PULL_REPS)" "$(fmt1 "${PULL_MED[second]}")" "–"
  row "1. Blob pull through a non-owner (MiB/s, median of $PULL_REPS)" "$(fmt1 "${PULL_MED[nonowner]}")" "–"
  row "1. Ratio non-owner / primary owner (target >= 0.60)" "$RATIO ($VERDICT the target)" "–"
  NOTES+=("figure 1: the blob and its manifest (bench/large:latest) were pushed through node-1 (monolithic POST with ?digest=, then the manifest PUT acknowledged after replication) in $(fmt2 "$PUSH_S") s; held by ${HOLDERS[*]}")
fi

# The catalog figure runs before the push and replicate figures: their repositories exist only in
# Flotilla, and the catalog figure checks that both servers list the same repositories.
if want catalog; then
  run_driver() { # run_driver NAME URL
    log "figure 2: the driver pushes $CATALOG_REPOS small images into $1, $IMAGE_CONCURRENCY in flight, then lists the catalog"
    # shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of words
    driver --url "$2" --name "$1" \
      --figures images,catalog --images "$CATALOG_REPOS" --image-concurrency "$IMAGE_CONCURRENCY" \
      --catalog-n "$CATALOG_N" --catalog-runs "$CATALOG_RUNS" --prefix cat --tmp-dir "$WORK" \
      --out "$WORK/catalog-$1.json" >/dev/null 2>"$WORK/driver-$1.txt" \
      || { tail -n 20 "$WORK/driver-$1.txt" >&2; die "benchmark driver failed against $1"; }
  }
  # catalog_walk BASE OUT: one full listing with curl, one line "seconds repositories" per page into OUT
  catalog_walk() {
    local base="$1" out="$2" next="/v2/_catalog?n=$CATALOG_N" pages=0 code secs link
    : >"$out"
    while [[ -n "$next" ]]; do
      (( pages < 100000 )) || die "catalog walk: more than 100000 pages"
      read -r code secs < <(curl -s -D "$WORK/walk.hdr" -o "$WORK/walk.json" --max-time 60 \
        -w '%{http_code} %{time_total}\n' "$base$next" || true)
      [[ "$code" == "200" ]] || die "GET $base$next answered ${code:-nothing}"
      if grep -qi '^Flotilla-Catalog-Incomplete:' "$WORK/walk.hdr"; then
        die "GET $base$next: $(grep -i '^Flotilla-Catalog-Incomplete:' "$WORK/walk.hdr" | tr -d '\r')"
      fi
      echo "$secs $(jq -r '.repositories | length' "$WORK/walk.json")" >>"$out"
      pages=$(( pages + 1 ))
      link="$(tr -d '\r' <"$WORK/walk.hdr" | awk 'tolower($1) == "link:"' | sed -n 's/.*<\([^>]*\)>;[[:space:]]*rel="\{0,1\}next.*/\1/p' | head -n 1)"
      if [[ -n "$link" && "$(jq -r '.repositories | length' "$WORK/walk.json")" == "0" ]]; then
        link="" # distribution: a full last page links to an empty page (see README.md)
      fi
      link="${link#http://127.0.0.1:*/}"
      [[ -z "$link" || "$link" == /* ]] || link="/$link"
      next="$link"
    done
  }
  run_driver flotilla "$N1"
  run_driver distribution "$DIST"
  check_alive
  declare -A CAT_MS=() CAT_REPOS=() CAT_PAGES=() CAT_IPS=() PAGE_MED=() PAGE_MAX=() WALK_REPOS=() WALK_PAGES=()
  for t in flotilla distribution; do
    CAT_MS[$t]="$(jq -r '.figures.catalog.median_ms' "$WORK/catalog-$t.json")"
    CAT_REPOS[$t]="$(jq -r '.figures.catalog.repositories' "$WORK/catalog-$t.json")"
    CAT_PAGES[$t]="$(jq -r '.figures.catalog.pages' "$WORK/catalog-$t.json")"
    CAT_IPS[$t]="$(jq -r '.figures.image_push.images_per_s' "$WORK/catalog-$t.json")"
    NOTES+=("catalog listings by the driver through $t (ms): $(jq -c '.figures.catalog.samples_ms' "$WORK/catalog-$t.json")")
    if [[ "$t" == flotilla ]]; then base="$N1"; else base="$DIST"; fi
    log "walking the $t catalog page by page with curl"
    catalog_walk "$base" "$WORK/walk-$t.txt"
    PAGE_MED[$t]="$(awk '{ print $1 * 1000 }' "$WORK/walk-$t.txt" | median)"
    PAGE_MAX[$t]="$(awk 'BEGIN { m = 0 } { if ($1 * 1000 > m) m = $1 * 1000 } END { print m }' "$WORK/walk-$t.txt")"
    WALK_REPOS[$t]="$(awk '{ s += $2 } END { print s + 0 }' "$WORK/walk-$t.txt")"
    WALK_PAGES[$t]="$(awk '$2 > 0' "$WORK/walk-$t.txt" | wc -l)"
    [[ "${WALK_REPOS[$t]}" == "${CAT_REPOS[$t]}" ]] \
      || die "the curl walk of the $t catalog saw ${WALK_REPOS[$t]} repositories, the driver ${CAT_REPOS[$t]}"
  done
  [[ "${CAT_REPOS[flotilla]}" == "${CAT_REPOS[distribution]}" ]] \
    || die "the catalogs differ: Flotilla lists ${CAT_REPOS[flotilla]} repositories, distribution ${CAT_REPOS[distribution]}"
  PER_NODE=""
  for i in 0 1 2; do
    PER_NODE="${PER_NODE:+$PER_NODE / }$(get_json "$(node_url "$i")/api/v1/storage/usage" | jq -r '.repositories | length')"
  done
  row "2. Small-image push, $CATALOG_REPOS images through node-1, $IMAGE_CONCURRENCY in flight (images/s)" "${CAT_IPS[flotilla]}" "${CAT_IPS[distribution]}"
  row "2. Repositories listed (must match) / held by node-1 / node-2 / node-3" "${CAT_REPOS[flotilla]} / $PER_NODE" "${CAT_REPOS[distribution]}"
  row "2. Full catalog listing through node-1, n=$CATALOG_N (ms, driver, median of $CATALOG_RUNS; pages)" "$(fmt1 "${CAT_MS[flotilla]}") (${CAT_PAGES[flotilla]} pages)" "$(fmt1 "${CAT_MS[distribution]}") (${CAT_PAGES[distribution]} pages)"
  row "2. Catalog page time, n=$CATALOG_N (ms, curl, median / max of ${WALK_PAGES[flotilla]} pages)" "$(fmt2 "${PAGE_MED[flotilla]}") / $(fmt1 "${PAGE_MAX[flotilla]}")" "$(fmt2 "${PAGE_MED[distribution]}") / $(fmt1 "${PAGE_MAX[distribution]}")"
fi

if want push; then
  log "figure 1b: writing a $BLOB_MB MiB random blob for the pushes"
  head -c "$(( BLOB_MB * MIB ))" /dev/urandom >"$WORK/push-base.bin"
  NODES_CSV="$(IFS=,; echo "${NODE_NAMES[*]}")"
  declare -A PUSH_RATES=([primary]="" [nonprimary]="")
  for (( k = 0; k < PUSH_REPS; k++ )); do
    for role in primary nonprimary; do
      repo="bench/push-$role-$k"
      read -r _ P S _ < <(echo "$repo" | owners_expected "$NODES_CSV") || die "the placement helper failed"
      if [[ "$role" == primary ]]; then via="$P"; else
        via=""; for n in "${NODE_NAMES[@]}"; do [[ "$n" == "$P" || "$n" == "$S" ]] || via="$n"; done
      fi
      [[ -n "$via" ]] || die "no node for the $role push of $repo"
      file="$WORK/push-$role-$k.bin"
      { printf 'flotilla-bench %s %s\n' "$role" "$k"; cat "$WORK/push-base.bin"; } >"$file"
      size="$(stat -c %s "$file")"
      digest="sha256:$(sha256sum "$file" | awk '{print $1}')"
      t0="$(now)"
      push_blob flotilla "$(node_url "$(index_of "$via")")" "$repo" "$file" "$digest"
      secs="$(fsub "$(now)" "$t0")"
      rm -f "$file"
      rate="$(awk -v b="$size" -v s="$secs" -v m="$MIB" 'BEGIN { printf "%.1f", b / m / s }')"
      log "  push of $repo through $via ($role; primary $P): $rate MiB/s"
      PUSH_RATES[$role]="${PUSH_RATES[$role]} $rate"
    done
  done
  rm -f "$WORK/push-base.bin"
  check_alive
  PUSH_P="$(printf '%s\n' ${PUSH_RATES[primary]} | median)"
  PUSH_N="$(printf '%s\n' ${PUSH_RATES[nonprimary]} | median)"
  PUSH_RATIO="$(awk -v a="$PUSH_N" -v b="$PUSH_P" 'BEGIN { printf "%.2f", a / b }')"
  PUSH_VERDICT="$(awk -v r="$PUSH_RATIO" 'BEGIN { print (r >= 0.60) ? "meets" : "BELOW" }')"
  row "1b. Blob push through the primary, $BLOB_MB MiB monolithic (MiB/s, median of $PUSH_REPS)" "$(fmt1 "$PUSH_P")" "–"
  row "1b. Blob push through a non-owner (body forwarded to the primary) (MiB/s, median of $PUSH_REPS)" "$(fmt1 "$PUSH_N")" "–"
  row "1b. Ratio non-primary / primary push (target >= 0.60)" "$PUSH_RATIO ($PUSH_VERDICT the target)" "–"
  NOTES+=("push samples through the primary (MiB/s):${PUSH_RATES[primary]}; through a non-owner:${PUSH_RATES[nonprimary]}")
fi

if want replicate; then
  log "figure 1c: writing a $REPLICATE_MB MiB random blob for the replications"
  head -c "$(( REPLICATE_MB * MIB ))" /dev/urandom >"$WORK/repl-base.bin"
  NODES_CSV="$(IFS=,; echo "${NODE_NAMES[*]}")"
  REPL_ACK=""; REPL_ALL=""; REPL_LAG=""; REPL_CPU=""
  for (( k = 0; k < REPLICATE_REPS; k++ )); do
    repo="bench/replicate-$k"
    read -r _ P S _ < <(echo "$repo" | owners_expected "$NODES_CSV") || die "the placement helper failed"
    [[ -n "$S" ]] || die "$repo has no second owner (REPLICATION_FACTOR=$REPLICATION_FACTOR must be at least 2)"
    file="$WORK/repl-$k.bin"
    { printf 'flotilla-bench replicate %s\n' "$k"; cat "$WORK/repl-base.bin"; } >"$file"
    size="$(stat -c %s "$file")"
    digest="sha256:$(sha256sum "$file" | awk '{print $1}')"
    second_usage="$(node_url "$(index_of "$S")")/api/v1/storage/usage?repository=$repo"
    second_pid="${NODE_PIDS[$(index_of "$S")]}"
    t0="$(now)"
    push_blob flotilla "$(node_url "$(index_of "$P")")" "$repo" "$file" "$digest"
    t_ack="$(now)"
    cpu0="$(cpu_ticks "$second_pid")"
    rm -f "$file"
    # the second owner holds it once its own usage lists the repository with the blob's bytes (no
    # jq per poll: a fork of jq every 50 ms would take CPU from the nodes)
    held=""
    for _ in $(seq 1 6000); do
      b="$(curl -s --max-time 5 "$second_usage" || true)"
      if [[ "$b" =~ \"repositories\":\[\{[^}]*\"bytes\":([0-9]+) ]] && (( BASH_REMATCH[1] >= size )); then
        held="$(now)"; break
      fi
      sleep 0.05
    done
    [[ -n "$held" ]] || die "$S did not hold $digest of $repo within 5 minutes of the push's acknowledgement"
    cpu_s="$(awk -v a="$cpu0" -v b="$(cpu_ticks "$second_pid")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')"
    lag="$(fsub "$held" "$t_ack")"
    r_ack="$(awk -v b="$size" -v s="$lag" -v m="$MIB" 'BEGIN { printf "%.1f", b / m / s }')"
    r_all="$(awk -v b="$size" -v s="$(fsub "$held" "$t0")" -v m="$MIB" 'BEGIN { printf "%.1f", b / m / s }')"
    log "  $repo: pushed to $P in $(fsub "$t_ack" "$t0") s, on $S $lag s after the acknowledgement: $r_ack MiB/s (push + replication: $r_all MiB/s); $S used $cpu_s CPU s meanwhile"
    REPL_ACK="$REPL_ACK $r_ack"; REPL_ALL="$REPL_ALL $r_all"; REPL_LAG="$REPL_LAG $lag"; REPL_CPU="$REPL_CPU $cpu_s"
  done
  rm -f "$WORK/repl-base.bin"
  check_alive
  REPL_ACK_MED="$(printf '%s\n' $REPL_ACK | median)"
  REPL_ALL_MED="$(printf '%s\n' $REPL_ALL | median)"
  row "1c. Replication of a pushed $REPLICATE_MB MiB blob to its second owner, from the push's acknowledgement (MiB/s, median of $REPLICATE_REPS)" "$(fmt1 "$REPL_ACK_MED")" "–"
  row "1c. Push + replication, from the push's start until the second owner holds it (MiB/s, median of $REPLICATE_REPS)" "$(fmt1 "$REPL_ALL_MED")" "–"
  if want disk; then
    row "1c. Replication / disk write rate (target >= 0.50)" "$(awk -v a="$REPL_ACK_MED" -v b="$DISK_MED" 'BEGIN { r = a / b; printf "%.2f (%s the target)", r, (r >= 0.5) ? "meets" : "BELOW" }')" "–"
  fi
  NOTES+=("replication samples from the acknowledgement (MiB/s):$REPL_ACK; seconds after the acknowledgement:$REPL_LAG; CPU seconds the second owner used meanwhile:$REPL_CPU; from the push's start (MiB/s):$REPL_ALL")
fi

if want pull || want push || want replicate || want catalog; then
  log "stopping cluster A and distribution"
  stop_nodes
  stop_pid "$DIST_PID"; DIST_PID=""
  rm -rf "$WORK"/data-a-* "$WORK/dist-data"
fi

# ================================================================= cluster B: figure rebalance
if want rebalance; then
  start_cluster b
  N1="$(node_url 0)"
  REPOS=$(( REBALANCE_MB / REBALANCE_LAYER_MB ))
  log "figure 3: pushing $REPOS repositories with one $REBALANCE_LAYER_MB MiB random layer each through node-1"
  : >"$WORK/rebal-repos.txt"
  t0="$(now)"
  for (( k = 1; k <= REPOS; k++ )); do
    repo="$(printf 'rebal/repo-%04d' "$k")"
    head -c "$(( REBALANCE_LAYER_MB * MIB ))" /dev/urandom >"$WORK/layer.bin"
    push_image flotilla "$N1" "$repo" "$WORK/layer.bin"
    echo "$repo" >>"$WORK/rebal-repos.txt"
    if (( k % 16 == 0 )); then log "  $k / $REPOS pushed"; fi
  done
  rm -f "$WORK/layer.bin"
  RB_PUSH_S="$(fsub "$(now)" "$t0")"
  check_alive

  # One poll = one curl for /api/v1/cluster and /api/v1/storage/usage of nodes 0..N-1 and one jq
  # (forks are slow on a loaded 2-core machine). Prints four lines: 1 if every node sees N members
  # and runs no pass with nothing pending or failed (else 0); the storedBytes of the last node; the
  # "repo node" holdings of the rebal/ repositories, sorted, ';'-joined; a one-line summary.
  poll_cluster() { # poll_cluster N
    local n="$1" i urls=() names=""
    for (( i = 0; i < n; i++ )); do urls+=("http://127.0.0.1:${NODE_PORTS[$i]}/api/v1/cluster"); done
    for (( i = 0; i < n; i++ )); do
      urls+=("http://127.0.0.1:${NODE_PORTS[$i]}/api/v1/storage/usage")
      names="${names:+$names,}\"${NODE_NAMES[$i]}\""
    done
    names="[$names]"
    curl -s --max-time 5 "${urls[@]}" | jq -rs --argjson n "$n" --argjson names "$names" '
      if length != 2 * $n then "0", "x", "", "incomplete answers (\(length) of \(2 * $n))" else
        .[0:$n] as $c | .[$n:] as $u |
        (if [$c[] | (.members | length) == $n and .rebalancing.running == false
               and .rebalancing.pending == 0 and .rebalancing.failed == 0] | all then "1" else "0" end),
        ($u[$n - 1].storedBytes | tostring),
        ([range($n) as $i | $u[$i].repositories[].name | select(startswith("rebal/")) | "\(.) \($names[$i])"]
          | sort | join(";")),
        ([range($n) as $i | "\($names[$i]): members=\($c[$i].members | length) running=\($c[$i].rebalancing.running) pending=\($c[$i].rebalancing.pending) failed=\($c[$i].rebalancing.failed) storedBytes=\($u[$i].storedBytes)"]
          | join(", "))
      end' 2>/dev/null || printf '0\nx\n\nno answer\n'
  }
  expected_holdings() { # expected_holdings NODES_CSV: as poll_cluster's third line, from the placement
    owners_expected "$1" <"$WORK/rebal-repos.txt" | awk '{ for (i = 2; i <= NF; i++) print $1, $i }' \
      | jq -Rrs 'split("\n") | map(select(length > 0)) | sort | join(";")'
  }
  bytes_copied_sum() { # bytes_copied_sum N: sum of rebalancing.bytesCopied over nodes 0..N-1
    local i urls=()
    for (( i = 0; i < $1; i++ )); do urls+=("$(node_url "$i")/api/v1/cluster"); done
    curl -s --max-time 5 "${urls[@]}" | jq -s 'map(.rebalancing.bytesCopied) | add' 2>/dev/null || echo 0
  }

  log "waiting for the 3-node cluster to be quiet with every repository on its $REPLICATION_FACTOR owners"
  EXPECT3="$(expected_holdings "${NODE_NAMES[0]},${NODE_NAMES[1]},${NODE_NAMES[2]}")"
  quiet=0
  for _ in $(seq 1 600); do
    { read -r idle; read -r _; read -r held; read -r summary; } < <(poll_cluster 3)
    if [[ "$idle" == 1 && "$held" == "$EXPECT3" ]]; then quiet=1; break; fi
    sleep 0.2
  done
  (( quiet )) || die "the 3-node cluster was not quiet with every repository on its owners within 600 polls: $summary"
  COPIED0="$(bytes_copied_sum 3)"

  add_node
  EXPECT4="$(expected_holdings "$(IFS=,; echo "${NODE_NAMES[*]}")")"
  EXPECT4_REPOS="$(tr ';' '\n' <<<"$EXPECT4" | awk -v n="${NODE_NAMES[3]}" '$2 == n' | wc -l)"
  log "placement says ${NODE_NAMES[3]} will own $EXPECT4_REPOS of the $REPOS repositories"
  (( EXPECT4_REPOS > 0 )) || die "${NODE_NAMES[3]} would own none of the $REPOS repositories: push more (REBALANCE_MB) or smaller layers"
  start_node 3 "$(members_of 0 3)" b
  wait_ready "${NODE_NAMES[3]}" "${NODE_PIDS[3]}" "${NODE_PORTS[3]}"
  T_READY="${EPOCHREALTIME//[.,]/}" # wall clock, microseconds

  # Done when, at one poll: all 4 nodes see 4 members, none runs a pass, none has pending or failed
  # repositories, and every node holds exactly the repositories it owns (copies made, former owners
  # dropped theirs; node-4 has its share). That state then has to hold for STABLE_S (node-4's
  # storedBytes and the holdings unchanged; "running" may flicker with the periodic passes); the
  # time reported is that of the first poll of the stretch that held.
  log "polling every 200 ms until the rebalancing is over (at most $REBALANCE_TIMEOUT_S s)"
  DEADLINE=$(( T_READY + REBALANCE_TIMEOUT_S * 1000000 ))
  T_DONE=""; CAND=""; CAND_BYTES=""; BYTES4="x"; NEXT_LOG=$(( T_READY + 10000000 )); POLLS=0; summary=""
  while :; do
    tp="${EPOCHREALTIME//[.,]/}"
    (( tp <= DEADLINE )) || break
    check_alive
    POLLS=$(( POLLS + 1 ))
    { read -r idle; read -r BYTES4; read -r held; read -r summary; } < <(poll_cluster 4)
    if (( tp >= NEXT_LOG )); then
      NEXT_LOG=$(( NEXT_LOG + 10000000 ))
      log "  t=+$(( (tp - T_READY) / 1000000 )) s: $summary"
    fi
    if [[ -n "$CAND" ]]; then
      if [[ "$BYTES4" != "$CAND_BYTES" || "$held" != "$EXPECT4" ]]; then
        log "  the end state did not hold ($summary); still waiting"
        CAND=""
      elif (( tp - CAND >= STABLE_S * 1000000 )); then
        T_DONE="$CAND"
        break
      fi
    elif [[ "$idle" == 1 && "$held" == "$EXPECT4" && "$BYTES4" =~ ^[0-9]+$ ]]; then
      CAND="$tp"; CAND_BYTES="$BYTES4"
    fi
    sleep 0.2
  done
  if [[ -z "$T_DONE" ]]; then
    log "holdings differing from placement at the timeout (< expected, > actual):"
    diff <(tr ';' '\n' <<<"$EXPECT4") <(tr ';' '\n' <<<"$held") | head -n 20 >&2 || true
    die "the rebalancing did not end within $REBALANCE_TIMEOUT_S s: $summary"
  fi
  RB_S="$(awk -v d="$(( T_DONE - T_READY ))" 'BEGIN { printf "%.3f", d / 1e6 }')"
  COPIED=$(( $(bytes_copied_sum 3) - COPIED0 ))
  REPOS4="$EXPECT4_REPOS"
  RB_MIB="$(awk -v b="$CAND_BYTES" -v m="$MIB" 'BEGIN { printf "%.1f", b / m }')"
  RB_RATE="$(awk -v b="$CAND_BYTES" -v s="$RB_S" -v m="$MIB" 'BEGIN { printf "%.1f", b / m / s }')"
  log "rebalancing over after $RB_S s: ${NODE_NAMES[3]} holds $REPOS4 repositories, $CAND_BYTES bytes ($RB_RATE MiB/s)"
  row "3. Rebalance: ${NODE_NAMES[3]} joins a 3-node cluster holding $REPOS x $REBALANCE_LAYER_MB MiB repositories (R=$REPLICATION_FACTOR): bytes it received, its storedBytes (MiB)" "$RB_MIB ($REPOS4 repositories, as placed)" "n/a: distribution has no cluster"
  row "3. Rebalance: time from ${NODE_NAMES[3]} ready to every node idle and every repository on exactly its owners (s)" "$(fmt1 "$RB_S")" "n/a"
  row "3. Rebalance: rate, ${NODE_NAMES[3]} storedBytes / time (MiB/s)" "$RB_RATE" "n/a"
  if want disk; then
    row "3. Rebalance rate / disk write rate (target >= 0.50)" "$(awk -v a="$RB_RATE" -v b="$DISK_MED" 'BEGIN { r = a / b; printf "%.2f (%s the target)", r, (r >= 0.5) ? "meets" : "BELOW" }')" "n/a"
  fi
  NOTES+=("figure 3: pushing the $REPOS repositories through node-1 took $(fmt2 "$RB_PUSH_S") s; the sum of the former owners' rebalancing.bytesCopied deltas is $(fmt1 "$(awk -v b="$COPIED" -v m="$MIB" 'BEGIN { print b / m }')") MiB (a blob fetched once for two owners' concurrent sync requests counts for both); $POLLS polls; the end state held for $STABLE_S s")
  stop_nodes
fi

# ---------------------------------------------------------------- report
TS="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/cluster-$TS.md"
GIT_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  GIT_REV="$GIT_REV (with uncommitted changes)"
fi
{
  echo "# Flotilla cluster benchmark"
  echo
  echo "- date: $TS (UTC), git: $GIT_REV, jar: $FLOTILLA_JAR ($(date -u -r "$FLOTILLA_JAR" +%Y-%m-%dT%H:%MZ)), figures: $FIGURES"
  echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr); client and all nodes share the cores and the disk"
  echo "- java: $(java -version 2>&1 | head -1); distribution: $("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}' || echo none)"
  echo "- each node: java ${FLOTILLA_JAVA_OPTS:-(no options)} -jar flotilla.jar, own data dir, R=$REPLICATION_FACTOR, rebalance interval $REBALANCE_INTERVAL, access log off; distribution single node"
  echo "- MiB/s = 2^20 bytes per second of wall-clock time, everything on 127.0.0.1."
  echo
  echo "| Figure | Flotilla cluster | distribution |"
  echo "|---|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Details:"
  echo
  for n in "${NOTES[@]}"; do echo "- $n"; done
} >"$OUT"
cp "$OUT" "$RESULTS_DIR/cluster-latest.md"
cat "$OUT"
log "written $OUT and $RESULTS_DIR/cluster-latest.md"
