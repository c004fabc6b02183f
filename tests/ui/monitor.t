#!/bin/sh
# The live monitor in a real terminal: tmux on a private socket, send-keys, capture-pane.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"

start_target grow_brk -r 2048 -t 120
pid=$TPID
# The pane runs a shell that reports the exit status and the terminal modes afterwards.
new_session "env TERM=xterm-256color LANG=C.UTF-8 '$RW' -p $pid -i 0.3; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '; echo; sleep 60"
ok "the monitor starts" wait_for "^regionwatch +pid $pid \\(grow_brk\\)" 10
ok "the leaking heap reaches the first table row within a few samples" wait_for "^START" 10
sleep 1.5
row1=$(screen | sed -n '5p')
like "$row1" "^[0-9a-f]+ +[0-9.]+[KM] +\\+[0-9.]+[KM] +\\+[0-9.]+[KM]/s .* growing +heap +\\[heap\\]" "first row: the heap, growing, with its rate"
like "$(screen | sed -n '2p')" "^RSS [0-9.]+[KM] \\(\\+" "header: total RSS with its rate"
like "$(screen | sed -n '3p')" "cost [0-9.]+ ms/sample" "header: own cost per sample"

# Enter opens the region; tab 2 shows the repeated record's shape.
TM send-keys Enter
ok "Enter opens the region view" wait_for " 1 Hex +2 Strings" 10
TM send-keys 2
ok "Strings tab: the leaked record's shape with its count" wait_for "^ +[0-9]+  user_session id=# token=# role=viewer\$" 10
like "$(screen | sed -n '3p')" "^read [0-9.]+[KM] of [0-9.]+[KM] \\(present pages" "Strings tab says how much was read"
# Hex tab: the first line is the heap's first address, with the record text.
TM send-keys 1
ok "Hex tab shows the heap's first address" wait_for "^0*$(echo "$TADDR" | sed 's/^0x//')  " 10
like "$(screen | sed -n '3p')" "\\|user_session id=\\|?|\\|.*\\|\$|^0*$(echo "$TADDR" | sed 's/^0x//')  [0-9a-f]{2} " "Hex tab: bytes of the record"
# g: a bad address says why.
TM send-keys g
ok "g asks for an address" wait_for "^jump to address" 10
TM send-keys zz Enter
ok "g: not an address says so" wait_for "'zz' is not an address" 10
TM send-keys g 1 Enter
ok "g: an address outside the region says so" wait_for "^1 is not in this region \\(" 10
TM send-keys g "$TADDR" Enter
ok "g: an address in the region goes there" wait_for "^0*$(echo "$TADDR" | sed 's/^0x//')  " 10
TM send-keys 3
ok "Histogram tab: entropy and block classes" wait_for "entropy [0-9.]+ bits/byte" 10
TM send-keys 4
ok "Pages tab: the resident map" wait_for "one cell = .*# all present" 10
TM send-keys q
ok "q goes back to the table" wait_for "^START" 10

# d: dump the selected region (the heap) to a file, present pages only.
TM send-keys d
ok "d asks for a file name" wait_for "dump to \\(Esc cancels\\): regionwatch-$pid-" 10
TM send-keys C-u 2>/dev/null
for i in $(seq 40); do TM send-keys BSpace; done
TM send-keys "$T/heap.bin" Enter
ok "d writes the dump and says how much was read" wait_for "wrote $T/heap.bin \\+\\.json: [0-9.]+[KM] read of [0-9.]+[KM]; holes: " 10
ok "... and its manifest beside it, as dump -o" test -s "$T/heap.bin.json"
is "$(stat -c %a "$T/heap.bin" 2>/dev/null)" 600 "the monitor's dump has mode 0600"
ok "it holds the records" grep -q "user_session id=" "$T/heap.bin"

# Resize down to 40x10 and back.
TM resize-window -x 40 -y 10
sleep 0.8
like "$(screen | sed -n '4,5p' | tr '\n' ' ')" "RSS +DELTA TREND +PATH .*growing +\\[heap\\]" "40x10: narrow table still shows the growing heap"
# 40 columns: a cut PATH keeps its end (the file name), and the key line keeps "? help"
# and "q quit".
TM resize-window -x 40 -y 24
ok "40x24: a cut path keeps the file name" wait_for " …/libc\\.so\\.6\$" 10
is "$(screen | sed -n '5,23p' | grep -Ec '/usr/lib|/lib/x86|/lib64')" 0 "40x24: no row shows a path cut after its first directories"
ok "40x24: the key line keeps ? help and q quit" wait_for "\\? help  q quit\$" 10
TM resize-window -x 80 -y 24
ok "back to 80x24" wait_for "^START +RSS" 10
ok "80x24: the key line keeps ? help and q quit" wait_for "\\? help  q quit\$" 10

# Help, sort keys, pause.
TM send-keys '?'
ok "? shows the help" wait_for "regionwatch monitor: keys" 10
ok "? lists H (history scale)" wait_for "^  H +HISTORY sparklines" 10
# The help is the keys as they are, and all of it fits 80x24.
ok "? fits 80x24: its last line shows" wait_for "^Press any key\\.\$" 10
for k in "Home/End g/G" "^  \\+ - Right Left +expand/collapse a pool row" "^  c +chart: RSS over time" \
	"^  d +dump the row to a file \\+ \\.json \\(present pages; a pool: its members\\)" \
	"^  b +baseline: DELTA and the New tab" "Tab/Shift-Tab/1-6 tabs" "q/Esc/Left back\\. New \\(6\\)" \
	"^  S M D R A +sort by score" "^  t +thread backtraces"; do
	like "$(screen)" "$k" "? lists: $k"
done
TM send-keys x
# H: the sparklines share one scale, and back.
TM send-keys H
ok "H: the sparklines share one scale" wait_for "sort: score +\\[history: one scale\\]" 10
like "$(screen | sed -n '5p')" "█ +growing +heap" "H: the heap, the largest row, reaches the top block"
TM send-keys H
ok "H again: each row on its own scale" wait_for "HISTORY: each row on its own scale" 10
is "$(screen | sed -n '3p' | grep -c 'one scale')" 0 "... and the header says so"
TM send-keys M
ok "M sorts by RSS" wait_for "sort: RSS" 10
TM send-keys p
ok "p pauses" wait_for "PAUSED" 10
TM send-keys p

# Prompts are part of the loop: sampling goes on while one is open.
up_of() { screen | sed -n '1s/.* up \([0-9]*\)s.*/\1/p'; }
TM send-keys /
ok "/ opens the filter prompt" wait_for "^filter \\(path or kind" 10
up1=$(up_of)
sleep 2.2
up2=$(up_of)
ok "sampling goes on while the prompt is open (up ${up1}s, then ${up2}s)" test "${up2:-0}" -gt "${up1:-0}"
TM send-keys libc Enter
ok "the header shows the active filter" wait_for "\\[filter: libc\\]" 10
is "$(screen | sed -n '5,23p' | grep -v '^ *$' | grep -vc ' file ')" 0 "only file rows (libc) are left"
TM send-keys / C-u Enter
ok "Enter on an empty filter clears it" wait_for "growing +heap +\\[heap\\]" 10
is "$(screen | sed -n '3p' | grep -c 'filter:')" 0 "... and the header says no filter"
TM send-keys /
ok "/ again" wait_for "^filter \\(path or kind" 10
TM send-keys xyz Escape
ok "Esc closes the prompt and keeps the filter as it was" wait_for "Enter open .*q quit\$" 10
is "$(screen | sed -n '3p' | grep -c 'filter:')" 0 "... still no filter"

# t: backtraces, after saying that the target will be stopped; n answers in one key.
TM send-keys t
ok "t asks" wait_for "Go on\\? y/n:" 10
TM send-keys n
ok "n answers at once (no Enter): not taken" wait_for "backtraces: not taken" 10

# t: backtraces, after saying that the target will be stopped.
TM send-keys t
ok "t asks first: it says the threads will be stopped" wait_for "backtraces stop the 1 thread of $pid" 10
TM send-keys y
ok "t shows the backtrace of the thread" wait_for "^thread $pid \\(grow_brk\\) state" 12
# main is frame #1 when the thread is stopped in clock_nanosleep or fill_records, #2 when
# it is stopped inside libc's sbrk (brk, sbrk, main): either is a whole backtrace
ok "... with its frames" wait_for "#[12] 0x[0-9a-f]+ main\\+0x[0-9a-f]+ \\(grow_brk\\)" 10
TM send-keys q
ok "q goes back from the backtraces" wait_for "^START" 10

# q exits 0 and the terminal is restored.
quit_and_check "$pid"

# Target exits while monitored: the screen says so; q exits 1.
start_target grow_brk -r 2048 -t 2
new_session "env TERM=xterm LANG=C '$RW' -p $TPID -i 0.2 --color=never; echo EXIT=\$?; sleep 60"
ok "a target that exits: the screen says so" wait_for "TARGET EXITED" 12
like "$(screen | sed -n '5p')" "heap" "the last data stays on screen"
TM send-keys q
ok "q quits" wait_for "^EXIT=" 10
like "$(screen | grep '^EXIT=')" "^EXIT=1\$" "exit status 1 after the target exited"
TM kill-server

# SIGTERM: the terminal is restored.
start_target grow_brk -r 1024 -t 120
new_session "env TERM=xterm LANG=C '$RW' -p $TPID -i 0.2; echo EXIT=\$?; echo STTY \$(stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '); sleep 60"
ok "started again" wait_for "^START" 10
# Signal regionwatch itself, not the pane's shell whose command line holds the same words.
kill -TERM $(pgrep -x -f -- "$RW -p $TPID -i 0.2" | head -1) 2>/dev/null ||
	pkill -TERM -x -f "$RW -p $TPID -i 0.2"
ok "SIGTERM ends it" wait_for "^EXIT=" 10
# the stty line comes after EXIT=: wait for it too (the capture could come between them)
ok "... and the shell after it runs" wait_for "^STTY " 10
like "$(screen | grep '^STTY ')" "^STTY icanon echo ?\$" "terminal restored after SIGTERM"
TM kill-server

# --iterations: quits by itself (tests and sanitizer runs).
new_session "env TERM=xterm LANG=C '$RW' -p $TPID -i 0.1 --iterations 5 --ascii; echo EXIT=\$?; sleep 60"
ok "--iterations 5 quits by itself" wait_for "^EXIT=0\$" 12
TM kill-server

# The trend follows the recent samples: a heap that stopped growing becomes flat.
start_target grow_brk -r 2048 -s 3 -t 60
new_session "env TERM=xterm LANG=C.UTF-8 '$RW' -p $TPID -i 0.25 --window 9; sleep 60"
ok "a heap that grows: growing" wait_for "growing +heap +\\[heap\\]" 10
ok "... then stops: flat within the recent part of the window (3 s here)" wait_for "flat +heap +\\[heap\\]" 15
like "$(screen | grep -F '[heap]')" "\\+[0-9.]+[KM]/s" "... while its rate is still the window's"
is "$(screen | sed -n '3p' | grep -c 'at this rate')" 0 "... and no time-to-limit is shown"
TM kill-server

# A growing area's content tabs start at its newest pages: the last 16 MiB read.
keep_pid=$TPID
start_target grow_brk -r 65536 -t 60
fast_addr=$TADDR
new_session "env TERM=xterm LANG=C.UTF-8 '$RW' -p $TPID -i 0.25; sleep 60"
ok "a fast-growing heap" wait_for "^[0-9a-f]+ +[0-9.]+M .* growing +heap +\\[heap\\]" 10
sleep 1
TM send-keys Enter
ok "its tabs say the last 16 MiB were read" wait_for " 6 New +last 16 MiB of [0-9.]+M" 10
TM send-keys 2
ok "Strings: the last 16 MiB of the area" wait_for "^read 1[67](\\.[0-9])?M of [0-9.]+M \\(present pages: the last 16 MiB, from [0-9a-f]+\\)" 10
tail_from=$(screen | sed -n 's/.*the last 16 MiB, from \([0-9a-f]*\)).*/\1/p')
TM send-keys 1
ok "Hex starts where the census began" wait_for "^0*$tail_from  " 10
ok "... above the heap's first address" test "$((0x$tail_from))" -gt "$((fast_addr))"
TM kill-server
kill "$TPID" 2>/dev/null
TPID=$keep_pid

# One sample is no rate and no trend: "—" (or "-" with --ascii), not "0/s flat".
new_session "env TERM=xterm LANG=C.UTF-8 '$RW' -p $TPID -i 30; sleep 60"
ok "first sample: the table is up" wait_for "^START" 10
like "$(screen | grep -F '[heap]')" "^[0-9a-f]+ +[0-9.]+[KM] +0 +— +.* — +heap +\\[heap\\]" "first sample: rate and trend are —"
like "$(screen | sed -n '2p')" "^RSS [0-9.]+[KM] \\(—\\)" "first sample: the total rate is —"
is "$(screen | sed -n '5,23p' | grep -Ec '0/s|flat')" 0 "first sample: no row says 0/s or flat"
TM kill-server
new_session "env TERM=xterm LANG=C.UTF-8 '$RW' -p $TPID -i 30 --ascii; sleep 60"
ok "first sample, --ascii: the table is up" wait_for "^START" 10
like "$(screen | grep -F '[heap]')" "^[0-9a-f]+ +[0-9.]+[KM] +0 +- +.* - +heap +\\[heap\\]" "first sample, --ascii: rate and trend are -"
TM kill-server

# Not a terminal: the watch output.
out=$("$RW" -p "$TPID" -i 0.1 --iterations 2 < /dev/null)
like "$out" "^pid $TPID \\(grow_brk\\)" "not a terminal: prints the watch output"
done_testing
