#!/bin/sh
# The monitor's d on a pool row: the pool's members are dumped, not the span between its
# first and last member (which holds other mappings: here libc, between the chunks and the
# flat buffer). grow_chunks: 256 KiB chunks with a hole between each two. A real terminal:
# tmux on a private socket, send-keys, capture-pane; waits for screen content with deadlines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
perl -MJSON::PP -e 1 2>/dev/null || skip_all "perl JSON::PP not installed"
wait_file() { # FILE SECONDS
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}
# Clear the prompt's proposed name and type another.
type_name() {
	for i in $(seq 80); do TM send-keys BSpace; done
	TM send-keys "$1" Enter
}

start_target grow_chunks -r 2048 -t 120
pid=$TPID
# wide, so that the status line after the dump is not cut
new_session "cd '$T' && env TERM=xterm LANG=C '$RW' -p $pid -i 0.3 --ascii; echo EXIT=\$?; sleep 60" 220 30
ok "the monitor starts" wait_for "^regionwatch +pid $pid \\(grow_chunks\\)" 10
ok "the pool is the first row" wait_for "^[0-9a-f]+-[0-9a-f]+ .* growing +anon-chunks +\\+ \\[pool: anonymous rw-p mappings" 15

TM send-keys g d
ok "d on the pool row asks for a file for its members" wait_for "dump the pool's [0-9]+ members to \\(Esc cancels\\): regionwatch-$pid-anon-chunks-[0-9a-f]+\\.bin" 10
type_name pool.bin
ok "the dump is written" wait_file "$T/pool.bin.json" 15
ok "the status line says members, bytes read and holes" wait_for "wrote pool\\.bin \\+\\.json: [0-9]+ pool members in [0-9]+ ranges, [0-9.]+M read; holes: [0-9]+ gaps between members" 10
diag "$(screen | grep '^wrote')"
is "$(stat -c %a "$T/pool.bin" 2>/dev/null)" 600 "the dump has mode 0600"
is "$(stat -c %a "$T/pool.bin.json" 2>/dev/null)" 600 "... and so has its manifest"

M="$T/pool.bin.json"
start=$(json_get "$M" '$d->{region}{start}')
end=$(json_get "$M" '$d->{region}{end}')
like "$(json_get "$M" '$d->{region}{path}')" "^\\[pool: anonymous rw-p mappings, [0-9]+ areas\\]\$" "the manifest names the pool"
is "$(json_get "$M" '$d->{pid}')" "$pid" "... and the process"
is "$(json_get "$M" '$d->{frozen} ? "yes" : "no"')" no "... not frozen"
is "$(json_get "$M" '$d->{runs_read_truncated} ? "yes" : "no"')" no "... every run read listed"

# The members: the target's anonymous rw-p mappings without a name, in the dumped span.
# (Chunks are never unmapped, so what the dump saw is still in the map.)
cp "/proc/$pid/maps" "$T/maps"
# maps_in KIND: "start end path" (decimal) of the mappings in [start, end) that are members
# (KIND m) or not (KIND o)
maps_in() {
	perl -ne 'BEGIN { ($k, $s, $e) = (shift, hex(shift), hex(shift)) }
		my @f = split; my ($a, $b) = map { hex } split /-/, $f[0];
		next unless $a >= $s && $b <= $e;
		my $m = $f[1] eq "rw-p" && @f == 5;
		print "$a $b ", ($f[5] // ""), "\n" if ($k eq "m") == !!$m' "$1" "$start" "$end" "$T/maps"
}
members() { maps_in m; }
others() { maps_in o; }
members > "$T/members"
others > "$T/others"
ok "the span holds members ($(wc -l < "$T/members"))" test -s "$T/members"
ok "the span holds other mappings than the members (so a span dump would read them): $(wc -l < "$T/others")" test -s "$T/others"
diag "not members, in the span: $(awk '{ print $3 }' "$T/others" | sort -u | tr '\n' ' ')"

# Every run read lies inside a member; none touches another mapping.
perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $d = decode_json(<$f>);
	for (@{$d->{runs_read}}) { printf "%d %d\n", hex($_->[0]), hex($_->[1]) }' "$M" > "$T/runs"
ok "the manifest lists runs read ($(wc -l < "$T/runs"))" test -s "$T/runs"
outside=$(awk 'NR == FNR { ms[NR] = $1; me[NR] = $2; n = NR; next }
	{ in_one = 0; for (i = 1; i <= n; i++) if ($1 >= ms[i] && $2 <= me[i]) in_one = 1; if (!in_one) c++ }
	END { print c + 0 }' "$T/members" "$T/runs")
is "$outside" 0 "every run read lies inside a member"
touching=$(awk 'NR == FNR { os[NR] = $1; oe[NR] = $2; n = NR; next }
	{ for (i = 1; i <= n; i++) if ($1 < oe[i] && $2 > os[i]) c++ }
	END { print c + 0 }' "$T/others" "$T/runs")
is "$touching" 0 "no run read overlaps a mapping that is not a member (libc, ld.so, the stack...)"
runs_bytes=$(awk '{ s += $2 - $1 } END { printf "%.0f", s }' "$T/runs")
is "$(json_get "$M" '$d->{bytes_read}')" "$runs_bytes" "bytes_read is the bytes of the runs read"
member_bytes=$(awk '{ s += $2 - $1 } END { printf "%.0f", s }' "$T/members")
ok "... no more than the members hold ($runs_bytes <= $member_bytes)" test "$runs_bytes" -le "$member_bytes"

# In the file: a chunk's bytes at its offset, and holes (zeros) where libc is.
first=$(ready_field addr)
off=$(( first - start ))
ok "a chunk's records are at its offset in the file" sh -c "dd if='$T/pool.bin' bs=4096 skip=$((off / 4096)) count=1 2>/dev/null | grep -aq 'user_session id='"
lib=$(awk '$3 ~ /libc/ { print $1; exit }' "$T/others")
if [ -n "$lib" ]; then
	is "$(dd if="$T/pool.bin" bs=4096 skip=$(( (lib - start) / 4096 )) count=1 2>/dev/null | tr -d '\0' | wc -c)" 0 "libc's first page is a hole in the file (not read: not a member)"
else
	ok "libc lies in the span" false
fi
is "$(stat -c %s "$T/pool.bin")" "$(( end - start ))" "the file is the span long (sparse: offset = address - start)"

# The same name again: not replaced.
TM send-keys d
ok "d again" wait_for "dump the pool's [0-9]+ members to" 10
type_name pool.bin
ok "an existing dump is not replaced" wait_for "pool\\.bin exists: not replaced" 10

# A member row: that mapping alone.
TM send-keys g + Right
ok "+ and Right select the first member" wait_for " \\|-( |$)" 10
TM send-keys d
ok "d on a member asks for one area's file" wait_for "^dump to \\(Esc cancels\\): regionwatch-$pid-[0-9a-f]+\\.bin" 10
type_name member.bin
ok "the member's dump is written" wait_file "$T/member.bin.json" 15
ok "... and said" wait_for "wrote member\\.bin \\+\\.json: [0-9.]+[KM] read of [0-9.]+[KM]; holes: " 10
mstart=$(json_get "$T/member.bin.json" 'hex($d->{region}{start})')
mend=$(json_get "$T/member.bin.json" 'hex($d->{region}{end})')
is "$(awk -v s="$mstart" -v e="$mend" '$1 == s && $2 == e' "$T/members" | wc -l)" 1 "its manifest's region is one member"

TM send-keys q
ok "q quits" wait_for "^EXIT=0\$" 10
like "$(proc_state "$pid")" "^[RSD]$" "the target runs on"
TM kill-server
stop_target "$pid"
done_testing
