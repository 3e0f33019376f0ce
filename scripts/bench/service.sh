#!/usr/bin/env bash
# Measures yrd-ets serve with wrk (Debian): read requests per second and latency on market data
# and holdings (anonymous and signed in), and durable transfers per second through the API under
# the four-eyes controls (propose, then approve by the second representative; each approval
# executes the transfer at once: trusted account, 10:00 on a working day).
#
#   scripts/bench/service.sh [RUNS] [SECONDS]       # default 3 runs of 10 s each
#
# Runs on a fresh `yrd-ets demo --service` registry in a temporary directory, with the server's
# clock at Monday 24 January 2022 10:00. Prints each wrk run and a table of medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
SECS=${2:-10}
BIN=${YRD_ETS_BIN:-${CARGO_TARGET_DIR:-target}/release/yrd-ets}
HERE=scripts/bench
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release -p yrd-cli

DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$BIN" demo --service --data-dir "$DIR/reg" >/dev/null
PORT=18087
B=http://127.0.0.1:$PORT
RUST_LOG=warn "$BIN" serve --data-dir "$DIR/reg" --bind 127.0.0.1:$PORT \
    --clock-start 2022-01-24T10:00:00 2>"$DIR/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf $B/v1/ready >/dev/null && break; sleep 0.2; done

totp() { python3 - "$1" <<'PY'
import sys, hmac, hashlib, struct, time, base64
s = sys.argv[1]; s += "=" * ((8 - len(s) % 8) % 8)
h = hmac.new(base64.b32decode(s), struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
}
# Signs a demo user in with password and one-time password; prints the bearer token.
sign_in() {
    local token
    token=$(curl -sf -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"yrd-demo-password\"}" $B/v1/session \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"code\":\"$(totp "$2")\"}" $B/v1/session/second-factor >/dev/null
    echo "$token"
}
TRADER=$(sign_in alpha-trader MFWHA2DBFV2HEYLEMVZC2LJNFUWS2LJN)
APPROVER=$(sign_in alpha-approver MFWHA2DBFVQXA4DSN53GK4RNFUWS2LJN)

declare -A RPS P50 P99
# wrk's latency (850.00us, 1.23ms, 1.02s) in milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f\n", v}'; }
# Runs wrk; records requests/s and latency percentiles under $1.
measure() {
    local name=$1; shift
    local out
    out=$(wrk -t2 -c64 -d"${SECS}s" --latency "$@")
    echo "== $name"; echo "$out" | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|99)%"
    RPS[$name]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    P50[$name]+="$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms) "
    P99[$name]+="$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms) "
}
for run in $(seq "$RUNS"); do
    TOKEN= measure "GET /v1/health (baseline)" -s $HERE/get.lua $B/v1/health
    TOKEN= measure "GET /v1/market/summary (anonymous)" -s $HERE/get.lua $B/v1/market/summary
    TOKEN=$TRADER measure "GET /v1/accounts/{id}/holdings (bearer)" -s $HERE/get.lua $B/v1/accounts/TR-SH-ALPHA/holdings
    RUN=$run COUNTS=$DIR/counts TOKEN=$TRADER measure "POST propose_transfer" -s $HERE/propose.lua $B
    RUN=$run COUNTS=$DIR/counts TOKEN=$APPROVER measure "POST approve_transfer (executes)" -s $HERE/approve.lua $B
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "| request | requests/s (median of $RUNS) | p50 | p99 |"
echo "|---|---:|---:|---:|"
for name in "GET /v1/health (baseline)" "GET /v1/market/summary (anonymous)" \
    "GET /v1/accounts/{id}/holdings (bearer)" "POST propose_transfer" "POST approve_transfer (executes)"; do
    echo "| \`$name\` | $(echo "${RPS[$name]}" | median) | $(echo "${P50[$name]}" | median) ms | $(echo "${P99[$name]}" | median) ms |"
done
EXECUTED=$(curl -sf -H "Authorization: Bearer $APPROVER" $B/v1/accounts/TR-SH-ALPHA/transfers \
    | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(sum(x["status"]=="executed" for x in i), "executed of", len(i))')
echo "transfers: $EXECUTED"
curl -sf $B/metrics | grep -E "^yrd_writer_(batches_total|snapshots)|^yrd_writer_batch_size_(sum|count)" || true
