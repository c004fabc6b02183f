/* Unit tests of the Go build info: synthetic ELF images with a .go.buildinfo section in
 * both layouts (Go 1.18+: the version inline; before: behind pointers into the file's
 * loaded data), and images that lie. */
#include "tap.h"
#include "goinfo.h"

#include <elf.h>
#include <string.h>

#define VBASE 0x400000ull
#define BI_OFF 0x200        /* .go.buildinfo in the file */
#define HDR_OFF 0x300       /* runtime.buildVersion's string header */
#define STR_OFF 0x340       /* its bytes */
#define SHSTR_OFF 0x380
#define SH_OFF 0x400
#define IMG_LEN (SH_OFF + 3 * sizeof(Elf64_Shdr))

static unsigned char img[IMG_LEN];

static void put(unsigned char *p, uint64_t v, unsigned size, int big)
{
	for (unsigned k = 0; k < size; k++)
		p[big ? size - 1 - k : k] = (unsigned char)(v >> (8 * k));
}

/* An executable with one PT_LOAD of the whole file at VBASE, and sections: null,
 * .go.buildinfo (bi_size bytes at BI_OFF), .shstrtab. */
static void image(size_t bi_size)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + SH_OFF);
	static const char names[] = "\0.go.buildinfo\0.shstrtab";

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 1;
	eh->e_shoff = SH_OFF;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 3;
	eh->e_shstrndx = 2;
	ph->p_type = PT_LOAD;
	ph->p_vaddr = VBASE;
	ph->p_offset = 0;
	ph->p_filesz = ph->p_memsz = SH_OFF;
	memcpy(img + SHSTR_OFF, names, sizeof(names));
	sh[1].sh_name = 1;
	sh[1].sh_offset = BI_OFF;
	sh[1].sh_size = bi_size;
	sh[2].sh_name = 15;
	sh[2].sh_offset = SHSTR_OFF;
	sh[2].sh_size = sizeof(names);
	memcpy(img + BI_OFF, "\xff Go buildinf:", 14);
}

/* Go 1.18+: flags bit 1, the version as a varint-prefixed string at offset 32. */
static void test_inline(void)
{
	struct goinfo gi;

	image(64);
	img[BI_OFF + 14] = 8;
	img[BI_OFF + 15] = 2;
	img[BI_OFF + 32] = 8;
	memcpy(img + BI_OFF + 33, "go1.21.3", 8);
	goinfo_parse(img, sizeof(img), &gi);
	ok(gi.is_go, "1.18+ layout: a Go program");
	is_str(gi.version, "go1.21.3", "1.18+ layout: the version, inline");

	img[BI_OFF + 32] = 40;     /* longer than the section */
	goinfo_parse(img, sizeof(img), &gi);
	ok(gi.is_go && !gi.version[0], "1.18+ layout, length past the section: Go, no version");
}

/* Before 1.18: a pointer to runtime.buildVersion (a string header), pointer size and
 * byte order from the header. */
static void old_layout(unsigned ptr, int big, const char *v)
{
	image(32);
	img[BI_OFF + 14] = (unsigned char)ptr;
	img[BI_OFF + 15] = (unsigned char)big;
	put(img + BI_OFF + 16, VBASE + HDR_OFF, ptr, big);
	put(img + HDR_OFF, VBASE + STR_OFF, ptr, big);
	put(img + HDR_OFF + ptr, strlen(v), ptr, big);
	memcpy(img + STR_OFF, v, strlen(v));
}

static void test_pointers(void)
{
	struct goinfo gi;

	old_layout(8, 0, "go1.16.15");
	goinfo_parse(img, sizeof(img), &gi);
	ok(gi.is_go, "pre-1.18 layout: a Go program");
	is_str(gi.version, "go1.16.15", "pre-1.18, 8-byte little-endian pointers: the version");

	old_layout(4, 1, "go1.12");
	goinfo_parse(img, sizeof(img), &gi);
	is_str(gi.version, "go1.12", "pre-1.18, 4-byte big-endian pointers: the version");

	old_layout(8, 0, "go1.15\033[2J");
	goinfo_parse(img, sizeof(img), &gi);
	is_str(gi.version, "go1.15?[2J", "pre-1.18: control bytes in the version shown as '?'");

	/* pointers that lead outside every loaded segment: no version, no crash */
	old_layout(8, 0, "go1.16");
	put(img + BI_OFF + 16, VBASE + SH_OFF + 4096, 8, 0);
	goinfo_parse(img, sizeof(img), &gi);
	ok(gi.is_go && !gi.version[0], "pre-1.18, header pointer outside the segments: no version");
	old_layout(8, 0, "go1.16");
	put(img + HDR_OFF, 0xffffffffffffff00ull, 8, 0);
	goinfo_parse(img, sizeof(img), &gi);
	ok(!gi.version[0], "pre-1.18, data pointer near 2^64: no version");
	old_layout(8, 0, "go1.16");
	put(img + HDR_OFF + 8, 1ull << 40, 8, 0);
	goinfo_parse(img, sizeof(img), &gi);
	ok(!gi.version[0], "pre-1.18, absurd length: no version");
	old_layout(3, 0, "go1.16");
	goinfo_parse(img, sizeof(img), &gi);
	ok(gi.is_go && !gi.version[0], "pre-1.18, pointer size 3: no version");
}

static void test_not_go(void)
{
	struct goinfo gi;

	image(64);
	memcpy(img + BI_OFF, "\xff Go buildinX", 14);
	goinfo_parse(img, sizeof(img), &gi);
	ok(!gi.is_go, "no build info magic: not Go");
	goinfo_parse(img, 16, &gi);
	ok(!gi.is_go, "shorter than an ELF header: not Go");
	image(64);
	((Elf64_Ehdr *)img)->e_shoff = IMG_LEN;   /* section headers past the end */
	goinfo_parse(img, sizeof(img), &gi);
	ok(!gi.is_go, "section headers past the end of the file: not Go");
}

int main(void)
{
	test_inline();
	test_pointers();
	test_not_go();
	return done_testing();
}
