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
		"$@" > /dev/null 2>&1
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
	start_cmd "$FIX/$name" "$@"
}

start_cmd() { # PROGRAM ARGS... -> $tpid, once it printed its ready line
	name=$(basename "$1")
	"$@" > "$T/ready" &
	tpid=$!
	pids="$pids $tpid"
	n=0
	until grep -q '^ready' "$T/ready"; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "bench: $name never got ready" >&2; exit 1; }
		sleep 0.05
	done
}

# live_analyses NAME: the analyses on the 1 GiB at $addr in $tpid (started by start), as
# ratios against the bare process_vm_readv loop timed in the same run; strings and grep
# against the GNU tools on the same bytes (a dump of them). Medians of BENCH_TEXT_RUNS (3).
live_analyses() {
	addr=$(sed -n 's/.*addr=0x\([0-9a-f]*\).*/\1/p' "$T/ready")
	end=$(perl -e 'printf "%x", hex($ARGV[0]) + (1 << 30)' "$addr")
	RUNS_SAVE=$RUNS
	RUNS=${BENCH_TEXT_RUNS:-3}
	pvr_ms=$(median_ms "$T/pvr_loop" "$tpid" "$addr" "$end")
	printf '  %-52s %9s ms\n' "bare process_vm_readv loop (4 MiB chunks)" "$pvr_ms"
	# memread reads into 1 MiB buffers: the same loop with them, and regionwatch's read
	# alone, for reference (the ratios stay against the 4 MiB loop, as the goals say)
	pvr1_ms=$(median_ms env PVR_CHUNK_KIB=1024 "$T/pvr_loop" "$tpid" "$addr" "$end")
	rd_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr")
	printf '  %-52s %9s ms\n' "  the same loop, 1 MiB chunks" "$pvr1_ms"
	printf '  %-52s %9s ms\n' "  regionwatch dump, read only" "$rd_ms"
	slower=0
	for a in "--top 20:4" "--histogram:1.5" "--top 20 --histogram:4"; do
		args=${a%:*}
		ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr" $args)
		printf '  %-52s %9s ms   %s of the bare loop (target <= %sx)\n' "regionwatch dump $args" "$ms" \
			"$(ratio "$ms" "$pvr_ms")" "${a##*:}"
		case $args in
		*" "--histogram) printf '  %-52s %9s ms   %s of it (target <= 1x)\n' \
			"  the slower of --top 20 and --histogram alone" "$slower" "$(ratio "$ms" "$slower")" ;;
		*) slower=$(awk -v a="$ms" -v b="$slower" 'BEGIN { print (a > b ? a : b) }') ;;
		esac
	done
	"$RW" dump -p "$tpid" --region "$addr" -o "$T/$1.bin" --force 2> /dev/null
	gs_ms=$(median_ms strings -a "$T/$1.bin")
	rs_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr" --strings=gnu)
	printf '  %-52s %9s ms\n' "strings -a (the same bytes, from a file)" "$gs_ms"
	printf '  %-52s %9s ms   %s faster (target >= 10x)\n' "regionwatch dump --strings=gnu" "$rs_ms" "$(ratio "$gs_ms" "$rs_ms")"
	gg_ms=$(median_ms sh -c "grep -c -a -P 'user_session id=\\d+' '$T/$1.bin' | cat")
	rg_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr" --grep 'user_session id=\d+')
	printf '  %-52s %9s ms\n' "grep -c -a -P 'user_session id=\\d+' FILE | cat" "$gg_ms"
	printf '  %-52s %9s ms   %s of grep (target <= 1x)\n' "regionwatch dump --grep" "$rg_ms" "$(ratio "$rg_ms" "$gg_ms")"
	rm -f "$T/$1.bin" "$T/$1.bin.json"
	for a in "--top 20" "--histogram" "--top 20 --histogram" "--strings=gnu" "--grep user_session"; do
		printf '  %-52s %9s KiB (target <= 65536)\n' "peak RSS of dump $a" \
			"$(peak_rss_kb "$RW" dump -p "$tpid" --region "$addr" $a)"
	done
	RUNS=$RUNS_SAVE
}

# The bare read loop, and the analyzers fed from memory (bench_scan: also a live target
# holding the mixed content with --hold).
cc -O2 -o "$T/pvr_loop" "$top/contrib/bench/pvr_loop.c"
cc -O2 -D_GNU_SOURCE -I"$top/include" -o "$T/bench_scan" "$top/contrib/bench/bench_scan.c" \
	"$top"/src/scan_*.c "$top/src/util.c" $(pkg-config --cflags --libs libpcre2-8) -lm

# BENCH_ONLY="text mixed": run only the sections named (foundation diff1m watch cost read
# text sparse mixed monitor safety census metrics); all of them by default.
want() { [ -z "${BENCH_ONLY:-}" ] || case " $BENCH_ONLY " in *" $1 "*) true ;; *) false ;; esac; }

echo "regionwatch bench ($(uname -r), $(nproc) cpus), median of $RUNS runs"
if want foundation; then
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
fi

if want diff1m; then
echo
echo "== diff of two 10^6-region inputs (synthetic smaps, ~3% changed; target <= 64 MiB) =="
# BENCH_DIFF_OLD=path/to/an/older/regionwatch adds its figures beside ours.
sh "$top/contrib/bench/gen_smaps.sh" 1000000 a > "$T/a1m.snap"
sh "$top/contrib/bench/gen_smaps.sh" 1000000 b > "$T/b1m.snap"
echo "inputs: $(($(wc -c < "$T/a1m.snap") / 1048576)) MiB and $(($(wc -c < "$T/b1m.snap") / 1048576)) MiB of smaps text"
# time_rss CMD...: one run's wall time (s) and peak RSS (KiB) from GNU time
time_rss() { /usr/bin/time -f '%e s %M KiB' "$@" 2>&1 >/dev/null | tail -1; }
for mode in "" "--all" "--json --all"; do
	printf '  %-44s %s\n' "regionwatch diff $mode A B" "$(time_rss "$RW" diff $mode "$T/a1m.snap" "$T/b1m.snap")"
	if [ -n "${BENCH_DIFF_OLD:-}" ]; then
		printf '  %-44s %s\n' "  (older: $BENCH_DIFF_OLD)" "$(time_rss "$BENCH_DIFF_OLD" diff $mode "$T/a1m.snap" "$T/b1m.snap")"
	fi
done
printf '  %-44s %s\n' "regionwatch diff A - (B from a pipe)" "$(cat "$T/b1m.snap" | time_rss "$RW" diff "$T/a1m.snap" -)"
rm -f "$T/a1m.snap" "$T/b1m.snap"
fi

if want watch; then
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
kill -9 "$tpid" 2>/dev/null || true
fi

if want cost; then
echo
echo "== Sampling cost: watch per sample at 10,000 and 60,000 mappings =="
# Per-sample CPU of watch (user+sys over -n samples at -i 0.2, startup included) beside cat
# of smaps and maps in the same run; then the peak RSS of watch over 512 samples at 60,000.
COST_SAMPLES=${BENCH_COST_SAMPLES:-50}
for maps_n in 10000 60000; do  # not $n: start() counts with it
	start many_maps -n $maps_n -t 900
	echo "target: pid $tpid, $(wc -l < /proc/$tpid/maps) mappings"
	cs_ms=$(median_ms cat /proc/$tpid/smaps)
	cm_ms=$(median_ms cat /proc/$tpid/maps)
	/usr/bin/time -f '%U %S' -o "$T/cost.time" "$RW" watch -p "$tpid" -i 0.2 -n "$COST_SAMPLES" --max-cost 0 --json > "$T/cost.json"
	read -r cu cs < "$T/cost.time"
	w_ms=$(awk -v u="$cu" -v s="$cs" -v n="$COST_SAMPLES" 'BEGIN { printf "%.1f", (u + s) * 1000 / n }')
	med=$(perl -MJSON::PP -ne '$d = decode_json($_); push @c, $d->{cost_ms} if $d->{type} eq "sample";
		END { @c = sort { $a <=> $b } @c; printf "%.1f", $c[int(@c/2)] }' "$T/cost.json")
	printf '  %-52s %9s ms
' "cat /proc/PID/smaps > /dev/null" "$cs_ms"
	printf '  %-52s %9s ms   %s of cat smaps
' "cat /proc/PID/maps > /dev/null" "$cm_ms" "$(ratio "$cm_ms" "$cs_ms")"
	printf '  %-52s %9s ms   %s of cat smaps (target <= 0.33x at 60k)
' \
		"regionwatch watch -i 0.2 -n $COST_SAMPLES: CPU per sample" "$w_ms" "$(ratio "$w_ms" "$cs_ms")"
	printf '  %-52s %9s ms   %s of cat smaps; at 1 s: %s%% of a core (target <= 2%% at 10k)
' \
		"  its cost_ms median (the sampler alone)" "$med" "$(ratio "$med" "$cs_ms")" \
		"$(awk -v w="$w_ms" 'BEGIN { printf "%.1f", w / 10 }')"
	if [ $maps_n = 60000 ]; then
		/usr/bin/time -f '%M' -o "$T/peak.time" "$RW" watch -p "$tpid" -i 0.05 -n 512 --max-cost 0 --json > /dev/null
		printf '  %-52s %9s KiB (target <= 65536)\n' "peak RSS of watch -i 0.05 -n 512" "$(tail -1 "$T/peak.time")"
	fi
	kill -9 "$tpid" 2>/dev/null || true
done
fi

if want read; then
echo
echo "== Reading memory: a 1 GiB resident region =="
start flat -s 1024 -t 600
addr=$(sed -n 's/.*addr=0x\([0-9a-f]*\).*/\1/p' "$T/ready")
end=$(perl -e 'printf "%x", hex($ARGV[0]) + (1 << 30)' "$addr")
pvr_ms=$(median_ms "$T/pvr_loop" "$tpid" "$addr" "$end")
rd_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr")
rw_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr" --histogram)
printf '  %-52s %9s ms\n' "bare process_vm_readv loop (4 MiB chunks)" "$pvr_ms"
printf '  %-52s %9s ms   %s of the bare loop (target <= 1.3x)\n' "regionwatch dump (read only: pagemap + reads)" "$rd_ms" "$(ratio "$rd_ms" "$pvr_ms")"
printf '  %-52s %9s ms   %s of the bare loop\n' "regionwatch dump --histogram (read + analysis)" "$rw_ms" "$(ratio "$rw_ms" "$pvr_ms")"
rm -f "$T/p.bin" "$T/d.bin"
pvrw_ms=$(median_ms sh -c "rm -f '$T/p.bin'; '$T/pvr_loop' $tpid $addr $end '$T/p.bin'")
rww_ms=$(median_ms sh -c "'$RW' dump -p $tpid --region $addr -o '$T/d.bin' --force 2>/dev/null")
printf '  %-52s %9s ms\n' "bare loop writing a file (+ fsync)" "$pvrw_ms"
printf '  %-52s %9s ms   %s of the bare loop writing (target <= 1.3x)\n' "regionwatch dump -o FILE" "$rww_ms" "$(ratio "$rww_ms" "$pvrw_ms")"
rm -f "$T/p.bin" "$T/d.bin" "$T/d.bin.json"
if command -v gdb > /dev/null; then
	s=$(date +%s%N)
	gdb -q -batch -p "$tpid" -ex "dump binary memory $T/g.bin 0x$addr 0x$end" > /dev/null 2>&1
	e=$(date +%s%N)
	gdb_ms=$(( (e - s) / 1000000 ))
	rm -f "$T/g.bin"
	printf '  %-52s %9s ms   %s the read-only dump (target >= 40x); %s dump -o with fsync\n' "gdb dump binary memory (one run, no fsync)" "$gdb_ms" "$(ratio "$gdb_ms" "$rd_ms")" "$(ratio "$gdb_ms" "$rww_ms")"
fi
printf '  %-52s %9s KiB\n' "peak RSS of regionwatch dump --histogram" "$(peak_rss_kb "$RW" dump -p "$tpid" --region "$addr" --histogram)"
kill -9 "$tpid" 2>/dev/null || true
fi

if want text; then
echo
echo "== Analyses at memory speed: 1 GiB of text records in a live process =="
# flat -x: 1 GiB resident, user_session records from end to end (20 million strings, nearly
# all new: the string table's worst case). Ratios against the bare process_vm_readv loop,
# timed in the same run; strings and grep against the GNU tools on the same bytes (a dump).
start flat -s 1024 -x -t 900
live_analyses text
kill -9 "$tpid" 2>/dev/null || true
fi

if want sparse; then
echo
echo "== Reading memory: a 16 GiB mapping with 256 MiB present =="
start sparse -g 16 -m 256 -t 600
addr=$(sed -n 's/.*addr=0x\([0-9a-f]*\).*/\1/p' "$T/ready")
rss0=$(sed -n 's/^Rss: *\([0-9]*\) kB/\1/p' /proc/$tpid/smaps_rollup)
sp_ms=$(median_ms "$RW" dump -p "$tpid" --region "$addr" --histogram)
"$RW" dump -p "$tpid" --region "$addr" --histogram --json > "$T/sp.json" 2>/dev/null
rss1=$(sed -n 's/^Rss: *\([0-9]*\) kB/\1/p' /proc/$tpid/smaps_rollup)
printf '  %-52s %9s ms   (%s MiB read; 1 GiB resident took %s ms)\n' "regionwatch dump --histogram" "$sp_ms" \
	"$(perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0]; print decode_json(<$f>)->{bytes_read} >> 20' "$T/sp.json")" "$rw_ms"
printf '  %-52s %9s -> %s kB (must not change)\n' "target RSS before -> after" "$rss0" "$rss1"
printf '  %-52s %9s KiB\n' "peak RSS of regionwatch" "$(peak_rss_kb "$RW" dump -p "$tpid" --region "$addr" --histogram)"
kill -9 "$tpid" 2>/dev/null || true
fi

if want mixed; then
echo
echo "== Analyses at memory speed: 1 GiB of the mixed content in a live process =="
# bench_scan --hold: the mix below (text records, zeros, random, pointers in 4..64 KiB
# segments), 1 GiB resident in one mapping.
start_cmd "$T/bench_scan" "$T/hold.bin" --mib 1024 --hold 900
live_analyses mixed
kill -9 "$tpid" 2>/dev/null || true
rm -f "$T/hold.bin"

echo
echo "== Analyses: a 256 MiB mixed file =="
"$T/bench_scan" "$T/mixed.bin" | sed 's/^/  in-process: /'
F=$T/mixed.bin
RUNS_SAVE=$RUNS
RUNS=3
gs_ms=$(median_ms strings -a -n 4 "$F")
rs_ms=$(median_ms "$RW" analyze "$F" --strings=gnu)
printf '  %-52s %9s ms\n' "strings -a -n 4" "$gs_ms"
printf '  %-52s %9s ms   %s faster (target >= 5x)\n' "regionwatch analyze --strings=gnu" "$rs_ms" "$(ratio "$gs_ms" "$rs_ms")"
RUNS=1
gh_ms=$(median_ms hexdump -C "$F")
RUNS=3
rh_ms=$(median_ms "$RW" analyze "$F" --hexdump --offsets file)
printf '  %-52s %9s ms\n' "hexdump -C (one run)" "$gh_ms"
printf '  %-52s %9s ms   %s faster (target >= 20x)\n' "regionwatch analyze --hexdump --offsets file" "$rh_ms" "$(ratio "$gh_ms" "$rh_ms")"
cat_ms=$(median_ms cat "$F")
tp_ms=$(median_ms "$RW" analyze "$F" --top 20)
printf '  %-52s %9s ms\n' "cat FILE > /dev/null (the bare read)" "$cat_ms"
printf '  %-52s %9s ms   %s of cat (target <= 4x)\n' "regionwatch analyze --top 20" "$tp_ms" "$(ratio "$tp_ms" "$cat_ms")"
hi_ms=$(median_ms "$RW" analyze "$F" --histogram)
printf '  %-52s %9s ms   %s GB/s, %s of cat (target <= 1.5x)\n' "regionwatch analyze --histogram" "$hi_ms" "$(awk -v ms="$hi_ms" 'BEGIN { printf "%.2f", 268435456 / ms / 1e6 }')" "$(ratio "$hi_ms" "$cat_ms")"
# GNU grep stops at the first match when its output is /dev/null: pipe it through cat.
gg_ms=$(median_ms sh -c "grep -c -a -P 'user_session id=\\d+' '$F' | cat")
rg_ms=$(median_ms "$RW" analyze "$F" --grep 'user_session id=\d+')
printf '  %-52s %9s ms\n' "grep -c -a -P 'user_session id=\\d+'" "$gg_ms"
printf '  %-52s %9s ms   %s of grep (target <= 1.5x)\n' "regionwatch analyze --grep" "$rg_ms" "$(ratio "$rg_ms" "$gg_ms")"
for a in "--strings=gnu" "--top 10" "--histogram" "--grep user_session"; do
	printf '  %-52s %9s KiB\n' "peak RSS of regionwatch analyze $a" "$(peak_rss_kb "$RW" analyze "$F" $a)"
done
RUNS=$RUNS_SAVE
fi

if want monitor; then
echo
echo "== The live monitor at 1 s on a 10,000-mapping process =="
if command -v tmux > /dev/null; then
	start many_maps -n 10000 -t 600
	sock="rwbench$$"
	tmux -L "$sock" new-session -d -x 120 -y 40 "'$RW' -p $tpid -i 1"
	sleep 2
	mpid=$(pgrep -n -f -- "-p $tpid -i 1" || true)
	if [ -n "$mpid" ]; then
		t0=$(awk '{ print $14 + $15 }' "/proc/$mpid/stat")
		sleep "$WATCH_SECONDS"
		t1=$(awk '{ print $14 + $15 }' "/proc/$mpid/stat")
		hz=$(getconf CLK_TCK)
		awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$WATCH_SECONDS" 'BEGIN {
			cpu = (b - a) / hz
			printf "  %-52s %9.2f s CPU over %d s = %.2f%% of one core (target <= 5%%)\n", "regionwatch -p PID (monitor, in tmux 120x40)", cpu, n, 100 * cpu / n }'
		printf '  %-52s %9s KiB\n' "RSS of the monitor" "$(awk '/^VmRSS/ { print $2 }' /proc/$mpid/status)"
	fi
	tmux -L "$sock" kill-server 2>/dev/null || true
	kill -9 "$tpid" 2>/dev/null || true
fi
fi

if want safety; then
echo
echo "== Safety: a frozen target released after regionwatch is SIGKILLed =="
# The fault suite checks this with a bound a loaded machine meets (2 s); here is the figure:
# time from SIGKILL of a dump paused with every thread frozen to every thread untraced and
# not stopped (polled by perl every 0.2 ms, so the figure includes up to that much).
RELEASE_RUNS=${BENCH_RELEASE_RUNS:-20}
start churn -n 8 -t 300
: > "$T/release"
i=0
while [ $i -lt "$RELEASE_RUNS" ]; do
	i=$((i + 1))
	RW_TEST_PAUSE_AT=frozen RW_TEST_PAUSE_MS=5000 "$RW" dump -p "$tpid" --region '[stack]' --freeze \
		--histogram > /dev/null 2> "$T/rel.err" &
	rw=$!
	n=0; until grep -q "paused at frozen" "$T/rel.err" 2>/dev/null; do n=$((n + 1)); [ $n -lt 500 ] || break; sleep 0.01; done
	perl -MTime::HiRes=time,sleep -e '
		my ($rw, $pid) = @ARGV; my $t0 = time; kill 9, $rw;
		for (;;) {
			my $held = 0;
			for my $t (glob "/proc/$pid/task/*") {
				open my $s, "<", "$t/status" or next; local $/; my $x = <$s>;
				$held = 1 if $x =~ /^TracerPid:\s*[1-9]/m || $x =~ /^State:\s*[tT]/m;
			}
			last unless $held; sleep 0.0002;
		}
		printf "%.3f\n", (time - $t0) * 1000' "$rw" "$tpid" >> "$T/release"
	wait $rw 2>/dev/null || true
done
sort -n "$T/release" | awk '{ a[NR] = $1 } END { printf "  %-52s %9.2f ms median, %.2f ms max (%d runs)\n", "SIGKILL -> every thread running again", a[int((NR + 1) / 2)], a[NR], NR }'
kill -9 "$tpid" 2>/dev/null || true
fi

if want census; then
echo
echo "== watch --content: census speed and the CPU it adds =="
# Per growing target: the same watch (-i 0.5 -n 8) without and with --content, user+sys
# from GNU time; the census speed is the first row's new pages read over the wall time of
# that read and its analyses (content.wall_ms.new in the JSON); the share is the first
# row's delta over the process's anonymous growth; the top shape is what 'what grew'
# names first (the pointee shape when the row's words were followed one hop).
# (not start_cmd: start() calls that one)
start_named() { # NAME CMD... -> $tpid (from the ready line: an interpreter may be behind a shim)
	shift
	"$@" > "$T/ready" 2>/dev/null &
	pids="$pids $!"
	n=0
	until grep -q '^ready' "$T/ready"; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "bench: $1 never got ready" >&2; exit 1; }
		sleep 0.05
	done
	tpid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$T/ready")
	pids="$pids $tpid"
}
cpu_s() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.2f", $1 + $2 }'; }
content_row() { # LABEL EXTRA_WATCH_ARGS...: on $tpid
	label=$1; shift
	plain=$(cpu_s "$RW" watch -p "$tpid" -i 0.5 -n 8 --json)
	/usr/bin/time -f '%U %S' -o "$T/ctime" "$RW" watch -p "$tpid" -i 0.5 -n 8 --json --content "$@" > "$T/c.json" 2>/dev/null || true
	with=$(awk '{ printf "%.2f", $1 + $2 }' "$T/ctime")
	tail -1 "$T/c.json" > "$T/c.sum"
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $d = decode_json(<$f>);
		my ($label, $plain, $with) = @ARGV[1 .. 3];
		my $a = $d->{areas}[0]; my $c = $a->{content} or do { printf "  %-14s no content (%s)\n", $label, $d->{content}{note} // "?"; exit };
		my $g = $d->{anon} - $d->{anon_first};
		my $ms = $c->{wall_ms}{new}; my $top = $c->{pointees} ? "one hop: " . ($c->{pointees}{top_shapes}[0]{text} // "-") : ($c->{top_shapes}[0]{text} // "-");
		$top =~ s/[^\x20-\x7e]/?/g; $top = substr($top, 0, 44);
		printf "  %-14s %5.0f%% %9.1f %9.0f %7.2f s %7.2f s %+7.2f s  %s\n", $label, $g > 0 ? 100 * $a->{delta} / $g : 0,
			$c->{read_bytes} / 1048576, $ms > 0 ? $c->{read_bytes} / $ms / 1e3 : 0, $plain, $with, $with - $plain, $top' \
		"$T/c.sum" "$label" "$plain" "$with"
	kill -9 "$tpid" 2>/dev/null || true
}
printf '  %-14s %6s %9s %9s %9s %9s %9s  %s\n' "target" "share" "new MiB" "MB/s" "CPU" "+content" "extra" "top shape of the first row"
start grow_chunks -r 2048 -t 600;              content_row grow_chunks
start pointer_array -r 2048 -t 600;            content_row pointer_array
start grow_threads -n 3 -r 4096 -t 600;        content_row grow_threads
if [ -x "$FIX/go_leak" ]; then start go_leak -r 2048 -t 600; content_row go/leak; fi
if [ -x "$FIX/go_cgoleak" ]; then start go_cgoleak -r 2048 -t 600; content_row go/cgoleak; fi
if command -v python3 > /dev/null; then start_named python3 python3 "$top/fixtures/targets/runtimes/leak.py" -r 2048 -t 600; content_row python3; fi
if command -v node > /dev/null; then start_named node node "$top/fixtures/targets/runtimes/leak.js" -r 2048 -t 600; content_row node; fi
# fast growth: 64 MiB/s for 4 s, all of it read (budget 512M)
start grow_mmap -r 65536 -m 1024 -t 600;       content_row "grow_mmap 64M/s" --content-budget 512M
# the floor: the analyses alone (dump --top 20 --histogram: strings, shapes, histogram) over
# the same kind of pages, 256 MiB of grow_mmap's records once it has stopped growing
start grow_mmap -r 65536 -m 256 -t 600 2> /dev/null
addr=$(sed -n 's/.*addr=0x\([0-9a-f]*\).*/\1/p' "$T/ready")
prev=-1; n=0
while :; do   # until its Rss stays put (the reservation is full)
	rss=$(awk '/^Rss:/ { s += $2 } END { print s }' "/proc/$tpid/smaps_rollup")
	[ "$rss" = "$prev" ] && break
	prev=$rss; n=$((n + 1)); [ $n -lt 100 ] || break
	sleep 0.5
done
"$RW" dump -p "$tpid" --region "0x$addr" --top 20 --histogram --json > "$T/floor.json" 2> /dev/null
RUNS_SAVE=$RUNS; RUNS=3
fl_ms=$(median_ms "$RW" dump -p "$tpid" --region "0x$addr" --top 20 --histogram)
RUNS=$RUNS_SAVE
perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $d = decode_json(<$f>);
	printf "  %-52s %9.0f MB/s (%.0f MiB in %s ms: the census cannot be faster)\n",
		"analyses alone: dump --top 20 --histogram", $d->{bytes_read} / $ARGV[1] / 1e3,
		$d->{bytes_read} / 1048576, $ARGV[1]' "$T/floor.json" "$fl_ms"
kill -9 "$tpid" 2>/dev/null || true
fi

if want metrics; then
echo
echo "== Metrics: the cost of a Prometheus scrape of watch --metrics-listen =="
sh "$top/contrib/bench/scrape.sh"
echo "== Metrics: a scrape of watch --cgroup over 100 processes =="
sh "$top/contrib/bench/scrape_cgroup.sh"
fi
