/* elfload.h - load an i386 ELF executable: segments, entry, symbols. */
#ifndef RIG_ELFLOAD_H
#define RIG_ELFLOAD_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint32_t vaddr, paddr;	/* link and load addresses */
	uint32_t filesz, memsz;
	uint32_t offset;	/* in the file */
	uint32_t flags;		/* PF_X | PF_W | PF_R */
};

struct elf_symbol {
	uint32_t addr, size;
	const char *name;	/* points into the image's string table */
	int is_func;
};

struct elf_image {
	uint8_t *data;		/* the whole file */
	size_t size;
	uint32_t entry;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	int nseg;
	struct elf_symbol *syms;	/* sorted by address */
	size_t nsyms;
	const struct elf_symbol **by_name;	/* the same, sorted by name, then address */
};

/* Parse an ELF image held in memory (copied); 0 or -1 with a message in err. */
int elf_parse(struct elf_image *img, const void *data, size_t size, char *err, size_t errlen);
/* Read and parse a file. */
int elf_load_file(struct elf_image *img, const char *path, char *err, size_t errlen);
void elf_free(struct elf_image *img);
/* The symbol called name, or NULL. */
const struct elf_symbol *elf_find(const struct elf_image *img, const char *name);
/* The function symbol containing addr (offset in *off), or NULL. */
const struct elf_symbol *elf_symbolize(const struct elf_image *img, uint32_t addr, uint32_t *off);
/* Format addr as "symbol+0xoff" (or hex) into buf. */
const char *elf_addr_name(const struct elf_image *img, uint32_t addr, char *buf, size_t len);

#endif
