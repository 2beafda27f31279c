/* test_elf.c - the ELF loader on the real guest and on malformed files. */
#include <elf.h>
#include <stdlib.h>

#include "harness.h"
#include "elfload.h"

static uint8_t *guest_bytes(size_t *size)
{
	char path[512];
	FILE *f = fopen(cli_guest_path("ptelist", path, sizeof(path)), "rb");
	uint8_t *buf;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*size);
	ck_assert_uint_eq(fread(buf, 1, *size, f), *size);
	fclose(f);
	return buf;
}

/* Parse buf and return the error message (static), "" on success. */
static const char *parse_error(const uint8_t *buf, size_t size)
{
	static char err[256];
	struct elf_image img;

	err[0] = '\0';
	if (elf_parse(&img, buf, size, err, sizeof(err)) == 0)
		elf_free(&img);
	return err;
}

START_TEST(loads_guest)
{
	size_t size;
	uint8_t *buf = guest_bytes(&size);
	struct elf_image img;
	char err[256];
	const struct elf_symbol *s;
	uint32_t off;

	ck_assert_int_eq(elf_parse(&img, buf, size, err, sizeof(err)), 0);
	ck_assert_uint_eq(img.entry, 0x100000);
	ck_assert_int_eq(img.nseg, 3);
	ck_assert_uint_eq(img.seg[0].vaddr, 0xc0100000);
	ck_assert_uint_eq(img.seg[0].paddr, 0x00100000);
	s = elf_find(&img, "pmap_enter");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->is_func, 1);
	ck_assert_ptr_eq(elf_symbolize(&img, s->addr + 5, &off), s);
	ck_assert_uint_eq(off, 5);
	ck_assert_ptr_null(elf_find(&img, "no_such_symbol"));
	elf_free(&img);
	free(buf);
}
END_TEST

START_TEST(rejects_truncated)
{
	size_t size;
	uint8_t *buf = guest_bytes(&size);

	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
	Elf32_Phdr *ph = (Elf32_Phdr *)(buf + eh->e_phoff);
	char want[256];

	ck_assert_str_eq(parse_error(buf, 20), "not an ELF file");
	snprintf(want, sizeof(want), "segment 0 is truncated: bytes %u+%u beyond the file's 4352",
	    ph[0].p_offset, ph[0].p_filesz);
	ck_assert_uint_eq(ph[0].p_offset, 4096);
	ck_assert_str_eq(parse_error(buf, 4352), want);
	free(buf);
}
END_TEST

START_TEST(rejects_wrong_class_and_machine)
{
	size_t size;
	uint8_t *buf = guest_bytes(&size);
	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;

	eh->e_ident[EI_CLASS] = ELFCLASS64;
	ck_assert_str_eq(parse_error(buf, size), "wrong ELF class 2: the guest must be ELF32");
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_machine = EM_X86_64;
	ck_assert_str_eq(parse_error(buf, size), "wrong machine 62: the guest must be i386 (EM_386)");
	eh->e_machine = EM_386;
	eh->e_type = ET_DYN;
	ck_assert_str_eq(parse_error(buf, size), "not an executable (e_type 3)");
	free(buf);
}
END_TEST

START_TEST(rejects_overlapping_segments)
{
	size_t size;
	uint8_t *buf = guest_bytes(&size);
	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
	Elf32_Phdr *ph = (Elf32_Phdr *)(buf + eh->e_phoff);

	ph[1].p_paddr = ph[0].p_paddr + 0x1000;
	ck_assert_str_eq(parse_error(buf, size), "segments overlap at physical 0x100000 and 0x101000");
	free(buf);
}
END_TEST

START_TEST(rejects_bad_program_headers)
{
	size_t size;
	uint8_t *buf = guest_bytes(&size);
	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;

	eh->e_phoff = size - 8;
	ck_assert_str_eq(parse_error(buf, size), "truncated or missing program headers");
	free(buf);
}
END_TEST

START_TEST(missing_file_is_an_error)
{
	struct elf_image img;
	char err[256];

	ck_assert_int_eq(elf_load_file(&img, "/nonexistent/guest.elf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/guest.elf: No such file or directory");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("loader");

	tcase_add_test(tc, loads_guest);
	tcase_add_test(tc, rejects_truncated);
	tcase_add_test(tc, rejects_wrong_class_and_machine);
	tcase_add_test(tc, rejects_overlapping_segments);
	tcase_add_test(tc, rejects_bad_program_headers);
	tcase_add_test(tc, missing_file_is_an_error);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
