#!/bin/sh
# The monitor's pool rows (expand into members, selection kept) and its New tab (what the
# row's pages that became resident since the baseline hold), in a real terminal: tmux on a
# private socket, send-keys, capture-pane. Waits for screen content with deadlines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
# The selected table row (drawn in reverse video): its line number and its text.
# tmux -e output carries attributes over line ends, so the state is followed through
# the whole capture; line 4 (the column header) is always reversed.
sel_line() {
	TM capture-pane -p -e | perl -ne 'BEGIN { $r = 0 } chomp; my ($s, $first, $plain) = ($_, undef, "");
		while (length $s) {
			if ($s =~ s/^\e\[([0-9;]*)m//) {
				for my $c (split /;/, $1 eq "" ? "0" : $1) { $r = 0 if $c == 0 || $c == 27; $r = 1 if $c == 7 }
			} else { $s =~ s/^(.)//s; $first //= $r; $plain .= $1 }
		}
		print "$.:$plain\n" if $first && $. > 4 && $. < 24' | head -1
}
wait_sel() { wait_match sel_line "$1" "$2"; } # ERE SECONDS: until the selected row matches
up_of() { screen | sed -n '1s/.* up \([0-9]*\)s.*/\1/p'; }
wait_up() { # SECONDS: until the header's uptime passed it
	i=0
	while [ "$(up_of)" -le "$1" ] 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 150 ] && return 1
		sleep 0.1
	done
}

# 1. grow_chunks: 256 KiB mappings, each born full, so the growth is a pool's (anon-chunks)
start_target grow_chunks -r 2048 -t 120
pid=$TPID
new_session "env TERM=xterm-256color LANG=C.UTF-8 '$RW' -p $pid -i 0.3; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '; echo; sleep 60"
ok "the monitor starts" wait_for "^regionwatch +pid $pid \\(grow_chunks\\)" 10
ok "the pool is the first row, collapsed (+), kind anon-chunks" wait_for "^[0-9a-f]+ +[0-9.]+M .* growing +anon-chunks +\\+ " 15
is "$(screen | sed -n '5p' | grep -c 'anon-chunks')" 1 "... on the first table line"
is "$(screen | grep -c '├─')" 0 "collapsed: no member rows"
TM send-keys g +
ok "+ expands it: the marker turns to -" wait_for "growing +anon-chunks +- " 10
ok "... and its members follow, indented" wait_for "^[0-9a-f]+ +[0-9.]+[KM] .* ├─" 10
members=$(screen | sed -n '6,23p' | grep -c -e '├─' -e '└─')
ok "... one row per member on screen ($members)" test "$members" -ge 3
# (the chunks born since the baseline rank first: wait until three were)
# (the flat 32M buffer is a member too and may sort among them: chunks by their size)
first3() { screen | sed -n '6,23p' | grep -e '├─' | grep -E '^[0-9a-f]+ +256K ' | head -3 | tr '\n' ' '; }
i=0
while ! first3 | grep -Eq "^([0-9a-f]+ +256K +[-+0-9.KM]+ +([-+0-9.KM]+/s|—) .*├─ +){3}" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
like "$(first3)" "^([0-9a-f]+ +256K +[-+0-9.KM]+ +([-+0-9.KM]+/s|—) .*├─ +){3}" "each member with its own RSS, delta and rate"
ok "the flat 32 MiB buffer is one of the members" wait_for "^[0-9a-f]+ +32M +0 .* anon +├─" 10
like "$(screen | sed -n '5,$p' | grep -m1 -n '├─' | cut -d: -f1)" "^2\$" "members start right under the pool row"

# The selection stays on the same member while new chunks are born before it: the last
# member (└─) is a chunk from before the baseline, and new ones rank above it.
TM send-keys G
i=0
while ! sel_line | grep -q '└─'; do
	TM send-keys k
	i=$((i + 1))
	[ $i -gt 60 ] && break
	sleep 0.15
done
first=$(sel_line)
diag "selected: $first"
like "$first" "^[0-9]+:[0-9a-f]+ .*└─" "G and k put the selection on the last member"
addr=$(printf '%s' "$first" | sed 's/^[0-9]*:\([0-9a-f]*\) .*/\1/')
areas1=$(screen | sed -n '3s/.* areas \([0-9]*\) .*/\1/p')
u=$(up_of)
wait_up $((u + 2))
later=$(sel_line)
areas2=$(screen | sed -n '3s/.* areas \([0-9]*\) .*/\1/p')
like "$later" "^[0-9]+:$addr .*└─" "2 s of samples later the selection is still on it ($addr)"
ok "... though members were born meanwhile (areas $areas1, then $areas2)" test "${areas2:-0}" -gt "${areas1:-0}"

# Left on a member collapses the pool and selects its row; Right expands, Right again steps in.
TM send-keys Left
ok "Left on a member collapses its pool" wait_for "growing +anon-chunks +\\+ " 10
ok "... and the pool row is selected" wait_sel "anon-chunks +\\+ " 5
is "$(screen | grep -c '├─')" 0 "... no member rows left"
TM send-keys Right
ok "Right expands" wait_for "growing +anon-chunks +- .*" 10
TM send-keys Right
ok "Right again selects the first member" wait_sel "├─" 5
TM send-keys -
ok "- on a member collapses too" wait_for "growing +anon-chunks +\\+ " 10
TM send-keys '*'
ok "* expands every pool row" wait_for "every pool row expanded" 10
ok "... with its members" wait_for "├─" 10
TM send-keys '*'
ok "* again collapses them" wait_for "growing +anon-chunks +\\+ " 10

# The New tab of the pool row: its members' new pages hold the leaked record.
TM send-keys g Enter
ok "Enter on the pool row opens the region view" wait_for " 1 Hex +2 Strings .* 6 New" 10
TM send-keys 6
ok "New tab: for the pool row, all its members" wait_for "^row: \\[pool: anonymous rw-p mappings, [0-9]+ areas\\]" 10
ok "New tab: new bytes and what was read" wait_for "^new pages \\(resident now, not then\\): [0-9.]+[KM]; [0-9.]+[KM] of them read" 15
ok "New tab: the leaked record is the top shape, with new and old per MiB" wait_for "^ *[0-9.]+ +[0-9.]+ +user_session id=# token=# role=viewer\$" 10
like "$(screen | grep -A1 'top strings of the new pages' | tail -1)" "^ +[0-9]+~? user_session id=[0-9]+ token=[0-9a-f]+ role=viewer\$" "New tab: top strings with their counts"
like "$(screen)" "point into: " "New tab: where the words point"
like "$(screen | sed -n '4,7p' | tr '\n' ' ')" "^baseline [0-9]+s ago; read [0-9]+s ago, r reads again .* compared with [0-9.]+[KM] of older pages" "New tab: when the baseline was and when it was read; the older pages compared"
like "$(screen | sed -n 5p)" "^baseline: sample 1, pagemap of [0-9]+ areas at [0-9]{2}:[0-9]{2}:[0-9]{2}, \\+[0-9]+ ms, took [0-9]+ ms\$" "New tab: the baseline's sample, when its present pages were recorded (after the first screen) and in how long"
ok "the read's age goes up (no read by itself)" wait_for "read [3-9]s ago, r reads again" 15
TM send-keys r
ok "r reads again" wait_for "read [01]s ago, r reads again" 10
TM send-keys q
ok "q goes back to the table" wait_for "^START" 10

quit_and_check "$pid"
stop_target "$pid"

# 2. grow_mmap -w: old pages hold config_entry records, the pages that grow user_session.
start_target grow_mmap -r 4096 -w 4096 -t 120
pid=$TPID
new_session "env TERM=xterm LANG=C '$RW' -p $pid -i 0.3 --ascii; echo EXIT=\$?; sleep 60"
ok "grow_mmap: the growing area is the first row" wait_for "^[0-9a-f]+ +[0-9.]+M .* growing +anon( |\$)" 15
sleep 1
TM send-keys g Enter
ok "grow_mmap: the region view" wait_for " 1 Hex +2 Strings" 10
TM send-keys 6
ok "grow_mmap New tab: the record that grew is the top shape" wait_for "^ *[0-9.]+ +[0-9.]+ +user_session id=# token=# role=viewer\$" 15
new_shape=$(screen | sed -n '/top shapes of the new pages/{n;p;}')
ok "grow_mmap: ... denser in the new pages than in the old ($new_shape)" sh -c "echo '$new_shape' | awk '{ exit !(\$1 > \$2) }'"
is "$(screen | grep -c 'config_entry')" 0 "grow_mmap: the old pages' record is not among the new pages' shapes"
TM send-keys 2
ok "grow_mmap: Tab 2 still the census of the area" wait_for "^read [0-9.]+[KM] of [0-9.]+[KM] \\(present pages" 10
TM send-keys q q
ok "grow_mmap: q quits" wait_for "^EXIT=0\$" 10
like "$(proc_state "$pid")" "^[RSD]$" "grow_mmap: the target runs on"
TM kill-server
stop_target "$pid"

# 3. A flat process: nothing is new, and the tab says so.
start_target flat -s 16 -t 120
pid=$TPID
new_session "env TERM=xterm LANG=C '$RW' -p $pid -i 0.3 --ascii; echo EXIT=\$?; sleep 60"
ok "flat: the table is up" wait_for "^START" 10
TM send-keys g Enter
ok "flat: the region view" wait_for " 1 Hex +2 Strings" 10
TM send-keys 6
ok "flat: no page became resident since the baseline" wait_for "^no page became resident since the baseline" 15
TM send-keys q
ok "flat: back to the table" wait_for "^START" 10
wait_up 1
TM send-keys b
ok "flat: b sets the baseline" wait_for "baseline set: DELTA and the New tab count from now" 10
TM send-keys g Enter
ok "flat: the region view again" wait_for " 1 Hex +2 Strings" 10
TM send-keys 6
ok "flat: the New tab's baseline is b's, a later sample" wait_for "^baseline: sample ([2-9]|[1-9][0-9]+), pagemap of [0-9]+ areas at " 15
TM send-keys q q
ok "flat: q quits" wait_for "^EXIT=0\$" 10
TM kill-server
done_testing
