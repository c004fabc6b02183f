#!/bin/sh
# The cost of a Prometheus scrape: GET /metrics from watch --metrics-listen with the default
# 10 rows, SCRAPES times on new connections (a curl each) and SCRAPES times on one kept-alive
# connection (as Prometheus scrapes), with the CPU the serving watch spent per request
# (/proc/PID/schedstat, ns). Part of make bench; alone: sh contrib/bench/scrape.sh after
# `make regionwatch fixtures`. Prints figures, never passes or fails on time.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
RW=${RW_BIN:-$top/regionwatch}
FIX=$top/build/fixtures
SCRAPES=${BENCH_SCRAPES:-100}
if ! command -v curl > /dev/null 2>&1; then
	echo "  (curl is not installed: skipped)"
	exit 0
fi
T=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$FIX/grow_brk" -r 256 -t 300 > "$T/ready" &
pids="$pids $!"
tpid=$!
n=0
until grep -q "^ready" "$T/ready" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 600 ] || { echo "scrape bench: grow_brk never got ready" >&2; exit 1; }
	sleep 0.05
done
port=$(perl -MIO::Socket::IP -e 'print IO::Socket::IP->new(LocalHost => "127.0.0.1",
	LocalPort => 0, Listen => 1)->sockport')
url=http://127.0.0.1:$port/metrics
# one sample, then none for 60 s: the CPU counted below is serving, not sampling
"$RW" watch -p "$tpid" -i 60 --metrics-listen "127.0.0.1:$port" > /dev/null 2>&1 &
w=$!
pids="$pids $w"
n=0
until curl -sf -o "$T/body" "$url"; do
	n=$((n + 1)); [ $n -lt 100 ] || { echo "scrape bench: watch never served $url" >&2; exit 1; }
	sleep 0.1
done
cpu_ns() { cut -d' ' -f1 "/proc/$w/schedstat"; }
# stats LABEL FILE(seconds per line) CPU_NS: median, p90 and max in ms, server CPU per scrape
stats() {
	sort -n "$2" | awk -v l="$1" -v c="$3" '{ a[NR] = $1 * 1000 } END {
		printf "  %-44s %6.3f ms median, %6.3f p90, %6.3f max; watch CPU %5.1f us/scrape\n",
		l, a[int((NR + 1) / 2)], a[int(NR * 0.9)], a[NR], c / NR / 1000 }'
}
echo "body: $(wc -c < "$T/body") bytes, $(grep -c '^regionwatch_area_rss_bytes{' "$T/body") rows, $SCRAPES scrapes each"
c0=$(cpu_ns)
i=0
: > "$T/new"
while [ $i -lt "$SCRAPES" ]; do
	curl -s -o /dev/null -w '%{time_total}\n' "$url" >> "$T/new"
	i=$((i + 1))
done
c1=$(cpu_ns)
args=""
i=0
while [ $i -lt "$SCRAPES" ]; do args="$args -o /dev/null $url"; i=$((i + 1)); done
# shellcheck disable=SC2086
curl -s -w '%{time_total}\n' $args > "$T/keep"
c2=$(cpu_ns)
stats "GET /metrics, a new connection each" "$T/new" $((c1 - c0))
stats "GET /metrics, one kept-alive connection" "$T/keep" $((c2 - c1))
