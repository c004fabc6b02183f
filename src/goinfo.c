/* goinfo: the Go version, symbol table and runtime.allglen of a Go executable. The ELF file
 * is mapped read-only from /proc/PID/exe (through the pinned dir fd) and its section
 * headers are walked; the format is elf(5), and the build info layout is Go's
 * debug/buildinfo: "\xff Go buildinf:" then the pointer size and flags, and with flags bit 1
 * (Go 1.18 and later) the version as a varint-prefixed string at offset 32; before 1.18, at
 * offset 16 the address of runtime.buildVersion, a string header (data address, length) in
 * the file's initialised data, read through the PT_LOAD segments. */
#include "goinfo.h"
#include "memread.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#define GOINFO_MAX_FILE ((size_t)2 << 30)

static const Elf64_Shdr *section(const unsigned char *f, size_t len, const Elf64_Ehdr *eh,
				 const char *name)
{
	const Elf64_Shdr *sh, *strs;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum ||
	    eh->e_shoff > len || (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff)
		return NULL;
	sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset)
		return NULL;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		size_t n = strlen(name);
		if (sh[i].sh_name + n + 1 > strs->sh_size)
			continue;
		if (!memcmp(f + strs->sh_offset + sh[i].sh_name, name, n + 1) &&
		    sh[i].sh_offset <= len && sh[i].sh_size <= len - sh[i].sh_offset)
			return &sh[i];
	}
	return NULL;
}

/* The file bytes at virtual address va, n of them, through the PT_LOAD segments (only
 * their file-backed part); NULL when no segment holds them all. */
static const unsigned char *at_vaddr(const unsigned char *f, size_t len, const Elf64_Ehdr *eh,
				     uint64_t va, uint64_t n)
{
	const Elf64_Phdr *ph;

	if (eh->e_phoff > len || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return NULL;
	ph = (const Elf64_Phdr *)(f + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || va < ph[i].p_vaddr || va - ph[i].p_vaddr > ph[i].p_filesz ||
		    n > ph[i].p_filesz - (va - ph[i].p_vaddr))
			continue;
		if (ph[i].p_offset > len || va - ph[i].p_vaddr + n > len - ph[i].p_offset)
			return NULL;
		return f + ph[i].p_offset + (va - ph[i].p_vaddr);
	}
	return NULL;
}

static uint64_t get_word(const unsigned char *p, unsigned size, int big)
{
	uint64_t v = 0;

	for (unsigned k = 0; k < size; k++)
		v |= (uint64_t)p[big ? size - 1 - k : k] << (8 * k);
	return v;
}

static void set_version(struct goinfo *gi, const unsigned char *v, uint64_t n)
{
	if (!n || n >= sizeof(gi->version))
		return;
	memcpy(gi->version, v, (size_t)n);
	gi->version[n] = '\0';
	for (size_t k = 0; k < n; k++)      /* shown to a person: printable only */
		if (gi->version[k] < 0x20 || gi->version[k] > 0x7e)
			gi->version[k] = '?';
}

/* Before Go 1.18: offset 16 holds the address of runtime.buildVersion, a string header. */
static void read_version_pointers(const unsigned char *f, size_t len, const Elf64_Ehdr *eh,
				  const unsigned char *p, size_t size, struct goinfo *gi)
{
	unsigned ptr = p[14];
	int big = p[15] & 1;
	const unsigned char *hdr, *data;
	uint64_t n;

	if ((ptr != 4 && ptr != 8) || size < 16 + (size_t)ptr)
		return;
	hdr = at_vaddr(f, len, eh, get_word(p + 16, ptr, big), 2ull * ptr);
	if (!hdr)
		return;
	n = get_word(hdr + ptr, ptr, big);
	if (!n || n >= sizeof(gi->version))
		return;
	data = at_vaddr(f, len, eh, get_word(hdr, ptr, big), n);
	if (data)
		set_version(gi, data, n);
}

static void read_version(const unsigned char *f, size_t len, const Elf64_Ehdr *eh, struct goinfo *gi)
{
	const Elf64_Shdr *bi = section(f, len, eh, ".go.buildinfo");
	const unsigned char *p;
	uint64_t n = 0;
	unsigned shift = 0;
	size_t i = 32;

	if (!bi || bi->sh_size < 32 || memcmp(f + bi->sh_offset, "\xff Go buildinf:", 14))
		return;
	gi->is_go = 1;
	p = f + bi->sh_offset;
	if (!(p[15] & 2)) {
		read_version_pointers(f, len, eh, p, bi->sh_size, gi);
		return;
	}
	while (i < bi->sh_size && shift < 64) {
		n |= (uint64_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if (!(p[i++] & 0x80))
			break;
	}
	if (i + n <= bi->sh_size)
		set_version(gi, p + i, n);
}

void goinfo_parse(const unsigned char *f, size_t len, struct goinfo *gi)
{
	memset(gi, 0, sizeof(*gi));
	if (len >= sizeof(Elf64_Ehdr) && !memcmp(f, ELFMAG, SELFMAG) && f[EI_CLASS] == ELFCLASS64)
		read_version(f, len, (const Elf64_Ehdr *)f, gi);
}

/* The load bias of a PIE: where the mapping of the file's offset 0 starts, less the
 * lowest PT_LOAD address (elf(5)); 0 for a fixed-address executable. */
static uint64_t load_bias(const unsigned char *f, size_t len, const Elf64_Ehdr *eh,
			  const struct snapshot *s, const struct stat *st)
{
	const Elf64_Phdr *ph;
	uint64_t lowest = UINT64_MAX;

	if (eh->e_type != ET_DYN || !s)
		return 0;
	if (eh->e_phoff > len || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return 0;
	ph = (const Elf64_Phdr *)(f + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < lowest)
			lowest = ph[i].p_vaddr & ~(uint64_t)4095;
	for (size_t i = 0; i < s->count; i++) {
		const struct region *r = &s->regions[i];
		if (r->inode == st->st_ino && r->dev_major == major(st->st_dev) &&
		    r->dev_minor == minor(st->st_dev) && r->offset == 0)
			return lowest == UINT64_MAX ? 0 : r->start - lowest;
	}
	return 0;
}

void goinfo_open(const struct procfs *p, const struct snapshot *s, struct goinfo *gi)
{
	int fd = openat(p->dirfd, "exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *f;
	size_t len;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sym, *str;

	memset(gi, 0, sizeof(*gi));
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr) ||
	    (size_t)st.st_size > GOINFO_MAX_FILE) {
		close(fd);
		return;
	}
	len = (size_t)st.st_size;
	f = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return;
	eh = (const Elf64_Ehdr *)f;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		goto out;
	read_version(f, len, eh, gi);
	if (!gi->is_go)
		goto out;
	sym = section(f, len, eh, ".symtab");
	str = section(f, len, eh, ".strtab");
	gi->stripped = !sym || !str;
	if (gi->stripped || sym->sh_entsize != sizeof(Elf64_Sym))
		goto out;
	{
		const Elf64_Sym *syms = (const Elf64_Sym *)(f + sym->sh_offset);
		size_t nsyms = sym->sh_size / sizeof(Elf64_Sym);
		static const char want[] = "runtime.allglen";
		for (size_t i = 0; i < nsyms; i++) {
			if (syms[i].st_name + sizeof(want) > str->sh_size || syms[i].st_size != 8)
				continue;
			if (!memcmp(f + str->sh_offset + syms[i].st_name, want, sizeof(want))) {
				gi->allglen_addr = syms[i].st_value + load_bias(f, len, eh, s, &st);
				break;
			}
		}
	}
out:
	munmap(f, len);
}

/* One word from the target, only if pagemap says its page is present: a page check and one
 * process_vm_readv, every sample, so none of memread's 1 MiB bounce buffer and run queue. */
int goinfo_goroutines(const struct procfs *p, const struct snapshot *s, const struct goinfo *gi,
		      uint64_t *count)
{
	uint64_t runs[2], v;
	size_t nruns = 0;
	struct iovec local = { &v, sizeof(v) }, remote;
	int rc;

	(void)s;
	if (!gi->allglen_addr || (gi->allglen_addr & 7))
		return -ENOENT;
	rc = memread_present_runs(p, gi->allglen_addr, gi->allglen_addr + 8, runs, 1, &nruns, NULL);
	if (rc && rc != -ENOSPC)
		return rc;
	if (!nruns || runs[0] > gi->allglen_addr || runs[1] < gi->allglen_addr + 8)
		return -ENODATA;                /* not present: never faulted in */
	remote.iov_base = (void *)(uintptr_t)gi->allglen_addr;
	remote.iov_len = sizeof(v);
	if (process_vm_readv(p->pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(v))
		return errno == ESRCH ? -ESRCH : -EIO;
	*count = v;
	return 0;
}
