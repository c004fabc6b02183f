#!/bin/sh
# dump and analyze against the patterns fixture: content at known addresses, holes, the
# target's RSS unchanged, GNU strings / hexdump compatibility, output files, errors.
. "$(dirname "$0")/../lib.sh"

start_target patterns -t 300
pid=$TPID
area=$TADDR
big=$(ready_field big)
cross=$(ready_field cross)
wide=$(ready_field wide)
guard=$(ready_field guard)
records=$(ready_field records)
hex() { perl -e 'printf "%x", hex($ARGV[0]) + eval($ARGV[1])' "$1" "${2:-0}"; }
area_end=$(hex "$area" '16*1024*1024')
rss_of() { # ADDR: Rss (kB) of the mapping containing ADDR
	perl -e 'my $a = hex($ARGV[1]); my $in = 0; open my $f, "<", "/proc/$ARGV[0]/smaps" or die;
		while (<$f>) { if (/^([0-9a-f]+)-([0-9a-f]+) /) { $in = hex($1) <= $a && $a < hex($2) }
			elsif ($in && /^Rss:\s+(\d+)/) { print $1; exit } }' "$pid" "$1"
}
rss_total() { sed -n 's/^Rss: *\([0-9]*\) kB/\1/p' "/proc/$pid/smaps_rollup"; }

# 1. Strings with addresses, across the 4 MiB chunk boundary.
"$RW" dump -p "$pid" --region "$area-$area_end" --strings > "$T/s.txt" 2> "$T/s.err"
is "$?" 0 "dump --strings exits 0"
like "$(grep -m1 'user_session id=0 ' "$T/s.txt")" "^$(hex "$area") user_session id=0 token=00000000 role=viewer\$" "first record at the area's first address"
like "$(grep CROSS_BOUNDARY "$T/s.txt")" "^$(hex "$cross") CROSS_BOUNDARY_MARKER_0123456789\$" "the string across the 4 MiB boundary, whole, at its address"
like "$(cat "$T/s.err")" "regionwatch: dump: .*read .* pages present, .*not present, .*skipped" "summary on stderr: present, not present, skipped"
"$RW" dump -p "$pid" --region "$area-$area_end" --strings --encoding utf16le > "$T/w.txt" 2>/dev/null
like "$(grep WIDE "$T/w.txt")" "^$(hex "$wide") \\(utf16\\) WIDE_STRING_TEST\$" "UTF-16LE string at its address"

# 2. The target's RSS does not change when its never-touched pages are skipped.
before=$(rss_of "$big"); before_total=$(rss_total)
"$RW" dump -p "$pid" --region "$big" --json > "$T/big.json" 2>/dev/null
is "$?" 0 "dump of the 64 GiB NORESERVE mapping exits 0"
is "$(json_get "$T/big.json" '$d->{pages_present}')" 4 "64 GiB mapping: 4 pages present"
is "$(json_get "$T/big.json" '$d->{bytes_read}')" 16384 "64 GiB mapping: 16 KiB read, nothing else"
is "$(rss_of "$big")" "$before" "64 GiB mapping: the target's RSS for it is unchanged ($before kB)"
is "$(rss_total)" "$before_total" "the target's total RSS is unchanged"
"$RW" dump -p "$pid" --region "$area-$area_end" --histogram > /dev/null 2>&1
after13=$(rss_total)
is "$after13" "$before_total" "dumping the area with its untouched MiB does not fault it in"

# 3. Output files: sparse, mode 0600, manifest, no overwrite, and GNU compatibility.
mkdir "$T/out"
"$RW" dump -p "$pid" --region "$big" -o "$T/out/big.bin" 2>/dev/null
is "$?" 0 "dump -o of the 64 GiB mapping"
is "$(stat -c %s "$T/out/big.bin")" 68719476736 "apparent size 64 GiB (offset = address - start)"
ok "sparse: under 1 MiB on disk" test "$(du -k "$T/out/big.bin" | cut -f1)" -lt 1024
is "$(stat -c %a "$T/out/big.bin")" 600 "dump file mode 0600"
is "$(json_get "$T/out/big.bin.json" 'scalar @{$d->{runs_read}}')" 4 "manifest lists the 4 runs read"
is "$(json_get "$T/out/big.bin.json" '$d->{pages_skipped_by_reason}{"not present"}')" $((16 * 1024 * 1024 - 4)) "manifest: pages not present"
is "$(dd if="$T/out/big.bin" bs=1 skip=$((32 * 1024 * 1024 * 1024 + 4096)) count=13 2>/dev/null)" "SPARSE_PAGE_2" "bytes at offset = address - start"
"$RW" dump -p "$pid" --region "$big" -o "$T/out/big.bin" 2> "$T/err"
is "$?" 1 "existing dump file: exit 1"
like "$(cat "$T/err")" "file exists \\(use --force" "existing dump file: says so"
"$RW" dump -p "$pid" --region "$area-$area_end" -o "$T/out/area.bin" 2>/dev/null
is "$(ls -A "$T/out" | sort | tr '\n' ' ')" "area.bin area.bin.json big.bin big.bin.json " "no temporary files left"
for n in 4 8; do
	"$RW" dump -p "$pid" --region "$area-$area_end" --strings=gnu -n $n > "$T/g.txt" 2>/dev/null
	strings -a -n $n "$T/out/area.bin" > "$T/ref.txt"
	ok "--strings=gnu -n $n is byte-identical to strings -a -n $n of the dump" cmp -s "$T/g.txt" "$T/ref.txt"
done
"$RW" analyze "$T/out/area.bin" --strings=gnu -t x > "$T/g.txt"
strings -a -t x "$T/out/area.bin" > "$T/ref.txt"
ok "analyze --strings=gnu -t x = strings -a -t x" cmp -s "$T/g.txt" "$T/ref.txt"
"$RW" analyze "$T/out/area.bin" --strings=gnu --encoding utf16le > "$T/g.txt"
strings -a -e l "$T/out/area.bin" > "$T/ref.txt"
ok "analyze --strings=gnu --encoding utf16le = strings -a -e l" cmp -s "$T/g.txt" "$T/ref.txt"
sub_end=$(hex "$area" '4*1024*1024+65536')
sub_start=$(hex "$area" '4*1024*1024-65536')
"$RW" dump -p "$pid" --region "$sub_start-$sub_end" -o "$T/out/sub.bin" 2>/dev/null
"$RW" dump -p "$pid" --region "$sub_start-$sub_end" --hexdump --offsets file > "$T/h.txt" 2>/dev/null
hexdump -C "$T/out/sub.bin" > "$T/ref.txt"
ok "--hexdump --offsets file is byte-identical to hexdump -C of the dump" cmp -s "$T/h.txt" "$T/ref.txt"
"$RW" dump -p "$pid" --region "$sub_start-$sub_end" --hexdump > "$T/h.txt" 2>/dev/null
like "$(grep -m1 CROSS "$T/h.txt")" "^0*$(hex "$cross")  " "--hexdump offsets are target addresses"
"$RW" analyze "$T/out/area.bin" --hexdump --base "$area" > "$T/h.txt"
ok "a hole reads as squeezed zeros in the hexdump" grep -q "^\\*\$" "$T/h.txt"

# An unaligned START-END: exactly those bytes, at their addresses.
u0=$(hex "$area" 5); u1=$(hex "$area" 37)
"$RW" dump -p "$pid" --region "$u0-$u1" -o "$T/out/u.bin" 2>/dev/null
is "$(stat -c %s "$T/out/u.bin")" 32 "unaligned range: a 32-byte dump"
is "$(cat "$T/out/u.bin")" "session id=0 token=00000000 role" "unaligned range: exactly those bytes"
like "$("$RW" dump -p "$pid" --region "$u0-$u1" --hexdump 2>/dev/null | head -1)" "^0*$u0  73 65 73 73" "unaligned range: hexdump starts at START"
"$RW" dump -p "$pid" --region "$big" -o /dev/null --force 2> "$T/err"
is "$?" 1 "-o onto a device: refused"
like "$(cat "$T/err")" "not a regular file" "-o onto a device: says why"

# 4. Repeated strings and shapes.
"$RW" dump -p "$pid" --region "$area-$area_end" --top 3 --json > "$T/top.json" 2>/dev/null
is "$(json_get "$T/top.json" '$d->{top_shapes}[0]{shape}')" "user_session id=# token=# role=viewer" "top shape is the record shape"
ok "its count is the number of records (within the one the marker overwrote)" \
	test "$(json_get "$T/top.json" "abs(\$d->{top_shapes}[0]{count} - $records) <= 2 ? 1 : 0")" = 1
"$RW" dump -p "$pid" --region "$area-$area_end" --top 3 > "$T/top.txt" 2>/dev/null
like "$(cat "$T/top.txt")" "top 3 shapes" "text output names the shapes table"

# 5. Histogram and block classes.
"$RW" dump -p "$pid" --region "$area-$area_end" --histogram --json > "$T/hist.json" 2>/dev/null
is "$(json_get "$T/hist.json" 'scalar @{$d->{histogram}}')" 256 "256 byte counts"
ok "blocks: text, pattern, high-entropy and zeros all seen" test "$(json_get "$T/hist.json" '$b=$d->{blocks}; ($b->{text} > 0 && $b->{pattern} > 0 && $b->{"high-entropy"} > 0 && $b->{zeros} > 0) ? 1 : 0')" = 1
is "$(json_get "$T/hist.json" '(grep { $_->{class} eq "pattern" } @{$d->{block_runs}})[0]{period}')" 4 "the ABCD block has period 4"
is "$(json_get "$T/hist.json" '$d->{pages_skipped_by_reason}{skipped}')" 1 "the guard page is skipped, not read"
# With --top the histogram runs on the counting thread, fed from the kept buffers: the same
# counts, blocks and runs over the same holes as alone.
"$RW" dump -p "$pid" --region "$area-$area_end" --top 5 --histogram --json > "$T/th.json" 2>/dev/null
hist_of() { json_get "$1" 'join " ", @{$d->{histogram}}, map({ "$_=$d->{blocks}{$_}" } sort keys %{$d->{blocks}}), map({ join ",", map { $_ // "-" } @$_{qw(start end class blocks period entropy_min entropy_max)} } @{$d->{block_runs}}), $d->{entropy}'; }
is "$(hist_of "$T/th.json" | md5sum)" "$(hist_of "$T/hist.json" | md5sum)" "--top --histogram: the histogram, blocks and block runs of --histogram alone"
# Alone, the reading thread counts a share of the pieces and the delivering one the rest;
# on one thread (RW_NO_READER_THREAD), beside --strings (the histogram all on the reading
# thread), and from the dump file, the results are the same.
RW_NO_READER_THREAD=1 "$RW" dump -p "$pid" --region "$area-$area_end" --histogram --json > "$T/h1.json" 2>/dev/null
is "$(hist_of "$T/h1.json" | md5sum)" "$(hist_of "$T/hist.json" | md5sum)" "--histogram on one thread: the same histogram, blocks and runs"
"$RW" dump -p "$pid" --region "$area-$area_end" --histogram --strings --json -o "$T/h.bin" > "$T/hs.json" 2>/dev/null
is "$(hist_of "$T/hs.json" | md5sum)" "$(hist_of "$T/hist.json" | md5sum)" "--histogram --strings: the same histogram, blocks and runs"
"$RW" dump -p "$pid" --region "$area-$area_end" --histogram --json -o "$T/h2.bin" --force > "$T/ho.json" 2>/dev/null
is "$(hist_of "$T/ho.json" | md5sum)" "$(hist_of "$T/hist.json" | md5sum)" "--histogram -o FILE: the same histogram, blocks and runs"

# 6. grep across the chunk boundary.
"$RW" dump -p "$pid" --region "$area-$area_end" --grep 'CROSS_BOUNDARY_MARKER_\d+' --json > "$T/g.json" 2>/dev/null
is "$(json_get "$T/g.json" '$d->{matches_total}')" 1 "grep: one match"
is "$(json_get "$T/g.json" '$d->{matches}[0]{address}')" "0x$(hex "$cross")" "grep: at the marker's address"

# 7. --freeze leaves nothing stopped or traced.
"$RW" dump -p "$pid" --region "$area-$area_end" --freeze --histogram > /dev/null 2> "$T/f.err"
is "$?" 0 "--freeze exits 0"
like "$(cat "$T/f.err")" "stopping every thread of $pid" "--freeze says it stops the target first"
like "$(cat "$T/f.err")" "target stopped for [0-9.]+ ms" "--freeze says for how long"
is "$(grep -h TracerPid /proc/$pid/task/*/status | grep -vc 'TracerPid:[[:space:]]*0$')" 0 "after --freeze: no thread traced"
like "$(proc_state "$pid")" "^[RSD]$" "after --freeze: the target runs, not stopped"

# 8. Under strace: no write to the target, no ATTACH, no EXITKILL, no signal to it.
if command -v strace > /dev/null; then
	strace -f -qq -o "$T/strace.log" -e trace=process_vm_writev,ptrace,kill,tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal \
		"$RW" dump -p "$pid" --region "$area-$area_end" --freeze --strings > /dev/null 2>&1
	is "$(grep -c process_vm_writev "$T/strace.log")" 0 "strace: no process_vm_writev"
	is "$(grep -cE 'PTRACE_(POKE|ATTACH|SETREGS|SETOPTIONS)' "$T/strace.log")" 0 "strace: no POKE, ATTACH, SETREGS, SETOPTIONS"
	is "$(grep -c 'EXITKILL' "$T/strace.log")" 0 "strace: no PTRACE_O_EXITKILL"
	is "$(grep -E '^[0-9]+ +(kill|tgkill|tkill|rt_sigqueueinfo|rt_tgsigqueueinfo|pidfd_send_signal)\(' "$T/strace.log" | grep -c "$pid")" 0 "strace: no signal sent to the target"
	ok "strace: the freeze used PTRACE_SEIZE and PTRACE_INTERRUPT" grep -q 'PTRACE_SEIZE' "$T/strace.log"
else
	skip "strace not installed: strace case not run"
fi

# 9. Errors.
"$RW" dump -p "$pid" --region 0x10 2> "$T/err"; is "$?" 1 "unmapped address: exit 1"
like "$(cat "$T/err")" "no mapping contains this address" "unmapped address: says so"
"$RW" dump -p "$pid" --region libc.so.6 --strings 2> "$T/err"; is "$?" 2 "ambiguous name: exit 2"
like "$(cat "$T/err")" "ambiguous: .* mappings match \\(" "ambiguous name: lists candidates"
"$RW" dump -p 2147483 --region 0x10 2> /dev/null; is "$?" 1 "no such process: exit 1"
"$RW" dump -p "$pid" 2> /dev/null; is "$?" 2 "no --region: exit 2"
"$RW" dump -p "$pid" --region "$big" --hexdump --json 2> /dev/null; is "$?" 2 "--hexdump --json: exit 2"
"$RW" dump -p "$pid" --region "$big" --grep '(' 2> "$T/err"; is "$?" 2 "bad regex: exit 2"
like "$(cat "$T/err")" "--grep '\\(':" "bad regex: says which"
mkdir "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$T/full" 2>/dev/null; then
	MOUNTS="$T/full"
	"$RW" dump -p "$pid" --region "$area-$area_end" -o "$T/full/d.bin" 2> "$T/err"
	is "$?" 1 "full disk: exit 1"
	like "$(cat "$T/err")" "No space left on device" "full disk: says so"
	is "$(ls -A "$T/full")" "" "full disk: no file left"
	mount -o remount,ro "$T/full"
	"$RW" dump -p "$pid" --region "$big" -o "$T/full/d.bin" 2> "$T/err"
	is "$?" 1 "read-only directory: exit 1"
	umount "$T/full"; MOUNTS=""
else
	skip "full-disk case not run: needs root to mount a small tmpfs"
fi

# 9b. Ranges that reach the top of the address space: no wrap, the same bytes as the
# user half, and holes cost O(runs) (the histogram used to walk every 64 KiB of the span).
"$RW" dump -p "$pid" --region 0x0-0x7fffffffffff --histogram --json > "$T/half.json" 2>/dev/null
is "$?" 0 "0-0x7fffffffffff --histogram: exit 0"
"$RW" dump -p "$pid" --region 0x0-0xffffffffffffffff --histogram --json > "$T/all.json" 2>/dev/null
is "$?" 0 "0-0xffffffffffffffff --histogram: exit 0 (read, not wrapped to nothing)"
is "$(json_get "$T/all.json" '$d->{bytes_read}')" "$(json_get "$T/half.json" '$d->{bytes_read}')" \
	"... reads the same bytes as the user half"
ok "... and counts the unmapped 64 KiB blocks without walking them" \
	test "$(json_get "$T/all.json" '$d->{blocks}{unread} > 2**43 ? 1 : 0')" = 1
head -c 100000 /dev/urandom > "$T/rand.bin"
"$RW" analyze "$T/rand.bin" --base 0xffffffffffff0000 --histogram > /dev/null 2> "$T/err"
is "$?" 2 "analyze --base past the top of the address space: exit 2"
like "$(cat "$T/err")" "would pass the top of the address space" "... says so"
"$RW" analyze "$T/rand.bin" --base 0xfffffffffffe7960 --histogram --json > "$T/a.json" 2>/dev/null
is "$(json_get "$T/a.json" '$d->{bytes_counted}')" 100000 "analyze --base ending exactly at 2^64: every byte"
is "$(json_get "$T/a.json" '$d->{region}{end}')" 0x10000000000000000 "... and the region ends at 2^64, not 0"

# 10. analyze on a file taken by gdb (the manual workflow's dump).
if command -v gdb > /dev/null; then
	s=$(hex "$area"); e=$(hex "$area" '1024*1024')
	gdb -q -batch -p "$pid" -ex "dump binary memory $T/gdb.bin 0x$s 0x$e" > /dev/null 2>&1
	"$RW" analyze "$T/gdb.bin" --base "$s" --top 1 --json > "$T/a.json"
	is "$(json_get "$T/a.json" '$d->{top_shapes}[0]{shape}')" "user_session id=# token=# role=viewer" "analyze of a gdb dump finds the record shape"
	like "$(proc_state "$pid")" "^[RSD]$" "the target runs on after gdb detached"
fi
"$RW" analyze "$T/nonexistent" --strings 2> /dev/null; is "$?" 1 "analyze of a missing file: exit 1"
"$RW" analyze "$T/out/area.bin" 2> /dev/null; is "$?" 2 "analyze with nothing to do: exit 2"

# 11. --region top picks the growing area.
stop_target "$pid"
start_target grow_brk -r 4096 -t 120
"$RW" dump -p "$TPID" --region top --histogram > /dev/null 2> "$T/top.err"
is "$?" 0 "--region top exits 0"
like "$(cat "$T/top.err")" "--region top: [0-9a-f]+-[0-9a-f]+ \\(growing heap" "--region top picks the growing heap"
heap=$(sed -n 's/.*top: \([0-9a-f]*\)-.*/\1/p' "$T/top.err")
like "$(grep '\[heap\]' /proc/$TPID/maps)" "^0*$heap-" "... and the span it read starts where [heap] starts now"
stop_target "$TPID"

# 12. Nothing grows: --region top says so and exits 1 (it used to pick a flat file mapping).
start_target flat -s 64 -t 120
"$RW" dump -p "$TPID" --region top --histogram > "$T/top.out" 2> "$T/top.err"
is "$?" 1 "--region top where nothing grows: exit 1"
like "$(cat "$T/top.err")" "--region top: nothing grows \\([0-9]+ samples" "... says nothing grows"
is "$(cat "$T/top.out")" "" "... and prints no analysis"

# 12b. --new: only the pages that became resident during a 2 s watch are read. The heap
# grows 2 s first, so about half of it is old when --new starts.
start_target grow_brk -r 4096 -t 120
sleep 2
"$RW" dump -p "$TPID" --region '[heap]' --new --top 2 --json -o "$T/out/new.bin" > "$T/new.json" 2> "$T/new.err"
is "$?" 0 "--new on [heap]: exit 0"
like "$(cat "$T/new.err")" "--new: [0-9]+ pages in [0-9]+ runs? became resident during the watch" "--new: says how much is new"
heap_rss=$(awk '/\[heap\]/ { f = 1 } f && /^Rss:/ { print $2 * 1024; exit }' /proc/$TPID/smaps)
read_new=$(json_get "$T/new.json" '$d->{bytes_read}')
ok "--new: read the new pages only ($read_new bytes of a $heap_rss-byte [heap])" \
	test "$read_new" -gt 1000000 -a "$read_new" -lt $((heap_rss * 3 / 4))
is "$(json_get "$T/new.json" '$d->{top_shapes}[0]{shape}')" "user_session id=# token=# role=viewer" \
	"--new: the records written during the watch"
ok "--new -o: a sparse file holding the new pages at their offsets" \
	test "$(du -k "$T/out/new.bin" | cut -f1)" -lt "$(( $(stat -c %s "$T/out/new.bin") / 1024 ))"
rm -f "$T/out/new.bin" "$T/out/new.bin.json"
stop_target "$TPID"
start_target flat -s 16 -t 120
"$RW" dump -p "$TPID" --region "$TADDR" --new --top 2 > /dev/null 2> "$T/new.err"
is "$?" 1 "--new where nothing became resident: exit 1"
like "$(cat "$T/new.err")" "--new: no page of [0-9a-f]+-[0-9a-f]+ became resident during the 2 s watch" "... says so"
stop_target "$TPID"

# 13. A read that gets none of the bytes asked for exits 1 and says why (no file kept).
# The reservation tail of grow_mmap is PROT_NONE and never touched: not one page present.
stop_target "$TPID"
start_target grow_mmap -r 1024 -m 256 -t 120
tail_start=$(awk -v a="$(ready_field addr | sed 's/^0x//')" '$1 ~ "^"a"-" { split($1, r, "-"); getline; split($1, t, "-"); print t[1]; exit }' /proc/$TPID/maps)
"$RW" dump -p "$TPID" --region "0x$tail_start-0x$(printf %x $((0x$tail_start + 1048576)))" --histogram \
	-o "$T/out/none.bin" > /dev/null 2> "$T/none.err"
is "$?" 1 "a dump that reads nothing: exit 1"
like "$(cat "$T/none.err")" "read nothing from $tail_start-[0-9a-f]+ \\(pages: 256 (skipped|not present)\\); no file written" \
	"... says why, page by page"
ok "... and leaves no file" test ! -e "$T/out/none.bin"
done_testing
