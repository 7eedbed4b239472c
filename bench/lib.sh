# shellcheck shell=bash
# Shared by bench/run.sh and bench/cluster.sh (sourced, not run). Expects BENCH_NAME (for log
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
