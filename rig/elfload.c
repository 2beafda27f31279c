/*
 * elfload.c - the ELF32 loader. Owns the parsed image: validated program
 * headers (PT_LOAD segments with both link and load addresses) and a sorted
 * symbol table for symbolizing guest addresses. Every offset and size in the
 * file is checked before use: malformed files get a clear error.
 */
#include "elfload.h"
#include "util.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Is [off, off + len) inside a file of size bytes? */
static int in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* Check the ELF header: 32-bit, little-endian, i386, executable. */
static int check_header(const Elf32_Ehdr *eh, size_t size, char *err, size_t errlen)
{
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return errorf(err, errlen, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS32)
		return errorf(err, errlen, "wrong ELF class %u: the guest must be ELF32", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return errorf(err, errlen, "not little-endian");
	if (eh->e_machine != EM_386)
		return errorf(err, errlen, "wrong machine %u: the guest must be i386 (EM_386)", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return errorf(err, errlen, "not an executable (e_type %u)", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 ||
	    !in_file(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr)))
		return errorf(err, errlen, "truncated or missing program headers");
	return 0;
}

/* Do two segments' physical ranges overlap? */
static int overlaps(const struct elf_segment *a, const struct elf_segment *b)
{
	uint64_t a0 = a->paddr, a1 = a0 + a->memsz, b0 = b->paddr, b1 = b0 + b->memsz;

	return a0 < b1 && b0 < a1;
}

/* Collect and validate the PT_LOAD segments. */
static int load_segments(struct elf_image *img, const Elf32_Ehdr *eh, char *err, size_t errlen)
{
	const Elf32_Phdr *ph = (const Elf32_Phdr *)(img->data + eh->e_phoff);

	for (int i = 0; i < eh->e_phnum; i++) {
		struct elf_segment *s = &img->seg[img->nseg];

		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		if (img->nseg == ELF_MAX_SEGMENTS)
			return errorf(err, errlen, "more than %d loadable segments", ELF_MAX_SEGMENTS);
		if (!in_file(img->size, ph[i].p_offset, ph[i].p_filesz))
			return errorf(err, errlen, "segment %d is truncated: bytes %u+%u beyond the file's %zu",
			    i, ph[i].p_offset, ph[i].p_filesz, img->size);
		if (ph[i].p_filesz > ph[i].p_memsz)
			return errorf(err, errlen, "segment %d: file size above memory size", i);
		if ((uint64_t)ph[i].p_paddr + ph[i].p_memsz > 0x100000000ull ||
		    (uint64_t)ph[i].p_vaddr + ph[i].p_memsz > 0x100000000ull)
			return errorf(err, errlen, "segment %d wraps past 4 GiB", i);
		*s = (struct elf_segment){ ph[i].p_vaddr, ph[i].p_paddr, ph[i].p_filesz,
					   ph[i].p_memsz, ph[i].p_offset, ph[i].p_flags };
		for (int j = 0; j < img->nseg; j++)
			if (overlaps(s, &img->seg[j]))
				return errorf(err, errlen, "segments overlap at physical 0x%x and 0x%x",
				    img->seg[j].paddr, s->paddr);
		img->nseg++;
	}
	if (img->nseg == 0)
		return errorf(err, errlen, "no loadable segments");
	return 0;
}

static int symcmp(const void *a, const void *b)
{
	const struct elf_symbol *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int namecmp(const void *a, const void *b)
{
	const struct elf_symbol *x = *(const struct elf_symbol *const *)a, *y = *(const struct elf_symbol *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Keep a symbol if it names code or data at a real address. */
static int keep_symbol(const Elf32_Sym *s, const char *strtab, size_t strsz)
{
	int type = ELF32_ST_TYPE(s->st_info);

	if (s->st_name == 0 || s->st_name >= strsz || s->st_shndx == SHN_UNDEF)
		return 0;
	if (memchr(strtab + s->st_name, '\0', strsz - s->st_name) == NULL)
		return 0;
	return type == STT_FUNC || type == STT_OBJECT || type == STT_NOTYPE;
}

/* Read .symtab (optional: an image without one simply has no symbols). */
static int load_symbols(struct elf_image *img, const Elf32_Ehdr *eh, char *err, size_t errlen)
{
	const Elf32_Shdr *sh;

	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(Elf32_Shdr) ||
	    !in_file(img->size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf32_Shdr)))
		return errorf(err, errlen, "truncated section headers");
	sh = (const Elf32_Shdr *)(img->data + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf32_Shdr *st = &sh[i], *ss;
		const Elf32_Sym *sym;
		size_t n;

		if (st->sh_type != SHT_SYMTAB)
			continue;
		if (st->sh_link >= eh->e_shnum || st->sh_entsize != sizeof(Elf32_Sym))
			return errorf(err, errlen, "bad symbol table header");
		ss = &sh[st->sh_link];
		if (!in_file(img->size, st->sh_offset, st->sh_size) ||
		    !in_file(img->size, ss->sh_offset, ss->sh_size))
			return errorf(err, errlen, "truncated symbol table");
		sym = (const Elf32_Sym *)(img->data + st->sh_offset);
		n = st->sh_size / sizeof(Elf32_Sym);
		img->syms = calloc(n ? n : 1, sizeof(*img->syms));
		if (img->syms == NULL)
			return errorf(err, errlen, "out of memory");
		for (size_t k = 0; k < n; k++) {
			const char *strtab = (const char *)img->data + ss->sh_offset;

			if (!keep_symbol(&sym[k], strtab, ss->sh_size))
				continue;
			img->syms[img->nsyms++] = (struct elf_symbol){ sym[k].st_value, sym[k].st_size,
				strtab + sym[k].st_name, ELF32_ST_TYPE(sym[k].st_info) == STT_FUNC };
		}
		qsort(img->syms, img->nsyms, sizeof(*img->syms), symcmp);
		if ((img->by_name = calloc(img->nsyms ? img->nsyms : 1, sizeof(*img->by_name))) == NULL)
			return errorf(err, errlen, "out of memory");
		for (size_t k = 0; k < img->nsyms; k++)
			img->by_name[k] = &img->syms[k];
		qsort(img->by_name, img->nsyms, sizeof(*img->by_name), namecmp);
		return 0;
	}
	return 0;
}

int elf_parse(struct elf_image *img, const void *data, size_t size, char *err, size_t errlen)
{
	const Elf32_Ehdr *eh;

	memset(img, 0, sizeof(*img));
	if ((img->data = malloc(size ? size : 1)) == NULL)
		return errorf(err, errlen, "out of memory");
	memcpy(img->data, data, size);
	img->size = size;
	eh = (const Elf32_Ehdr *)img->data;
	if (check_header(eh, size, err, errlen) < 0 || load_segments(img, eh, err, errlen) < 0 ||
	    load_symbols(img, eh, err, errlen) < 0) {
		elf_free(img);
		return -1;
	}
	img->entry = eh->e_entry;
	return 0;
}

int elf_load_file(struct elf_image *img, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc;

	if (f == NULL)
		return errorf(err, errlen, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc(n ? n : 1)) == NULL || fread(buf, 1, n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return errorf(err, errlen, "%s: cannot read the file", path);
	}
	fclose(f);
	rc = elf_parse(img, buf, n, err, errlen);
	free(buf);
	if (rc < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err);
		return errorf(err, errlen, "%s: %s", path, msg);
	}
	return 0;
}

void elf_free(struct elf_image *img)
{
	free(img->data);
	free(img->syms);
	free(img->by_name);
	memset(img, 0, sizeof(*img));
}

const struct elf_symbol *elf_find(const struct elf_image *img, const char *name)
{
	size_t lo = 0, hi = img->nsyms;

	while (lo < hi) {	/* lo = the first symbol whose name is not below name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(img->by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < img->nsyms && strcmp(img->by_name[lo]->name, name) == 0 ? img->by_name[lo] : NULL;
}

const struct elf_symbol *elf_symbolize(const struct elf_image *img, uint32_t addr, uint32_t *off)
{
	size_t lo = 0, hi = img->nsyms;
	const struct elf_symbol *s;

	while (lo < hi) {	/* lo = number of symbols at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (img->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &img->syms[lo - 1];
	while (lo > 1 && img->syms[lo - 2].addr == s->addr && !s->is_func)
		s = &img->syms[--lo - 1];	/* prefer a function at the same address */
	/* Past the end of a sized symbol; one past is still it (the return
	 * address of a call to a noreturn function). */
	if (s->size != 0 && addr - s->addr > s->size)
		return NULL;
	if (off != NULL)
		*off = addr - s->addr;
	return s;
}

const char *elf_addr_name(const struct elf_image *img, uint32_t addr, char *buf, size_t len)
{
	uint32_t off;
	const struct elf_symbol *s = elf_symbolize(img, addr, &off);
	int n;

	if (s == NULL) {
		snprintf(buf, len, "0x%08x", addr);
		return buf;
	}
	n = (int)strcspn(s->name, ".");	/* kmem_alloc.constprop.0 reads as kmem_alloc */
	if (off == 0)
		snprintf(buf, len, "%.*s", n, s->name);
	else
		snprintf(buf, len, "%.*s+0x%x", n, s->name, off);
	return buf;
}
