# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run). Expects BENCH_NAME (for log
# lines) and, for start_distribution, WORK (temp dir) and DIST_BIN. Everything on 127.0.0.1.

log() { echo "[$BENCH_NAME] $*" >&2; }

# The load generator's JVM options. C1 only and the serial collector: the driver's own JIT (C2)
# took a quarter of a 2-core machine during a short run, CPU the server under test then lacked.
BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"

driver() { # runs the bench driver (target/flotilla-bench.jar) with BENCH_JAVA_OPTS
  # shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of words
  java $BENCH_JAVA_OPTS -jar "$BENCH_DIR/target/flotilla-bench.jar" "$@"
}
die() { echo "[$BENCH_NAME] ERROR: $*" >&2; exit 1; }

stop_pid() { # stop one process we started, by pid: TERM, then KILL after 10 s
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

tail_logs() { # the last 30 lines of every non-empty log in $WORK, to stderr (after a failure)
  local f
  for f in "$WORK"/*.log; do
    [[ -s "$f" ]] || continue
    echo "----- last lines of $(basename "$f") -----" >&2
    tail -n 30 "$f" >&2
  done
}

free_port() { # first port >= $1 nobody listens on (bounded search)
  local p="$1" end=$(( $1 + 200 ))
  while (( p < end )); do
    if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
    p=$(( p + 1 ))
  done
  die "no free port in $1..$end"
}

wait_ready() { # wait_ready NAME PID PORT: until GET /v2/ answers 200 (90 s at most; sends $WAIT_AUTH as Authorization when set)
  local name="$1" pid="$2" port="$3" code=""
  for _ in $(seq 1 900); do
    if ! kill -0 "$pid" 2>/dev/null; then
      local st=0; wait "$pid" 2>/dev/null || st=$?
      die "$name exited during startup with status $st (log below)"
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${WAIT_AUTH:+-H "Authorization: $WAIT_AUTH"} "http://127.0.0.1:$port/v2/" || true)"
    if [[ "$code" == "200" ]]; then log "$name is up on 127.0.0.1:$port (pid $pid)"; return 0; fi
    sleep 0.1
  done
  die "$name did not answer 200 on GET /v2/ within 90 s (last status: $code)"
}

start_distribution() { # sets DIST_PORT and DIST_PID: distribution on loopback, filesystem storage in $WORK
  # (or $DIST_DATA); $DIST_EXTRA_YAML, when set, is appended to its configuration (e.g. notifications)
  DIST_PORT="$(free_port "${DIST_PORT:-15100}")"
  local data="${DIST_DATA:-$WORK/dist-data}"
  mkdir -p "$data"
  cat >"$WORK/distribution.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DIST_PORT
  secret: flotilla-bench-local-only
YAML
  [[ -z "${DIST_EXTRA_YAML:-}" ]] || printf '%s\n' "$DIST_EXTRA_YAML" >>"$WORK/distribution.yml"
  log "starting distribution ($("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}')) on 127.0.0.1:$DIST_PORT"
  "$DIST_BIN" serve "$WORK/distribution.yml" >"$WORK/distribution.log" 2>&1 &
  DIST_PID=$!
  wait_ready distribution "$DIST_PID" "$DIST_PORT"
}

# ---------------------------------------------------------------- small helpers
now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
median() { # median of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cpu_ticks() { # cpu_ticks PID: user + system CPU time of a process so far, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
get_json() { # get_json URL: body of a 200 answer, or die
  local url="$1" out="$WORK/get.json" code
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time 30 "$url" || true)"
  [[ "$code" == "200" ]] || die "GET $url answered ${code:-nothing}: $(head -c 300 "$out" 2>/dev/null)"
  cat "$out"
}

# ---------------------------------------------------------------- Flotilla cluster nodes
# Shared by bench/cluster.sh and bench/search.sh. Node i (0-based) is node-<i+1>: its HTTP port,
# Hazelcast port and pid (empty once stopped) are in the arrays below; add_node reserves ports,
# start_node starts it. start_node expects WORK, JAR (the jar to run), CLUSTER_NAME,
# FLOTILLA_JAVA_OPTS, REPLICATION_FACTOR and REBALANCE_INTERVAL; its data dir is
# $WORK/data-<LOGTAG>-node-<i+1> and its log $WORK/<LOGTAG>-node-<i+1>.log, so starting a node again
# with the same LOGTAG reuses its data (and overwrites its log).
NODE_NAMES=()   # node i: name, HTTP port, Hazelcast port, pid (empty once stopped)
NODE_PORTS=()
NODE_HZ=()
NODE_PIDS=()

stop_nodes() { # TERM every node at once (no hand-off: FLOTILLA_CLUSTER_HANDOFF_TIMEOUT=0s), then wait
  local i pid
  for i in "${!NODE_PIDS[@]}"; do
    pid="${NODE_PIDS[$i]}"
    if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in "${!NODE_PIDS[@]}"; do
    stop_pid "${NODE_PIDS[$i]}"
    NODE_PIDS[i]=""
  done
}

add_node() { # add_node: reserve ports for one more node; prints nothing
  local i="${#NODE_NAMES[@]}" prev_http=$(( ${FLOTILLA_PORT:-15200} - 1 )) prev_hz=$(( ${FLOTILLA_CLUSTER_PORT:-15800} - 1 ))
  if (( i > 0 )); then
    prev_http="${NODE_PORTS[$(( i - 1 ))]}"
    prev_hz="${NODE_HZ[$(( i - 1 ))]}"
  fi
  NODE_NAMES+=("node-$(( i + 1 ))")
  NODE_PORTS+=("$(free_port $(( prev_http + 1 )))")
  NODE_HZ+=("$(free_port $(( prev_hz + 1 )))")
  NODE_PIDS+=("")
}

members_of() { # members_of FIRST LAST: Hazelcast join list of nodes FIRST..LAST (indexes)
  local i list=""
  for (( i = $1; i <= $2; i++ )); do list="${list:+$list,}127.0.0.1:${NODE_HZ[$i]}"; done
  echo "$list"
}

start_node() { # start_node INDEX MEMBERS LOGTAG
  local i="$1" members="$2" tag="$3" name="${NODE_NAMES[$1]}"
  mkdir -p "$WORK/data-$tag-$name"
  log "starting $name ($tag): http 127.0.0.1:${NODE_PORTS[$i]}, hazelcast ${NODE_HZ[$i]}, members $members"
  # shellcheck disable=SC2086  # FLOTILLA_JAVA_OPTS is a list of words
  FLOTILLA_NODE_NAME="$name" FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_HTTP_PORT="${NODE_PORTS[$i]}" \
    FLOTILLA_DATA_DIR="$WORK/data-$tag-$name" FLOTILLA_CLUSTER_NAME="$CLUSTER_NAME-$tag" \
    FLOTILLA_CLUSTER_HOST=127.0.0.1 FLOTILLA_CLUSTER_PORT="${NODE_HZ[$i]}" \
    FLOTILLA_CLUSTER_DATA_PORT="$(free_port $(( NODE_HZ[i] + 100 )))" \
    FLOTILLA_CLUSTER_MEMBERS="$members" FLOTILLA_CLUSTER_REPLICATION_FACTOR="$REPLICATION_FACTOR" \
    FLOTILLA_CLUSTER_REBALANCE_INTERVAL="$REBALANCE_INTERVAL" FLOTILLA_CLUSTER_HANDOFF_TIMEOUT=0s \
    FLOTILLA_HTTP_ACCESS_LOG=false \
    java $FLOTILLA_JAVA_OPTS -jar "$JAR" >"$WORK/$tag-$name.log" 2>&1 &
  NODE_PIDS[i]=$!
}

node_url() { echo "http://127.0.0.1:${NODE_PORTS[$1]}"; }

wait_members() { # wait_members COUNT FIRST LAST: nodes FIRST..LAST all see COUNT members (60 s at most)
  local want_n="$1" i n ok
  for _ in $(seq 1 300); do
    ok=1
    for (( i = $2; i <= $3; i++ )); do
      n="$(curl -s --max-time 2 "$(node_url "$i")/api/v1/cluster" | jq -r '.members | length' 2>/dev/null || true)"
      [[ "$n" == "$want_n" ]] || { ok=0; break; }
    done
    if (( ok )); then log "nodes $(( $2 + 1 ))..$(( $3 + 1 )) all see $want_n members"; return 0; fi
    sleep 0.2
  done
  die "the nodes did not all see $want_n members within 60 s"
}

start_cluster() { # start_cluster LOGTAG: three fresh nodes (indexes 0..2) joined to each other
  local tag="$1" i
  NODE_NAMES=(); NODE_PORTS=(); NODE_HZ=(); NODE_PIDS=()
  for i in 0 1 2; do add_node; done
  for i in 0 1 2; do start_node "$i" "$(members_of 0 2)" "$tag"; done
  for i in 0 1 2; do wait_ready "${NODE_NAMES[$i]}" "${NODE_PIDS[$i]}" "${NODE_PORTS[$i]}"; done
  wait_members 3 0 2
}

check_alive() {
  local i
  for i in "${!NODE_PIDS[@]}"; do
    [[ -z "${NODE_PIDS[$i]}" ]] || kill -0 "${NODE_PIDS[$i]}" 2>/dev/null \
      || die "${NODE_NAMES[$i]} died during the benchmark"
  done
  [[ -z "${DIST_PID:-}" ]] || kill -0 "$DIST_PID" 2>/dev/null || die "distribution died during the benchmark"
}
