#!/bin/sh
# Slow: diff of two 10^6-region inputs (220 MiB of smaps text each) stays within its memory
# bound, 64 MiB peak RSS (design §7), in the default view, --all and --json --all. A bound a
# loaded machine meets too; no time is asserted. Run by `make check-slow`.
. "$(dirname "$0")/../lib.sh"
[ -x /usr/bin/time ] || skip_all "needs GNU time (/usr/bin/time) for the peak RSS"
G="$RW_TOP/contrib/bench/gen_smaps.sh"
sh "$G" 1000000 a > "$T/a.snap"
sh "$G" 1000000 b > "$T/b.snap"
for mode in "" "--all" "--json --all" "--json --sort addr --all"; do
	/usr/bin/time -f %M -o "$T/rss" "$RW" diff $mode "$T/a.snap" "$T/b.snap" > "$T/out" 2> "$T/err"
	is "$?" 0 "diff $mode of 10^6 regions: exit 0"
	kib=$(tail -1 "$T/rss")
	ok "... peak RSS $kib KiB <= 64 MiB" test "$kib" -le 65536
done
like "$(grep '^  vmas' "$T/out" || tail -c 120 "$T/out")" "1000000" "... every region was read"
# a pipe: the same bound, read in pieces
cat "$T/b.snap" | /usr/bin/time -f %M -o "$T/rss" "$RW" diff "$T/a.snap" - > "$T/out" 2> "$T/err"
is "$?" 0 "diff with B from a pipe: exit 0"
kib=$(tail -1 "$T/rss")
ok "... peak RSS $kib KiB <= 64 MiB" test "$kib" -le 65536
# 1.1 GB from a pipe (blank lines: read to the limit, never held) is refused at 1 GiB
yes '' | head -c 1100000000 | /usr/bin/time -f %M -o "$T/rss" "$RW" diff "$T/a.snap" - > "$T/out" 2> "$T/err"
is "$?" 1 "1.1 GB from a pipe: exit 1"
like "$(cat "$T/err")" "-: more than 1073741824 bytes of input: refused" "... refused at the 1 GiB limit"
kib=$(tail -1 "$T/rss")
ok "... peak RSS $kib KiB <= 64 MiB (the input is not held)" test "$kib" -le 65536
done_testing
