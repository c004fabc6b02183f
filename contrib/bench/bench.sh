#!/bin/sh
# make bench: side-by-side figures against the anchor tools. Prints numbers, never passes or
# fails on time. Run from the top of the tree after `make regionwatch fixtures`.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
RW=${RW_BIN:-$top/regionwatch}
FIX=$top/build/fixtures
RUNS=${BENCH_RUNS:-7}
T=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM

# median_ms CMD...: run CMD RUNS times (output discarded), print the median wall time in ms.
median_ms() {
	i=0
	: > "$T/times"
	while [ $i -lt "$RUNS" ]; do
		s=$(date +%s%N)
		"$@" > /dev/null
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 )) >> "$T/times"
		i=$((i + 1))
	done
	sort -n "$T/times" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

# peak_rss_kb CMD...: maximum resident set of CMD in KiB (GNU time).
peak_rss_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }

start() { # NAME ARGS... -> $tpid
	name=$1; shift
	"$FIX/$name" "$@" > "$T/ready" &
	tpid=$!
	pids="$pids $tpid"
	n=0
	until grep -q '^ready' "$T/ready"; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "bench: $name never got ready" >&2; exit 1; }
		sleep 0.05
	done
}

echo "regionwatch bench ($(uname -r), $(nproc) cpus), median of $RUNS runs"
echo
echo "== Foundation: snap and diff on a 60,000-mapping process =="
start many_maps -n 60000 -t 600
maps=$(wc -l < /proc/$tpid/maps)
bytes=$(cat /proc/$tpid/smaps | wc -c)
echo "target: pid $tpid, $maps mappings, smaps is $((bytes / 1048576)) MiB"
cat_ms=$(median_ms cat /proc/$tpid/smaps)
snap_ms=$(median_ms "$RW" snap -p "$tpid" -o /dev/null)
printf '  %-44s %9s ms\n' "cat /proc/PID/smaps > /dev/null" "$cat_ms"
printf '  %-44s %9s ms   %s of cat (target <= 1.3x)\n' "regionwatch snap -p PID -o /dev/null" "$snap_ms" "$(ratio "$snap_ms" "$cat_ms")"
if command -v pmap > /dev/null; then
	printf '  %-44s %9s ms\n' "pmap -x PID (for reference)" "$(median_ms pmap -x "$tpid")"
fi
"$RW" snap -p "$tpid" -o "$T/a.snap"
"$RW" snap -p "$tpid" -o "$T/b.snap"
diff_ms=$(median_ms "$RW" diff "$T/a.snap" "$T/b.snap")
json_ms=$(median_ms "$RW" diff --json --all "$T/a.snap" "$T/b.snap")
printf '  %-44s %9s ms   (target < 200 ms)\n' "regionwatch diff A B (two 60k snapshots)" "$diff_ms"
printf '  %-44s %9s ms\n' "regionwatch diff --json --all A B" "$json_ms"
printf '  %-44s %9s KiB\n' "peak RSS of regionwatch snap" "$(peak_rss_kb "$RW" snap -p "$tpid" -o /dev/null)"
printf '  %-44s %9s KiB\n' "peak RSS of regionwatch diff" "$(peak_rss_kb "$RW" diff "$T/a.snap" "$T/b.snap")"
kill -9 "$tpid" 2>/dev/null || true

echo
echo "== Growth tracking: watch at 1 s on a 10,000-mapping process =="
WATCH_SECONDS=${BENCH_WATCH_SECONDS:-30}
start many_maps -n 10000 -t 600
echo "target: pid $tpid, $(wc -l < /proc/$tpid/maps) mappings"
cat_ms=$(median_ms cat /proc/$tpid/smaps)
printf '  %-44s %9s ms per sample (the floor)\n' "cat /proc/PID/smaps > /dev/null" "$cat_ms"
/usr/bin/time -f '%U %S %M' -o "$T/watch.time" "$RW" watch -p "$tpid" -i 1 -n "$WATCH_SECONDS" --json > "$T/watch.json"
read -r wu ws wm < "$T/watch.time"
awk -v u="$wu" -v s="$ws" -v n="$WATCH_SECONDS" -v m="$wm" 'BEGIN {
	cpu = u + s
	printf "  %-44s %9.2f s CPU over %d s = %.2f%% of one core (target <= 5%%)\n", "regionwatch watch -i 1 -n " n, cpu, n, 100 * cpu / n
	printf "  %-44s %9d KiB\n", "peak RSS of regionwatch watch", m
}'
perl -MJSON::PP -ne '$d = decode_json($_); push @c, $d->{cost_ms} if $d->{type} eq "sample";
	END { @c = sort { $a <=> $b } @c; printf "  %-44s %9.2f ms median, %.2f ms max (own CPU per sample)\n", "cost_ms reported by watch", $c[int(@c/2)], $c[-1] }' "$T/watch.json"
