#!/bin/sh
# gen_smaps.sh N a|b: synthetic smaps text with N regions as a format-2 regionwatch snapshot,
# for the diff benchmark and the bounded-memory test. b is a later view of a: every 31st
# region grew, every 97th is gone, every 89th has a new neighbour; the rest are the same.
# Regions are 8 KiB with a page of gap, so none touch (no joining).
n=${1:?N}
v=${2:?a or b}
exec awk -v n="$n" -v v="$v" 'BEGIN {
	print "# regionwatch-snapshot 2"
	print "# pid 4242"
	print "# comm synthetic"
	kept = 0
	for (i = 0; i < n; i++) {
		if (v == "b" && i % 97 == 5)
			continue
		rss = (i % 3) * 4
		if (v == "b" && i % 31 == 7)
			rss += 8
		region(addr(i, 0), addr(i, 8192), rss, i)
		if (v == "b" && i % 89 == 11)
			region(addr(i, 12288), addr(i, 16384), 4, i)
	}
	printf "# end %d regions, 0 torn\n", kept
}
# 0x7f0000000000 + i * 16 KiB + off, in hex pieces: awk numbers past 2^31 do not print as %x
function addr(i, off,   l, h) {
	l = (i % 4) * 16384 + off
	h = int(i / 4) + int(l / 65536)
	return sprintf("7f%06x%04x", h, l % 65536)
}
function region(s, e, rss, i,   path) {
	path = (i % 5 == 0) ? "/usr/lib/x86_64-linux-gnu/libsynthetic.so.1" : ""
	printf "%s-%s rw-p 00000000 00:00 %d %s\n", s, e, path == "" ? 0 : 1234, path
	printf "Size:                  8 kB\nRss:                 %4d kB\nPss:                 %4d kB\n", rss, rss
	printf "Anonymous:           %4d kB\nSwap:                  0 kB\nVmFlags: rd wr mr mw me ac\n", path == "" ? rss : 0
	kept++
}'
