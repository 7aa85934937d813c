#!/bin/bash
# Request logging, side by side (bench/notes.md, "Request logging"): igniter_bench with LOG_LEVEL=info
# (stderr to a file) and off, two builds, interleaved rounds of wrk on the JSON query.
#   BEFORE=<old build>/bench/igniter_bench [AFTER=...] [ROUNDS=7] [DUR=10s] bench/request_log.sh
set -u
BEFORE=${BEFORE:?the igniter_bench of the build to compare against}
AFTER=${AFTER:-build/release/bench/igniter_bench}
ROUNDS=${ROUNDS:-7}
DUR=${DUR:-10s}
PORT=${PORT:-39217}
out=${OUT:-/tmp/request_log_bench.txt}
: > $out
for round in $(seq 1 $ROUNDS); do
  for config in before:info after:info before:off after:off; do
    name=${config%%:*}; level=${config##*:}
    bin=$BEFORE; [ $name = after ] && bin=$AFTER
    log=${TMPDIR:-/tmp}/request_log_stderr.$name.$level.log
    PORT=$PORT IO_THREADS=2 WORKER_THREADS=0 LOG_LEVEL=$level $bin 2>$log >/dev/null &
    pid=$!
    for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$PORT/api/v1/bench/query && break; sleep 0.05; done
    w=$(wrk -t2 -c64 -d$DUR --latency http://127.0.0.1:$PORT/api/v1/bench/query)
    kill -TERM $pid; wait $pid
    rps=$(echo "$w" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$w" | awk '$1=="50%" {print $2}')
    p99=$(echo "$w" | awk '$1=="99%" {print $2}')
    reqs=$(echo "$w" | awk '/requests in/ {print $1}')
    lines=$(grep -c "GET /api/v1/bench/query 200" $log)
    echo "$round $name $level rps=$rps p50=$p50 p99=$p99 requests=$reqs lines=$lines" | tee -a $out
    rm -f $log
  done
done
