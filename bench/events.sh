#!/usr/bin/env bash
# What registry events cost and how fast they are delivered: Flotilla (one node) vs distribution
# 2.8.2, same run, loopback only. Every configuration starts fresh (empty data directory), pushes
# the same small images (the bench driver's figure 5: config blob + 4 KiB layer + manifest, so 3
# push events per image) and, where events go somewhere, waits until every event has arrived.
#
# Configurations, interleaved in each round:
#   flotilla-off     events.enabled=false (no journal, nothing emitted): the baseline
#   flotilla-journal events on, no endpoint: the cost of the durable journal alone
#   flotilla-sinks   events on, one webhook endpoint (a local receiver) and the Kafka sink (a local
#                    KRaft broker): push rate, then events/s delivered to each sink
#   flotilla-drain   the same endpoint paused during the push, then resumed: how fast a backlog drains
#   dist-off         distribution without notifications
#   dist-notify      distribution with one notifications endpoint (the same receiver)
#
# Usage: bench/events.sh            (results in bench/results/events-<time>.md and events-latest.md)
# Knobs (environment): ROUNDS [3], IMAGES [511], IMAGE_CONCURRENCY [8], FLOTILLA_JAVA_OPTS,
#   SKIP_BUILD=1, DIST_BIN [/usr/bin/docker-registry], BENCH_TMP [/tmp].
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
IMAGES="${IMAGES:-511}"
IMAGE_CONCURRENCY="${IMAGE_CONCURRENCY:-8}"
FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS--Xmx192m -XX:+UseParallelGC}"
BENCH_TMP="${BENCH_TMP:-/tmp}"
DIST_BIN="${DIST_BIN:-/usr/bin/docker-registry}"
FLOTILLA_JAR="$ROOT/target/flotilla.jar"
BENCH_JAR="$BENCH_DIR/target/flotilla-bench.jar"
EXPECT=$(( IMAGES * 3 ))

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
  if [[ $rc -ne 0 ]]; then
    for f in "$WORK"/*.log; do
      [[ -s "$f" ]] || continue
      echo "----- last lines of $(basename "$f") -----" >&2
      tail -n 30 "$f" >&2
    done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- sinks: receiver and Kafka broker
RECEIVER_PORT="$(free_port 15400)"
java -jar "$BENCH_JAR" event-receiver "$RECEIVER_PORT" 3600 >"$WORK/receiver.log" 2>&1 &
RECEIVER_PID=$!

log "resolving the Kafka broker's class path (the project's test scope)"
(cd "$ROOT" && mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$WORK/cp.txt") \
  || die "cannot resolve the test class path"
java -Xmx64m -cp "$ROOT/target/test-classes:$(cat "$WORK/cp.txt")" \
  -Dflotilla.kafka.loggingJars="$ROOT/target/kafka-broker-logging" \
  io.flotilla.testing.KafkaBroker "$WORK/kafka" 3600 >"$WORK/kafka-launcher.log" 2>&1 &
KAFKA_PID=$!
BOOTSTRAP=""
for _ in $(seq 1 900); do
  BOOTSTRAP="$(sed -n 's/^bootstrap=//p' "$WORK/kafka-launcher.log" 2>/dev/null || true)"
  [[ -n "$BOOTSTRAP" ]] && break
  kill -0 "$KAFKA_PID" 2>/dev/null || die "Kafka broker did not start"
  sleep 0.1
done
[[ -n "$BOOTSTRAP" ]] || die "Kafka broker did not start within 90 s"
log "Kafka broker on $BOOTSTRAP, receiver on 127.0.0.1:$RECEIVER_PORT"

# ---------------------------------------------------------------- one configuration
start_flotilla() { # start_flotilla NAME EVENTS(true|false) WITH_SINKS(0|1) PAUSED(0|1)
  local name="$1" enabled="$2" sinks="$3" paused="$4"
  FLOTILLA_PORT="$(free_port 15000)"
  local hz; hz="$(free_port 15700)"
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
    kafka="$BOOTSTRAP"
  else
    echo "{}" >"$cfg"
  fi
  FLOTILLA_HTTP_PORT="$FLOTILLA_PORT" FLOTILLA_HTTP_HOST=127.0.0.1 FLOTILLA_DATA_DIR="$WORK/flotilla-data" \
    FLOTILLA_CLUSTER_NAME="flotilla-events-bench-$$" FLOTILLA_CLUSTER_HOST=127.0.0.1 FLOTILLA_CLUSTER_PORT="$hz" \
    FLOTILLA_HTTP_ACCESS_LOG=false FLOTILLA_EVENTS_ENABLED="$enabled" \
    FLOTILLA_EVENTS_KAFKA_BOOTSTRAP_SERVERS="$kafka" FLOTILLA_EVENTS_KAFKA_TOPIC="bench-$name" \
    java $FLOTILLA_JAVA_OPTS -jar "$FLOTILLA_JAR" --config "$cfg" >"$WORK/flotilla.log" 2>&1 &
  FLOTILLA_PID=$!
  wait_ready Flotilla "$FLOTILLA_PID" "$FLOTILLA_PORT"
}

push_images() { # push_images NAME PORT -> prints images/s
  java -jar "$BENCH_JAR" --url "http://127.0.0.1:$2" --name "$1" --figures images \
    --images "$IMAGES" --image-concurrency "$IMAGE_CONCURRENCY" --prefix "events-$1" \
    --tmp-dir "$WORK" --out "$WORK/$1.json" >/dev/null 2>"$WORK/driver.log" || die "driver failed against $1"
  sed -n 's/.*"images_per_s" *: *\([0-9.]*\).*/\1/p' "$WORK/$1.json"
}

await() { # await NAME [KAFKA_TOPIC] -> JSON line
  local args=(--stats "http://127.0.0.1:$RECEIVER_PORT/stats/$1" --expect "$EXPECT" --timeout "${AWAIT_S:-180}")
  [[ -z "${2:-}" ]] || args+=(--kafka "$BOOTSTRAP" --topic "$2")
  local out
  out="$(java -jar "$BENCH_JAR" await-events "${args[@]}" 2>"$WORK/await.log")" \
    || die "not every event arrived for $1 within ${AWAIT_S:-180} s: $out"
  echo "$out"
}

rate() { # rate EVENTS FROM_MS TO_MS
  awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { if (b > a) printf "%.0f", n * 1000 / (b - a); else print "n/a" }'
}

json_field() { sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9]*\).*/\1/p" <<<"$1"; }

declare -A RESULT
for r in $(seq 1 "$ROUNDS"); do
  log "round $r of $ROUNDS"
  start_flotilla "off-$r" false 0 0
  RESULT[off,$r]="$(push_images "flotilla-off-$r" "$FLOTILLA_PORT")"
  stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""

  start_flotilla "journal-$r" true 0 0
  RESULT[journal,$r]="$(push_images "flotilla-journal-$r" "$FLOTILLA_PORT")"
  stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""

  start_flotilla "sinks-$r" true 1 0
  t0="$(date +%s%3N)"
  RESULT[sinks,$r]="$(push_images "flotilla-sinks-$r" "$FLOTILLA_PORT")"
  t1="$(date +%s%3N)"
  out="$(await "sinks-$r" "bench-sinks-$r")"
  wh_last="$(json_field "$out" webhook lastMs)"; wh_first="$(json_field "$out" webhook firstMs)"
  kf_reached="$(json_field "$out" kafka reachedMs)"
  RESULT[sinks_webhook,$r]="$(rate "$EXPECT" "$wh_first" "$wh_last")"
  RESULT[sinks_webhook_lag,$r]="$(( wh_last > t1 ? wh_last - t1 : 0 ))"
  RESULT[sinks_kafka,$r]="$(rate "$EXPECT" "$wh_first" "$kf_reached")"
  RESULT[sinks_kafka_lag,$r]="$(( kf_reached > t1 ? kf_reached - t1 : 0 ))"
  RESULT[sinks_requests,$r]="$(json_field "$out" webhook requests)"
  log "sinks round $r: push ${RESULT[sinks,$r]} images/s; pushes took $(( t1 - t0 )) ms; $out"
  stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""

  start_flotilla "drain-$r" true 1 1
  push_images "flotilla-drain-$r" "$FLOTILLA_PORT" >/dev/null
  sleep 1
  [[ "$(curl -s "http://127.0.0.1:$RECEIVER_PORT/stats/drain-$r" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')" == 0 ]] \
    || die "the paused endpoint received events"
  t_resume="$(date +%s%3N)"
  curl -sf -X POST "http://127.0.0.1:$FLOTILLA_PORT/api/v1/webhooks/bench/resume" >/dev/null || die "resume failed"
  out="$(await "drain-$r")"
  RESULT[drain,$r]="$(rate "$EXPECT" "$t_resume" "$(json_field "$out" webhook lastMs)")"
  RESULT[drain_requests,$r]="$(json_field "$out" webhook requests)"
  stop_pid "$FLOTILLA_PID"; FLOTILLA_PID=""

  DIST_DATA="$WORK/dist-off-$r" DIST_EXTRA_YAML="" start_distribution
  RESULT[dist_off,$r]="$(push_images "dist-off-$r" "$DIST_PORT")"
  stop_pid "$DIST_PID"; DIST_PID=""; rm -rf "$WORK/dist-off-$r"

  DIST_DATA="$WORK/dist-notify-$r" DIST_EXTRA_YAML="notifications:
  endpoints:
    - name: bench
      url: http://127.0.0.1:$RECEIVER_PORT/dist-$r
      timeout: 5s
      threshold: 5
      backoff: 1s" start_distribution
  t0="$(date +%s%3N)"
  RESULT[dist_notify,$r]="$(push_images "dist-notify-$r" "$DIST_PORT")"
  t1="$(date +%s%3N)"
  out="$(await "dist-$r")"
  wh_last="$(json_field "$out" webhook lastMs)"; wh_first="$(json_field "$out" webhook firstMs)"
  RESULT[dist_webhook,$r]="$(rate "$EXPECT" "$wh_first" "$wh_last")"
  RESULT[dist_webhook_lag,$r]="$(( wh_last > t1 ? wh_last - t1 : 0 ))"
  RESULT[dist_requests,$r]="$(json_field "$out" webhook requests)"
  stop_pid "$DIST_PID"; DIST_PID=""; rm -rf "$WORK/dist-notify-$r"
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
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'; }
{
  echo "# Events: cost on pushes and delivery rate ($TS UTC, git $(cd "$ROOT" && git rev-parse --short HEAD))"
  echo
  echo "$(nproc) cores, loopback; $IMAGES small images per configuration, $IMAGE_CONCURRENCY in flight, 3 events each;"
  echo "Flotilla JVM: ${FLOTILLA_JAVA_OPTS:-(none)}; distribution $("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}'); $ROUNDS rounds, interleaved."
  echo
  echo "| figure | rounds | median |"
  echo "|---|---|---:|"
  row "Flotilla push, events off (images/s)" off
  row "Flotilla push, journal only (images/s)" journal
  row "Flotilla push, webhook + Kafka (images/s)" sinks
  row "Flotilla webhook delivery during the push (events/s)" sinks_webhook
  row "Flotilla webhook lag after the last push (ms)" sinks_webhook_lag
  row "Flotilla webhook requests (batches)" sinks_requests
  row "Flotilla Kafka delivery during the push (events/s)" sinks_kafka
  row "Flotilla Kafka lag after the last push (ms)" sinks_kafka_lag
  row "Flotilla webhook backlog drain (events/s)" drain
  row "distribution push, notifications off (images/s)" dist_off
  row "distribution push, one endpoint (images/s)" dist_notify
  row "distribution webhook delivery during the push (events/s)" dist_webhook
  row "distribution webhook lag after the last push (ms)" dist_webhook_lag
  row "distribution webhook requests" dist_requests
  echo
  off="$(col off | median)"; journal="$(col journal | median)"; sinks="$(col sinks | median)"
  doff="$(col dist_off | median)"; dnot="$(col dist_notify | median)"
  echo "- Flotilla, cost of events on pushes (medians): journal only $(pct "$off" "$journal"), webhook + Kafka $(pct "$off" "$sinks")"
  echo "- distribution, cost of one notifications endpoint: $(pct "$doff" "$dnot")"
  echo "- push with events delivered, Flotilla / distribution: $(awk -v a="$sinks" -v b="$dnot" 'BEGIN { printf "%.2fx", a / b }')"
} >"$OUT"
cp "$OUT" "$BENCH_DIR/results/events-latest.md"
cat "$OUT"
