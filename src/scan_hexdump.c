/* scan_hexdump: `hexdump -C` output of a stream of chunks and zero-filled holes.
 *
 * Format of util-linux 2.38 hexdump -C (text/hexdump.c, the "-C" format strings), checked
 * byte for byte against the tool:
 *   "%08x  " + 8 x "%02x " + " " + 8 x "%02x " + " |" + ascii + "|\n"
 * ascii: 0x20..0x7e as is, anything else '.'.  A short last line pads each missing byte
 * with three spaces, keeps the extra space after byte 8, and prints only the bytes present
 * between the bars.  A full line equal to the line before it is not printed: the first of
 * a run of such lines prints "*" instead, the rest nothing (hexdump's get(): it compares
 * each 16-byte block with the previous one read, printed or not).  The short last line is
 * always printed.  Then the offset after the last byte, "%08x\n"; nothing at all for no
 * input.  Offsets wider than 32 bits simply print more digits (%08llx).
 *
 * Lines are formatted with lookup tables into one large buffer written with fwrite in
 * blocks; a run of zero lines (a hole) costs O(1) once squeezing applies. */
#include "scan.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define OUT_BYTES (1u << 20)
#define LINE_MAX_BYTES 96               /* 16-digit offset + 62 + 16 + 2 */

struct scan_hexdump {
	FILE *out;
	uint64_t origin;                /* added to offsets: base, or 0 */
	uint64_t off;                   /* offset of the line being filled */
	unsigned char line[16];
	unsigned fill;
	unsigned char prev[16];
	int have_prev, squeezing;
	char *obuf;
	size_t olen;
};

static char hex3[256][4];               /* "xx " */
static char hex2[256][2];
static char ascii[256];
static const char digits[] = "0123456789abcdef";

static void init_tables(void)
{
	if (hex3[0][0])
		return;
	for (int c = 0; c < 256; c++) {
		hex2[c][0] = hex3[c][0] = digits[c >> 4];
		hex2[c][1] = hex3[c][1] = digits[c & 15];
		hex3[c][2] = ' ';
		hex3[c][3] = ' ';
		ascii[c] = c >= 0x20 && c < 0x7f ? (char)c : '.';
	}
}

static void out_flush(struct scan_hexdump *h)
{
	if (h->olen) {
		fwrite(h->obuf, 1, h->olen, h->out);
		h->olen = 0;
	}
}

static inline char *put_offset(char *o, uint64_t v)
{
	if (v <= 0xffffffffu) {
		memcpy(o, hex2[(v >> 24) & 0xff], 2);
		memcpy(o + 2, hex2[(v >> 16) & 0xff], 2);
		memcpy(o + 4, hex2[(v >> 8) & 0xff], 2);
		memcpy(o + 6, hex2[v & 0xff], 2);
		return o + 8;
	} else {
		int nd = (64 - __builtin_clzll(v) + 3) / 4;
		for (int i = nd - 1; i >= 0; i--)
			o[nd - 1 - i] = digits[(v >> (4 * i)) & 15];
		return o + nd;
	}
}

/* Format one line of n (1..16) bytes at offset off. */
static void put_line(struct scan_hexdump *h, const unsigned char *src, unsigned n, uint64_t off)
{
	char *o;

	if (h->olen > OUT_BYTES - LINE_MAX_BYTES)
		out_flush(h);
	o = put_offset(h->obuf + h->olen, h->origin + off);
	*o++ = ' ';
	*o++ = ' ';
	if (n == 16) {
		for (int i = 0; i < 8; i++, o += 3)
			memcpy(o, hex3[src[i]], 4);
		*o++ = ' ';
		for (int i = 8; i < 16; i++, o += 3)
			memcpy(o, hex3[src[i]], 4);
	} else {
		for (unsigned i = 0; i < 16; i++, o += 3) {
			if (i == 8)
				*o++ = ' ';
			memcpy(o, i < n ? hex3[src[i]] : "   ", 3);
		}
	}
	*o++ = ' ';
	*o++ = '|';
	for (unsigned i = 0; i < n; i++)
		*o++ = ascii[src[i]];
	*o++ = '|';
	*o++ = '\n';
	h->olen = (size_t)(o - h->obuf);
}

static void put_star(struct scan_hexdump *h)
{
	if (h->olen > OUT_BYTES - LINE_MAX_BYTES)
		out_flush(h);
	h->obuf[h->olen++] = '*';
	h->obuf[h->olen++] = '\n';
}

/* A full 16-byte line at h->off: print it, or squeeze it. */
static inline void full_line(struct scan_hexdump *h, const unsigned char *src)
{
	if (h->have_prev && !memcmp(src, h->prev, 16)) {
		if (!h->squeezing) {
			put_star(h);
			h->squeezing = 1;
		}
	} else {
		put_line(h, src, 16, h->off);
		memcpy(h->prev, src, 16);
		h->have_prev = 1;
		h->squeezing = 0;
	}
	h->off += 16;
}

struct scan_hexdump *scan_hexdump_new(FILE *out, uint64_t base, int base_is_address)
{
	struct scan_hexdump *h = xcalloc(1, sizeof(*h));

	init_tables();
	h->out = out;
	h->origin = base_is_address ? base : 0;
	h->obuf = xmalloc(OUT_BYTES);
	return h;
}

void scan_hexdump_feed(struct scan_hexdump *h, const unsigned char *data, size_t len)
{
	if (h->fill) {
		size_t take = 16 - h->fill < len ? 16 - h->fill : len;
		memcpy(h->line + h->fill, data, take);
		h->fill += (unsigned)take;
		data += take;
		len -= take;
		if (h->fill < 16)
			return;
		h->fill = 0;
		full_line(h, h->line);
	}
	while (len >= 16) {
		full_line(h, data);
		data += 16;
		len -= 16;
	}
	if (len) {
		memcpy(h->line, data, len);
		h->fill = (unsigned)len;
	}
}

void scan_hexdump_zeros(struct scan_hexdump *h, uint64_t len)
{
	static const unsigned char zero_line[16];
	uint64_t lines;

	if (h->fill) {
		size_t take = 16 - h->fill < len ? 16 - h->fill : (size_t)len;
		memset(h->line + h->fill, 0, take);
		h->fill += (unsigned)take;
		len -= take;
		if (h->fill < 16)
			return;
		h->fill = 0;
		full_line(h, h->line);
	}
	lines = len / 16;
	if (lines) {
		/* the first zero line is printed unless it repeats the previous one; all the
		 * others repeat it */
		full_line(h, zero_line);
		lines--;
		if (lines) {
			if (!h->squeezing) {
				put_star(h);
				h->squeezing = 1;
			}
			h->off += lines * 16;
		}
	}
	h->fill = (unsigned)(len % 16);
	memset(h->line, 0, h->fill);
}

void scan_hexdump_finish(struct scan_hexdump *h)
{
	uint64_t end = h->off + h->fill;

	if (h->fill) {
		put_line(h, h->line, h->fill, h->off);
		h->off = end;
		h->fill = 0;
	}
	if (end) {
		char *o;
		if (h->olen > OUT_BYTES - LINE_MAX_BYTES)
			out_flush(h);
		o = put_offset(h->obuf + h->olen, h->origin + end);
		*o++ = '\n';
		h->olen = (size_t)(o - h->obuf);
	}
	out_flush(h);
	fflush(h->out);
}

void scan_hexdump_free(struct scan_hexdump *h)
{
	if (!h)
		return;
	free(h->obuf);
	free(h);
}
