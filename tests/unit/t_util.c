/* Unit tests of util: escaping bytes from the target for a terminal. */
#include "tap.h"
#include "util.h"

static void esc_is(const char *in, size_t len, const char *want, const char *what)
{
	char out[256];
	escape_ctln(in, len, out, sizeof(out));
	is_str(out, want, "%s", what);
}

static void test_classes(void)
{
	esc_is("plain /usr/lib/x.so", 19, "plain /usr/lib/x.so", "printable ASCII passes");
	esc_is("a\\b", 3, "a\\\\b", "backslash doubled");
	esc_is("\x1b[31mred", 8, "\\x1b[31mred", "ESC (C0) as \\x1b");
	esc_is("a\0b", 3, "a\\x00b", "NUL as \\x00");
	esc_is("nl\ntab\t", 7, "nl\\x0atab\\x09", "newline and tab escaped by default");
	esc_is("del\x7f", 4, "del\\x7f", "DEL as \\x7f");
	esc_is("csi\x9b" "31m", 7, "csi\\x9b31m", "raw 0x9b (8-bit CSI) as \\x9b");
	esc_is("c1\xc2\x9b" "x", 5, "c1\\u009bx", "UTF-8 U+009B as \\u009b");
	esc_is("\xc2\x80\xc2\x9f", 4, "\\u0080\\u009f", "the UTF-8 C1 range ends escaped");
	esc_is("bidi\xe2\x80\xae" "txt", 10, "bidi\\u202etxt", "U+202E (RLO) escaped");
	esc_is("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c", 14,
	       "\\u202a\\u2066\\u2069\\u200f\\u061c", "the other bidi controls escaped");
	esc_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "valid UTF-8 (e-acute, euro, emoji) passes");
	esc_is("\xc2\xa0", 2, "\xc2\xa0", "U+00A0 (first after C1) passes");
	esc_is("bad\xff\xfe", 5, "bad\\xff\\xfe", "bytes that never start UTF-8");
	esc_is("\xc3\x28", 2, "\\xc3(", "a lead byte without its continuation");
	esc_is("\xc0\xaf", 2, "\\xc0\\xaf", "overlong '/'");
	esc_is("\xed\xa0\x80", 3, "\\xed\\xa0\\x80", "a UTF-16 surrogate");
	esc_is("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80", "above U+10FFFF");
	esc_is("end\xe2\x80", 5, "end\\xe2\\x80", "a sequence cut by the end of the string");
}

static void test_pieces(void)
{
	char out[64];
	size_t n;

	/* Streaming (snap to a terminal): a sequence cut by a piece is left for the next. */
	n = escape_term("ab\xe2\x80", 4, out, sizeof(out), 0, 0);
	is_u64(n, 2, "not final: an incomplete sequence at the end is not consumed");
	is_str(out, "ab", "... and not written");
	n = escape_term("\xe2\x80\xae" "c", 4, out, sizeof(out), 0, 0);
	is_u64(n, 4, "the next piece, starting with it, is consumed whole");
	is_str(out, "\\u202ec", "... and the joined sequence is escaped");
	n = escape_term("a\nb\tc", 5, out, sizeof(out), ESCAPE_KEEP_NL, 1);
	is_str(out, "a\nb\tc", "ESCAPE_KEEP_NL keeps newline and tab");
	/* A full output buffer stops before an escape, never in the middle of one. */
	n = escape_term("ab\x1b", 3, out, 5, 0, 1);
	is_u64(n, 2, "out full: stops before an escape that does not fit");
	is_str(out, "ab", "... and what was written is whole");
	escape_ctl("0123456789", out, 4);
	is_str(out, "012", "escape_ctl truncates and terminates");
}

int main(void)
{
	test_classes();
	test_pieces();
	return done_testing();
}
