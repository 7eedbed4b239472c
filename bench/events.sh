#!/usr/bin/env bash
# What registry events cost and how fast they are delivered: Flotilla (one node) vs distribution
# 2.8.2, same run, loopback only. Every configuration starts fresh (empty data directory), pushes
# the same small images (the bench driver's figure 5: config blob + 4 KiB layer + manifest, so 3
# push events per image) and, where events go somewhere, waits until every event has arrived.
#
# Configurations (CONFIGS, run in this order in each round, so they interleave):
#   off          Flotilla, events.enabled=false (no journal, nothing emitted): the baseline
#   journal      Flotilla, events on, no endpoint: the cost of the durable journal alone
#   webhook      Flotilla, one webhook endpoint (a local receiver): push rate, events/s delivered
#   kafka        Flotilla, the Kafka sink (a local KRaft broker): push rate, events/s produced
#   drain        Flotilla, the endpoint paused during the push, then resumed: how fast a backlog drains
#   dist-off     distribution without notifications
#   dist-notify  distribution with one notifications endpoint (the same receiver as webhook)
# The receiver and the broker run on the same 2 cores for every configuration.
#
# Usage: bench/events.sh            (results in bench/results/events-<time>.md and events-latest.md)
# Every server first gets WARMUP_IMAGES pushes (not measured: a fresh JVM compiles its hot paths then).
# Knobs (environment): ROUNDS [3], IMAGES [1000], WARMUP_IMAGES [300], IMAGE_CONCURRENCY [8], CONFIGS [all],
#   FLOTILLA_JAVA_OPTS, SKIP_BUILD=1, DIST_BIN [/usr/bin/docker-registry], BENCH_TMP [/tmp],
#   PORT_BASE [15000] (first ports tried: Flotilla there, distribution +100, receiver +400, Hazelcast +700).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
IMAGES="${IMAGES:-1000}"
WARMUP_IMAGES="${WARMUP_IMAGES:-300}"
IMAGE_CONCURRENCY="${IMAGE_CONCURRENCY:-8}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
PORT_BASE="${PORT_BASE:-15000}" # Flotilla from here, distribution from +100, the receiver +400, Hazelcast +700
DIST_PORT="${DIST_PORT:-$((PORT_BASE + 100))}"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"
FLOTILLA_JAR="$ROOT/target/flotilla.jar"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
EXPECT=$(( (IMAGES + WARMUP_IMAGES) * 3 ))
CONFIGS="${CONFIGS:-off journal webhook kafka drain dist-off dist-notify}"
for c in $CONFIGS; do
  case "$c" in off|journal|webhook|kafka|drain|dist-off|dist-notify) ;; *) die "unknown configuration $c";; esac
done

BENCH_NAME=events.sh
source "$BENCH_DIR/lib.sh"

[[ -x "$DIST_BIN" ]] || die "$DIST_BIN not found (apt-get install docker-registry)"
if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
  log "building Flotilla (and its test classes, which hold the Kafka broker launcher)"
  (cd "$ROOT" && mvn -q -DskipTests package) || die "Flotilla build failed"
fi
if [[ ! -f "$BENCH_JAR" || -n "$(find "$BENCH_DIR/src" "$BENCH_DIR/pom.xml" -newer "$BENCH_JAR" -print -quit)" ]]; then
  log "building the bench driver"
  (cd "$BENCH_DIR" && mvn -q package) || die "bench driver build failed"
fi

WORK="$(mktemp -d "$BENCH_TMP/flotilla-events.XXXXXX")"
FLOTILLA_PID=""; DIST_PID=""; RECEIVER_PID=""; KAFKA_PID=""
cleanup() {
  local rc=$?
  stop_pid "$FLOTILLA_PID"; stop_pid "$DIST_PID"; stop_pid "$RECEIVER_PID"; stop_pid "$KAFKA_PID"
  [[ $rc -eq 0 ]] || tail_logs
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$FLOTILLA_JAR" "$WORK/flotilla-under-bench.jar" # a rebuild during the run does not change what is measured
FLOTILLA_JAR="$WORK/flotilla-under-bench.jar"

# ---------------------------------------------------------------- sinks: receiver and Kafka broker
RECEIVER_PORT="$(free_port "$((PORT_BASE + 400))")"
# java itself, not the driver() function: "$!" of a backgrounded function is a subshell, and
# stopping that would leave the receiver running
# shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of words
java $BENCH_JAVA_OPTS -jar "$BENCH_JAR" event-receiver "$RECEIVER_PORT" 3600 >"$WORK/receiver.log" 2>&1 &
RECEIVER_PID=$!

BOOTSTRAP=""
if [[ " $CONFIGS " == *" kafka "* ]]; then # the broker runs only when a configuration uses it (it costs CPU)
  log "resolving the Kafka broker's class path (the project's test scope)"
  (cd "$ROOT" && mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$WORK/cp.txt") \
    || die "cannot resolve the test class path"
  java -Xmx64m -cp "$ROOT/target/test-classes:$(cat "$WORK/cp.txt")" \
    -Dflotilla.kafka.loggingJars="$ROOT/target/kafka-broker-logging" \
    io.flotilla.testing.KafkaBroker "$WORK/kafka" 3600 >"$WORK/kafka-launcher.log" 2>&1 &
  KAFKA_PID=$!
  for _ in $(seq 1 900); do
    BOOTSTRAP="$(sed -n 's/^bootstrap=//p' "$WORK/kafka-launcher.log" 2>/dev/null || true)"
    [[ -n "$BOOTSTRAP" ]] && break
    kill -0 "$KAFKA_PID" 2>/dev/null || die "Kafka broker did not start"
    sleep 0.1
  done
  [[ -n "$BOOTSTRAP" ]] || die "Kafka broker did not start within 90 s"
  log "Kafka broker on $BOOTSTRAP"
fi
log "receiver on 127.0.0.1:$RECEIVER_PORT"

# ---------------------------------------------------------------- one configuration
start_flotilla() { # start_flotilla NAME EVENTS(true|false) WEBHOOK(0|1) PAUSED(0|1) KAFKA(0|1)
  local name="$1" enabled="$2" sinks="$3" paused="$4" with_kafka="${5:-0}"
  FLOTILLA_PORT="$(free_port "$PORT_BASE")"
  local hz; hz="$(free_port "$((PORT_BASE + 700))")"
  rm -rf "$WORK/flotilla-data"; mkdir -p "$WORK/flotilla-data"
  local cfg="$WORK/flotilla.yaml" kafka=""
  if [[ "$sinks" == 1 ]]; then
    cat >"$cfg" <<YAML
events:
  webhooks:
    - name: bench
      url: http://127.0.0.1:$RECEIVER_PORT/$name
      secret: bench-only
      timeout: 5s
      paused: $([[ "$paused" == 1 ]] && echo true || echo false)
YAML
  else
    echo "{}" >"$cfg"
  fi
  [[ "$with_kafka" == 0 ]] || kafka="$BOOTSTRAP"
  FLOTILLA_HTTP_PORT="$FLOTILLA_PORT" FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_DATA_DIR="$WORK/flotilla-data" \
    FLOTILLA_CLUSTER_NAME="flotilla-events-bench-$$" FLOTILLA_CLUSTER_HOST=127.0.0.1 FLOTILLA_CLUSTER_PORT="$hz" \
    FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_EVENTS_ENABLED="$enabled" \
    FLOTILLA_EVENTS_KAFKA_BOOTSTRAP_SERVERS="$kafka" FLOTILLA_EVENTS_KAFKA_TOPIC="bench-$name" \
    java $FLOTILLA_JAVA_OPTS -jar "$FLOTILLA_JAR" --config "$cfg" >"$WORK/flotilla.log" 2>&1 &
  FLOTILLA_PID=$!
  wait_ready Flotilla "$FLOTILLA_PID" "$FLOTILLA_PORT"
}

push_images() { # push_images NAME PORT -> prints images/s (after WARMUP_IMAGES unmeasured ones)
  if (( WARMUP_IMAGES > 0 )); then
    driver --url "http://127.0.0.1:$2" --name "$1-warmup" --figures images \
      --images "$WARMUP_IMAGES" --image-concurrency "$IMAGE_CONCURRENCY" --prefix "warmup-$1" \
      --tmp-dir "$WORK" --out "$WORK/$1-warmup.json" >/dev/null 2>"$WORK/driver.log" || die "warm-up failed against $1"
  fi
  driver --url "http://127.0.0.1:$2" --name "$1" --figures images \
    --images "$IMAGES" --image-concurrency "$IMAGE_CONCURRENCY" --prefix "events-$1" \
    --tmp-dir "$WORK" --out "$WORK/$1.json" >/dev/null 2>"$WORK/driver.log" || die "driver failed against $1"
  sed -n 's/.*"images_per_s" *: *\([0-9.]*\).*/\1/p' "$WORK/$1.json"
}

await() { # await NAME [KAFKA_TOPIC] -> JSON line
  local args=(--stats "http://127.0.0.1:$RECEIVER_PORT/stats/$1" --expect "$EXPECT" --timeout "${AWAIT_S:-180}")
  [[ -z "${2:-}" ]] || args+=(--kafka "$BOOTSTRAP" --topic "$2")
  local out
  out="$(driver await-events "${args[@]}" 2>"$WORK/await.log")" \
    || die "not every event arrived for $1 within ${AWAIT_S:-180} s: $out"
  echo "$out"
}

rate() { # rate EVENTS FROM_MS TO_MS
  awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { if (b > a) printf "%.0f", n * 1000 / (b - a); else print "n/a" }'
}

json_field() { sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9]*\).*/\1/p" <<<"$1"; }

await_kafka() { # await_kafka TOPIC -> JSON line (the receiver path is unused: expect 0 there)
  local out
  out="$(driver await-events --stats "http://127.0.0.1:$RECEIVER_PORT/stats/none" --expect "$EXPECT" \
    --kafka-only true --kafka "$BOOTSTRAP" --topic "$1" --timeout "${AWAIT_S:-180}" 2>"$WORK/await.log")" \
    || die "not every event reached Kafka topic $1 within ${AWAIT_S:-180} s: $out"
  echo "$out"
}

declare -A RESULT
run_config() { # run_config CONFIG ROUND
  local c="$1" r="$2" t0 t1 out first last
  case "$c" in
    off|journal)
      start_flotilla "$c-$r" "$([[ $c == off ]] && echo false || echo true)" 0 0
      RESULT[$c,$r]="$(push_images "flotilla-$c-$r" "$FLOTILLA_PORT")" ;;
    webhook)
      start_flotilla "webhook-$r" true 1 0
      RESULT[webhook,$r]="$(push_images "flotilla-webhook-$r" "$FLOTILLA_PORT")"; t1="$(date +%s%3N)"
      out="$(await "webhook-$r")"
      first="$(json_field "$out" webhook firstMs)"; last="$(json_field "$out" webhook lastMs)"
      RESULT[webhook_rate,$r]="$(rate "$EXPECT" "$first" "$last")"
      RESULT[webhook_lag,$r]="$(( last > t1 ? last - t1 : 0 ))"
      RESULT[webhook_requests,$r]="$(json_field "$out" webhook requests)" ;;
    kafka)
      start_flotilla "kafka-$r" true 0 0 1
      t0="$(date +%s%3N)"
      RESULT[kafka,$r]="$(push_images "flotilla-kafka-$r" "$FLOTILLA_PORT")"; t1="$(date +%s%3N)"
      out="$(await_kafka "bench-kafka-$r")"
      last="$(json_field "$out" kafka reachedMs)"
      RESULT[kafka_rate,$r]="$(rate "$EXPECT" "$t0" "$last")"
      RESULT[kafka_lag,$r]="$(( last > t1 ? last - t1 : 0 ))" ;;
    drain)
      start_flotilla "drain-$r" true 1 1
      push_images "flotilla-drain-$r" "$FLOTILLA_PORT" >/dev/null
      sleep 1
      [[ "$(curl -s "http://127.0.0.1:$RECEIVER_PORT/stats/drain-$r" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')" == 0 ]] \
        || die "the paused endpoint received events"
      t0="$(date +%s%3N)"
      curl -sf -X POST "http://127.0.0.1:$FLOTILLA_PORT/api/v1/webhooks/bench/resume" >/dev/null || die "resume failed"
      out="$(await "drain-$r")"
      RESULT[drain,$r]="$(rate "$EXPECT" "$t0" "$(json_field "$out" webhook lastMs)")"
      RESULT[drain_requests,$r]="$(json_field "$out" webhook requests)" ;;
    dist-off)
      DIST_DATA="$WORK/dist-off-$r" DIST_EXTRA_YAML="" start_distribution
      RESULT[dist_off,$r]="$(push_images "dist-off-$r" "$DIST_PORT")"
      stop_pid "$DIST_PID"; DIST_PID=""; rm -rf "$WORK/dist-off-$r" ;;
    dist-notify)
      DIST_DATA="$WORK/dist-notify-$r" DIST_EXTRA_YAML="notifications:
  endpoints:
    - name: bench
      url: http://127.0.0.1:$RECEIVER_PORT/dist-$r
      timeout: 5s
      threshold: 5
      backoff: 1s" start_distribution
      RESULT[dist_notify,$r]="$(push_images "dist-notify-$r" "$DIST_PORT")"; t1="$(date +%s%3N)"
      out="$(await "dist-$r")"
      first="$(json_field "$out" webhook firstMs)"; last="$(json_field "$out" webhook lastMs)"
      RESULT[dist_rate,$r]="$(rate "$EXPECT" "$first" "$last")"
      RESULT[dist_lag,$r]="$(( last > t1 ? last - t1 : 0 ))"
      RESULT[dist_requests,$r]="$(json_field "$out" webhook requests)"
      stop_pid "$DIST_PID"; DIST_PID=""; rm -rf "$WORK/dist-notify-$r" ;;
  esac
  if [[ -n "$FLOTILLA_PID" ]]; then stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""; fi
  log "round $r, $c: ${RESULT[$c,$r]:-${RESULT[${c//-/_},$r]:-}} images/s"
}

for r in $(seq 1 "$ROUNDS"); do
  log "round $r of $ROUNDS"
  for c in $CONFIGS; do
    run_config "$c" "$r"
  done
done

# ---------------------------------------------------------------- report
TS="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/events-$TS.md"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END { if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
col() { local k="$1" v=""; for r in $(seq 1 "$ROUNDS"); do v+="${RESULT[$k,$r]} "; done; echo "$v"; }
row() { # row LABEL KEY
  local vals; vals="$(col "$2")"
  printf '| %s | %s | %s |\n' "$1" "$(echo "$vals" | sed 's/ *$//; s/ / \/ /g')" "$(echo "$vals" | median)"
}
has() { [[ " $CONFIGS " == *" $1 "* ]]; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'; }
{
  echo "# Events: cost on pushes and delivery rate ($TS UTC, git $(cd "$ROOT" && git rev-parse --short HEAD))"
  echo
  echo "$(nproc) cores, loopback; $IMAGES small images measured per configuration after $WARMUP_IMAGES unmeasured, $IMAGE_CONCURRENCY in flight, 3 events each;"
  echo "Flotilla JVM: ${FLOTILLA_JAVA_OPTS:-(none)}; distribution $("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}'); $ROUNDS rounds, interleaved."
  echo
  echo "| figure | rounds | median |"
  echo "|---|---|---:|"
  has off && row "Flotilla push, events off (images/s)" off
  has journal && row "Flotilla push, journal only, no endpoint (images/s)" journal
  if has webhook; then
    row "Flotilla push, one webhook endpoint (images/s)" webhook
    row "Flotilla webhook delivery during the push (events/s)" webhook_rate
    row "Flotilla webhook lag after the last push (ms)" webhook_lag
    row "Flotilla webhook requests (batches)" webhook_requests
  fi
  if has kafka; then
    row "Flotilla push, Kafka sink (images/s)" kafka
    row "Flotilla Kafka events/s (push start to last record)" kafka_rate
    row "Flotilla Kafka lag after the last push (ms)" kafka_lag
  fi
  if has drain; then
    row "Flotilla webhook backlog drain (events/s)" drain
    row "Flotilla webhook backlog drain requests" drain_requests
  fi
  has dist-off && row "distribution push, notifications off (images/s)" dist_off
  if has dist-notify; then
    row "distribution push, one endpoint (images/s)" dist_notify
    row "distribution webhook delivery during the push (events/s)" dist_rate
    row "distribution webhook lag after the last push (ms)" dist_lag
    row "distribution webhook requests" dist_requests
  fi
  echo
  med() { col "$1" | median; }
  if has off && has journal; then echo "- Flotilla, cost of the journal on pushes (medians): $(pct "$(med off)" "$(med journal)")"; fi
  if has off && has webhook; then echo "- Flotilla, cost of one webhook endpoint on pushes: $(pct "$(med off)" "$(med webhook)")"; fi
  if has off && has kafka; then echo "- Flotilla, cost of the Kafka sink on pushes: $(pct "$(med off)" "$(med kafka)")"; fi
  if has dist-off && has dist-notify; then echo "- distribution, cost of one notifications endpoint: $(pct "$(med dist_off)" "$(med dist_notify)")"; fi
  if has webhook && has dist-notify; then
    echo "- push with one webhook endpoint, Flotilla / distribution: $(awk -v a="$(med webhook)" -v b="$(med dist_notify)" 'BEGIN { printf "%.2fx", a / b }')"
  fi
} >"$OUT"
cp "$OUT" "$BENCH_DIR/results/events-latest.md"
cat "$OUT"
