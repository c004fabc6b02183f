#!/bin/sh
# The monitor's RSS chart (c): the process and the selected row on one scale, labelled axes,
# in 80x24, in ASCII and UTF-8, in a real terminal (tmux, send-keys, capture-pane). Waits
# for screen content with deadlines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
bytes() { # "80M" -> bytes
	printf '%s\n' "$1" | awk '{ v = $1 + 0; u = substr($1, length($1)); m = 1;
		if (u == "K") m = 1024; if (u == "M") m = 1048576; if (u == "G") m = 1073741824;
		printf "%.0f\n", v * m }'
}

# grow_arena: a malloc arena grows by 4 MiB/s beside a flat 32 MiB buffer, so the process's
# RSS is well above the growing row's.
start_target grow_arena -r 4096 -f 32 -t 120
pid=$TPID
new_session "env TERM=xterm LANG=C '$RW' -p $pid -i 0.3 --window 20 --ascii; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '; echo; sleep 60"
ok "the arena grows in the first row" wait_for "^[0-9a-f]+ +[0-9.]+M .* growing +glibc-arena" 15
# 3 s of samples, so that the chart has a slope
u0=$(screen | sed -n '1s/.* up \([0-9]*\)s.*/\1/p')
ok "a few seconds of samples" wait_for " up $((u0 + 3))s" 10
TM send-keys g c
ok "c opens the chart: a legend with both series and the scale" wait_for "^RSS, one scale 0-[0-9.]+[KMG]:  : process [0-9.]+[KMG] +# glibc-arena at [0-9a-f]+ [0-9.]+[KMG]\$" 10
legend=$(screen | grep '^RSS, one scale')
ly=$(screen | grep -n '^RSS, one scale' | cut -d: -f1)
top=$(printf '%s' "$legend" | sed 's/^RSS, one scale 0-\([0-9.]*[KMG]\):.*/\1/')
proc=$(printf '%s' "$legend" | sed 's/.*: process \([0-9.]*[KMG]\) .*/\1/')
ok "the scale's top ($top) is at least the process RSS ($proc)" test "$(bytes "$top")" -ge "$(bytes "$proc")"
ok "... and not more than twice it" test "$(bytes "$top")" -le $(( $(bytes "$proc") * 2 ))
plot=$(screen | sed -n "$((ly + 1)),\$p" | grep -E '^ +([0-9.]+[KMG])?\|')
nplot=$(printf '%s\n' "$plot" | wc -l)
ok "plot rows under the legend ($nplot)" test "$nplot" -ge 4
like "$(printf '%s\n' "$plot" | head -1)" "^ +$top\\|" "y axis: the top row labelled with the scale ($top)"
half=$(printf '%s\n' "$plot" | sed -n "$((nplot / 2 + 1))p" | sed 's/^ *\([0-9.]*[KMG]\)|.*/\1/')
is "$(bytes "$half")" "$(($(bytes "$top") / 2))" "y axis: the middle row labelled with half of it ($half)"
axis=$(screen | sed -n "$((ly + nplot + 1))p")
like "$axis" "^ +0\\+[-+]+\$" "x axis: a line from 0 with tick marks"
labels=$(screen | sed -n "$((ly + nplot + 2))p")
like "$labels" "^ +-20s +-15s +-10s +-5s +now\$" "x axis: seconds before now, every 5 s of the 20 s window"
is "$((ly + nplot + 2))" 23 "80x24: the chart ends right above the key line"
like "$(screen | sed -n 24p)" "q quit\$" "80x24: the key line is still there"
ok "80x24: table rows are left above the chart" test "$(screen | sed -n '5,12p' | grep -Ec '^[0-9a-f]+ ')" -ge 3
# both series: the row (#) under the process (:) in the newest column
last=$(printf '%s\n' "$plot" | awk '{ c = substr($0, 80, 1); print c == "" ? " " : c }')
nhash=$(printf '%s\n' "$last" | grep -c '#')
ncolon=$(printf '%s\n' "$last" | grep -c ':')
ok "the row's series is drawn (# in $nhash rows of the newest column)" test "$nhash" -ge 1
ok "the process's series above it (: in $ncolon rows)" test "$ncolon" -ge 1
col=$(printf '%s\n' "$last" | tr -d '\n')   # column 80: the newest
like "$col" "^ *:+#+\$" "... the # rows at the bottom, the : rows above (newest column, top down: '$col')"
# the oldest column with data: fewer # rows there than in the newest (the arena grew)
first=$(printf '%s\n' "$plot" | awk '{ for (i = 8; i <= length($0); i++) if (substr($0, i, 1) != " ") { if (!f || i < f) f = i; break } } END { print f + 0 }')
nold=$(printf '%s\n' "$plot" | cut -c"$first" | grep -c '#')
ok "the row's series rises over time (# rows: $nold in the oldest column, $nhash in the newest)" test "$nold" -lt "$nhash"
is "$(screen | LC_ALL=C grep -c '[^ -~]')" 0 "--ascii: no byte outside printable ASCII on the screen"
# The chart follows the selection: the flat buffer's row.
TM send-keys j
ok "j: the legend names the next row (the flat 32 MiB buffer)" wait_for "# anon at [0-9a-f]+ 32M\$" 10
TM send-keys c
ok "c again hides the chart" wait_for "^[0-9a-f]+ .*$" 10
i=0; while screen | grep -q '^RSS, one scale' && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
is "$(screen | grep -c '^RSS, one scale')" 0 "... the legend is gone"
ok "... and the table fills the screen again" test "$(screen | sed -n '5,23p' | grep -Ec '^[0-9a-f]+ ')" -ge 12
TM send-keys q
ok "q quits" wait_for "^EXIT=" 10
like "$(screen | grep '^EXIT=')" "^EXIT=0\$" "exit status 0"
like "$(screen | grep -A1 '^EXIT=' | tail -1)" "^icanon echo ?\$" "terminal restored (icanon and echo on)"
like "$(proc_state "$pid")" "^[RSD]$" "the target runs on (not stopped)"
TM kill-server

# UTF-8, and a window of minutes: block characters, box lines, minute labels.
new_session "env TERM=xterm-256color LANG=C.UTF-8 '$RW' -p $pid -i 0.5 --window 300; echo EXIT=\$?; sleep 60"
ok "UTF-8: the table is up" wait_for "^START" 10
ok "UTF-8: two samples" wait_for "growing +glibc-arena" 10
TM send-keys g c
ok "UTF-8: the legend uses the block characters" wait_for "^RSS, one scale 0-[0-9.]+[KMG]:  ░ process [0-9.]+[KMG] +█ glibc-arena" 10
ok "UTF-8: the y axis is a box line" wait_for "^ +[0-9.]+[KMG]│" 10
ok "UTF-8: the x axis too" wait_for "^ +0└[─┴]+\$" 10
ok "UTF-8: minute labels over a 5 minute window" wait_for "^ +-5m +-4m +-3m +-2m +-1m +now\$" 10
ok "UTF-8: the row's series drawn" wait_for "│ *[░ ]*█+\$" 10
TM send-keys q
ok "UTF-8: q quits" wait_for "^EXIT=0\$" 10
like "$(proc_state "$pid")" "^[RSD]$" "the target runs on after both"
TM kill-server
done_testing
