#!/bin/sh
# watch --content against real processes: the new pages of the growing row hold the leaked
# record, ranked above what the older pages held; the read does not make the target grow;
# the budget bounds what is read; nothing grows -> no content; where the words point.
. "$(dirname "$0")/../lib.sh"

sum() { tail -1 "$T/c.json" > "$T/sum.json"; }
c0() { json_get "$T/sum.json" "\$d->{areas}[0]{content}$1"; }

# 1. grow_mmap: 4 MiB of config_entry records before the baseline, user_session after it
start_target grow_mmap -r 4096 -w 4096 -t 120
"$RW" watch -p "$TPID" -i 0.3 -n 6 --content --json > "$T/c.json" 2> "$T/c.err"
is "$?" 0 "mmap: watch --content exits 0"
sum
is "$(json_get "$T/sum.json" '$d->{content}{rows} >= 1 ? 1 : 0')" 1 "mmap: the summary says rows were read"
is "$(c0 '{top_shapes}[0]{text}')" "user_session id=# token=# role=viewer" "mmap: top shape of the new pages is the record that grew"
ok "mmap: new pages counted" test "$(c0 '{new_bytes}')" -gt 1000000
is "$(json_get "$T/sum.json" '$c = $d->{areas}[0]{content}; ($c->{read_bytes} == $c->{new_bytes}) ? 1 : 0')" 1 "mmap: all new pages read within the default budget"
is "$(json_get "$T/sum.json" '$s = $d->{areas}[0]{content}{top_shapes}[0]; $s->{new_per_mib} > $s->{old_per_mib} ? 1 : 0')" 1 "mmap: the record is denser in new pages than in old ones"
is "$(json_get "$T/sum.json" '$c = $d->{areas}[0]{content}; scalar(grep { $_->{text} =~ /^config_entry/ } @{$c->{top_shapes}})')" 0 "mmap: the old pages' record is not in the new pages' shapes"
is "$(json_get "$T/sum.json" 'my $h = $d->{areas}[0]{content}{histogram}; my $s = 0; $s += $_ for @$h; (@$h == 256 && $s == $d->{areas}[0]{content}{read_bytes}) ? 1 : 0')" 1 "mmap: histogram has 256 counts summing to read_bytes"
is "$(json_get "$T/sum.json" 'ref $d->{areas}[0]{content}{points_into} eq "HASH" ? 1 : 0')" 1 "mmap: points_into is an object"
is "$(json_get "$T/sum.json" '(!defined $d->{areas}[0]{content}{pointees} && $d->{areas}[0]{content}{pointer_share} < 0.5) ? 1 : 0')" 1 "mmap: text pages are not mostly pointers: no hop (pointees null)"
is "$(json_get "$T/sum.json" 'defined $d->{areas}[1]{content} ? 1 : 0')" 0 "mmap: flat rows carry no content"
ok "mmap: the summary line stays small" test "$(wc -c < "$T/sum.json")" -lt 65536

# text: the what-grew section after the final ranking
"$RW" watch -p "$TPID" -i 0.3 -n 4 --content --batch > "$T/c.txt" 2>&1
like "$(sed -n '/^what grew/,$p' "$T/c.txt")" 'user_session id=# token=# role=viewer +[0-9.]+ +[0-9.]+' "text: what grew lists the shape with new/old per MiB"
like "$(sed -n '/^what grew/,$p' "$T/c.txt")" 'point into: ' "text: the pointer census line"

# budget
"$RW" watch -p "$TPID" -i 0.3 -n 4 --content --content-budget 256K --json > "$T/c.json" 2> "$T/c.err"
sum
is "$(json_get "$T/sum.json" '$c = $d->{areas}[0]{content}; ($c->{read_bytes} > 0 && $c->{read_bytes} <= 262144) ? 1 : 0')" 1 "budget: read_bytes <= 256K"
is "$(c0 '{sampled} ? 1 : 0')" 1 "budget: says the new pages were sampled"
is "$(c0 '{top_shapes}[0]{text}')" "user_session id=# token=# role=viewer" "budget: the sample still finds the record"

# grep
"$RW" watch -p "$TPID" -i 0.3 -n 3 --content --grep 'role=viewer' --json > "$T/c.json" 2> "$T/c.err"
sum
is "$(c0 '{matches_total} > 0 ? 1 : 0')" 1 "grep: matches in the new pages"
stop_target "$TPID"

# 2. grow_brk grows 1.5 s then stays: the read after the last sample must not add RSS
start_target grow_brk -r 4096 -s 1.5 -t 120
"$RW" watch -p "$TPID" -i 0.3 -n 10 --content --json > "$T/c.json" 2> "$T/c.err" &
WPID=$!
sleep 2.3
before=$(awk '/^VmRSS/ { print $2 }' "/proc/$TPID/status")
wait "$WPID"
after=$(awk '/^VmRSS/ { print $2 }' "/proc/$TPID/status")
sum
is "$(json_get "$T/sum.json" '$d->{areas}[0]{kind}')" "heap" "brk: first row is the heap"
ok "brk: the heap's new pages were read" test "$(c0 '{read_bytes}')" -gt 1000000
is "$(c0 '{top_shapes}[0]{text}')" "user_session id=# token=# role=viewer" "brk: top shape of the new heap pages"
diag "VmRSS before the read ${before} kB, after ${after} kB"
ok "brk: VmRSS unchanged by the read (+/- 64 KiB)" test -n "$before" -a -n "$after" -a $((after - before)) -le 64 -a $((before - after)) -le 64
stop_target "$TPID"

# 3. control: nothing grows
start_target flat -s 32 -t 120
"$RW" watch -p "$TPID" -i 0.2 -n 4 --content --json > "$T/c.json" 2> "$T/c.err"
sum
is "$(json_get "$T/sum.json" 'scalar grep { defined $_->{content} } @{$d->{areas}}')" 0 "flat: no row has content"
is "$(json_get "$T/sum.json" '$d->{content}{note}')" "nothing grew" "flat: the summary says nothing grew"
"$RW" watch -p "$TPID" -i 0.2 -n 3 --content --batch > "$T/c.txt" 2>&1
like "$(cat "$T/c.txt")" 'what grew: nothing grew' "flat: text says nothing grew"
stop_target "$TPID"

# 4. pointers: an array of pointers grows; the records they point to live in another mapping
# (-u: every other pointer points into a read-only mapping never touched, so not resident)
start_target pointer_array -u -r 2048 -t 120
recs=$(ready_field records)
untouched=$(ready_field untouched)
"$RW" watch -p "$TPID" -i 0.3 -n 5 --content --json > "$T/c.json" 2> "$T/c.err"
sum
is "$(json_get "$T/sum.json" "(hex(\$d->{areas}[0]{start}) <= hex('$TADDR') && hex('$TADDR') < hex(\$d->{areas}[0]{end})) ? 1 : 0")" 1 "pointers: first row is the array"
is "$(json_get "$T/sum.json" '$d->{areas}[0]{content}{points_into}{anon} >= 0.99 ? 1 : 0')" 1 "pointers: its words point into another anon mapping"
is "$(json_get "$T/sum.json" '$d->{areas}[0]{content}{points_into}{"this row"} < 0.01 ? 1 : 0')" 1 "pointers: not into the row itself"
is "$(c0 '{pointer_share} >= 0.99 ? 1 : 0')" 1 "pointers: pointer_share says the words are pointers"
is "$(c0 '{pointees}{top_shapes}[0]{text}')" "record n=#" "pointers: one hop names the record the pointers point at"
is "$(json_get "$T/sum.json" "\$d->{areas}[0]{content}{pointees}{mapping}{start} eq '$recs' ? 1 : 0")" 1 "pointers: ... and the mapping that holds it (records=$recs)"
is "$(json_get "$T/sum.json" '$p = $d->{areas}[0]{content}{pointees}{points_into}; ($p->{anon} >= 0.99) ? 1 : 0')" 1 "pointers: the targets live in anon mappings"
is "$(json_get "$T/sum.json" '$p = $d->{areas}[0]{content}{pointees}{mapping}{share}; ($p > 0.3 && $p < 0.7) ? 1 : 0')" 1 "pointers: about half the targets in the records (the others in the untouched mapping: the sample does not alias with the array's period)"
is "$(json_get "$T/sum.json" '$p = $d->{areas}[0]{content}{pointees}; ($p->{targets} > 100 && $p->{window_bytes} > 0 && $p->{read_bytes} <= $d->{areas}[0]{content}{budget} && $p->{window_bytes} <= $p->{targets} * $p->{window}) ? 1 : 0')" 1 "pointers: targets followed, windows bounded, pages read within the budget"
rss_untouched=$(awk -v a="${untouched#0x}" '$1 ~ "^"a"-" { f = 1 } f && /^Rss:/ { print $2; exit }' "/proc/$TPID/smaps")
is "$rss_untouched" 0 "pointers: the hop read no page of the untouched mapping (its Rss stays 0 kB)"
"$RW" watch -p "$TPID" -i 0.3 -n 4 --content --batch > "$T/c.txt" 2>&1
like "$(sed -n '/^what grew/,$p' "$T/c.txt")" 'one hop \(100% of the words point into mappings; followed at >= 50%, a heuristic\)' "pointers text: the one-hop line says the heuristic"
like "$(sed -n '/^what grew/,$p' "$T/c.txt" | sed -n '/pointee shape/{n;p;}')" '^ +record n=# +[0-9]+$' "pointers text: the first pointee shape is the record"
"$RW" watch -p "$TPID" -i 0.3 -n 4 --content --content-budget 256K --json > "$T/c.json" 2> "$T/c.err"
sum
is "$(json_get "$T/sum.json" '$p = $d->{areas}[0]{content}{pointees}; ($p->{read_bytes} > 0 && $p->{read_bytes} <= 262144) ? 1 : 0')" 1 "pointers budget 256K: the targets' pages read stay within it"
is "$(c0 '{pointees}{top_shapes}[0]{text}')" "record n=#" "pointers budget 256K: the record is still named"
stop_target "$TPID"

# 5. the budget is spent: grow_chunks grows in hundreds of 256 KiB mappings (a pool row);
# with more new pages than --content-budget, the pieces read add up to the budget (whole
# pages, about 16 pieces: a page per piece at most short of it), never more
start_target grow_chunks -r 16384 -t 120
"$RW" watch -p "$TPID" -i 0.3 -n 12 --content --content-budget 16M --json > "$T/c.json" 2> "$T/c.err"
sum
diag "grow_chunks: new $(c0 '{new_bytes}') read $(c0 '{read_bytes}') budget $(c0 '{budget}')"
ok "chunks: more new pages than the budget" test "$(c0 '{new_bytes}')" -gt $((16 << 20))
is "$(c0 '{sampled} ? 1 : 0')" 1 "chunks: sampled"
is "$(json_get "$T/sum.json" '$c = $d->{areas}[0]{content}; my $want = $c->{new_bytes} < $c->{budget} ? $c->{new_bytes} : $c->{budget}; ($c->{read_bytes} <= $c->{budget} && $c->{read_bytes} >= $want - 17 * 4096) ? 1 : 0')" 1 "chunks: read_bytes is the budget within a page per piece"
is "$(c0 '{old_read_bytes} <= $d->{areas}[0]{content}{read_bytes} ? 1 : 0')" 1 "chunks: the old-pages sample is no larger than the new one"
is "$(c0 '{top_shapes}[0]{text}')" "user_session id=# token=# role=viewer" "chunks: the sample names the record"
stop_target "$TPID"

# 6. usage
"$RW" watch -p 1 --grep x > /dev/null 2> "$T/u.err"
is "$?" 2 "usage: --grep without --content"
"$RW" watch -p 1 --content --content-budget 1x > /dev/null 2> "$T/u.err"
is "$?" 2 "usage: a bad --content-budget"

done_testing
