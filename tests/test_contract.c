/*
 * test_contract.c - the guest descriptor and the DWARF reader: both guest
 * families resolve to what their own DWARF says, and every kind of
 * mistake in a descriptor is an error at its line and column.
 */
#include <stdlib.h>

#include "contract.h"
#include "doctor.h"
#include "dwinfo.h"
#include "guests.h"
#include "pmaptest.h"

/* The ELF of build name, loaded (the test fails if it cannot be). */
static void load(const char *name, struct elf_image *img, char *path, size_t len)
{
	char err[256];

	guests_path(name, path, len);
	ck_assert_msg(elf_load_file(img, path, err, sizeof(err)) == 0, "%s", err);
}

/* The reference descriptor's offsets are the reference structures' (DWARF = the compiler's view). */
START_TEST(reference_descriptor_matches_its_structs)
{
	struct elf_image img;
	struct contract ct;
	char path[512], err[512];

	load("ptelist", &img, path, sizeof(path));
	ck_assert_msg(contract_load(&ct, path, &img, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ct.pmap_size, sizeof(struct pmap));
	ck_assert_uint_eq(ct.page_size, sizeof(struct vm_page));
	ck_assert_uint_eq(ct.entry_size, sizeof(struct pv_entry));
	ck_assert_uint_eq(ct.pm_dirpa, offsetof(struct pmap, pm_pdir_pa));
	ck_assert_uint_eq(ct.pm_resident.off, offsetof(struct pmap, pm_stats.resident_count));
	ck_assert_uint_eq(ct.pm_link.off, offsetof(struct pmap, pm_list));
	ck_assert_uint_eq(ct.pg_pv_list, offsetof(struct vm_page, pv_list));
	ck_assert_uint_eq(ct.pg_pv_count.off, offsetof(struct vm_page, pv_count));
	ck_assert_uint_eq(ct.pc_map, offsetof(struct pv_chunk, pc_map));
	ck_assert_uint_eq(ct.pc_entries, offsetof(struct pv_chunk, pc_pventry));
	ck_assert_uint_eq(ct.pc_global.off, offsetof(struct pv_chunk, pc_lru));
	ck_assert_uint_eq(ct.npcm, _NPCM);
	ck_assert_uint_eq(ct.npcpv, _NPCPV);
	ck_assert_uint_eq(ct.pv_link.off, offsetof(struct pv_entry, pv_next));
	ck_assert_uint_eq(ct.aflag_mod, PGA_MODIFIED);
	ck_assert_uint_eq(ct.role_val[CT_ROLE_PVCHUNK], VPS_PVCHUNK);
	ck_assert_uint_eq(ct.kva_kind, CT_KVA_PTELIST);
	ck_assert(ct.has_global && ct.has_pv_count && ct.has_role && ct.map_set_is_free && ct.order_free_first);
	ck_assert(contract_has(&ct, "shortage-returns") && contract_has(&ct, "kva-ptelist"));
	ck_assert(contract_has(&ct, "page.pv_count") && !contract_has(&ct, "lock.trylock"));
	ck_assert_str_eq(ct.reclaim_fn, "pmap_pv_reclaim");
	contract_free(&ct);
	elf_free(&img);
}
END_TEST

/* The bsd7 descriptor: other names, narrower fields, fewer promises. */
START_TEST(bsd7_descriptor_declares_its_conventions)
{
	struct elf_image img;
	struct contract ct;
	char path[512], err[512], why[512];

	load("bsd7", &img, path, sizeof(path));
	ck_assert_msg(contract_load(&ct, path, &img, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!ct.has_pv_count && !ct.has_role && !ct.has_global && !ct.order_free_first);
	ck_assert_int_eq(ct.pm_link.kind, CT_LINK_LIST);
	ck_assert_uint_eq(ct.pg_wire_count.size, 2);
	ck_assert_uint_eq(ct.pg_aflags.size, 1);
	ck_assert(ct.reclaim_kernel && !ct.enter_returns);
	ck_assert_str_eq(ct.lock_trylock, "mtx_trylock");
	ck_assert_str_eq(ct.name.pv_list, "md.pv_list");
	ck_assert(!contract_has(&ct, "shortage-returns") && contract_has(&ct, "kva.free"));
	ck_assert_int_eq(doctor_rule(&ct, "PAGE-STATE", why, sizeof(why)), RULE_NOT);
	ck_assert_str_eq(why, "needs page.role in the descriptor");
	ck_assert_int_eq(doctor_rule(&ct, "PT-COUNT", why, sizeof(why)), RULE_PARTLY);
	ck_assert_int_eq(doctor_rule(&ct, "PV-MAPPING", why, sizeof(why)), RULE_CHECKED);
	ck_assert_int_eq(doctor_rule(&ct, "LOCK-ORDER", why, sizeof(why)), RULE_CHECKED);
	contract_free(&ct);
	elf_free(&img);
}
END_TEST

/* Member paths through nested and anonymous structs and arrays; names back from offsets. */
START_TEST(dwarf_paths_and_names)
{
	char path[512], err[256], name[128];
	struct dwinfo *d = dw_open(guests_path("ptelist", path, sizeof(path)), err, sizeof(err));
	struct dw_field f;

	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_int_eq(dw_member(d, "vm_page", "pv_list.tqh_last", &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.off, offsetof(struct vm_page, pv_list.tqh_last));
	ck_assert_int_eq(dw_member(d, "pv_chunk", "pc_pventry", &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.count, _NPCPV);
	ck_assert_uint_eq(f.elem_size, sizeof(struct pv_entry));
	ck_assert_int_eq(dw_var_member(d, "pv_stats", "pv_reclaimed", &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.off, offsetof(struct pv_stats, pv_reclaimed));
	ck_assert_int_eq(dw_member(d, "vm_page", "pv_lst", &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "struct vm_page has no member pv_lst");
	ck_assert_int_eq(dw_member(d, "vm_pages", "state", &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the guest's DWARF has no struct vm_pages");
	ck_assert_int_eq(dw_name_at(d, "pv_chunk", offsetof(struct pv_chunk, pc_pventry[7].pv_next.tqe_prev),
	    name, sizeof(name)), 0);
	ck_assert_str_eq(name, "pc_pventry[7].pv_next.tqe_prev");
	dw_close(d);
}
END_TEST

/* A minimal descriptor of the reference guest, with one line replaced or added. */
static const char *const base_lines[] = {
	"contract 1", "struct.pmap pmap", "struct.page vm_page", "struct.chunk pv_chunk", "struct.entry pv_entry",
	"pmap.cr3 pm_pdir_pa", "pmap.chunks pm_pvchunk", "pmap.link pm_list tailq", "pmap.kernel kernel_pmap_store",
	"pmap.all allpmaps", "page.array vm_page_array", "page.count vm_page_array_size", "page.pv_list pv_list",
	"entry.va pv_va", "entry.link pv_next tailq", "chunk.owner pc_pmap", "chunk.map pc_map free=1",
	"chunk.entries pc_pventry", "chunk.link pc_list tailq", "kva.block pv_chunkbase pv_maxchunks",
};
#define NBASE	(sizeof(base_lines) / sizeof(base_lines[0]))

/* Parse base_lines with line `replace` (1-based; 0: none) replaced by `with`, then `extra`; the error. */
static const char *parse_with(int replace, const char *with, const char *extra)
{
	static char err[512];
	char text[4096] = "", path[512];
	struct elf_image img;
	struct contract ct;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < NBASE; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", (int)i + 1 == replace ? with : base_lines[i]);
	snprintf(text + n, sizeof(text) - n, "%s", extra);
	load("ptelist", &img, path, sizeof(path));
	rc = contract_parse(&ct, "t.contract", text, strlen(text), path, &img, err, sizeof(err));
	if (rc == 0) {
		contract_free(&ct);
		snprintf(err, sizeof(err), "(no error)");
	}
	elf_free(&img);
	return err;
}

START_TEST(descriptor_errors_name_line_and_column)
{
	ck_assert_str_eq(parse_with(0, "", ""), "(no error)");
	ck_assert_str_eq(parse_with(0, "", "pmap.resident pm_stats.resident_count\npmap.wired pm_stats.wired_count\n"),
	    "(no error)");
	ck_assert_str_eq(parse_with(6, "pmap.cr pm_pdir_pa", ""), "t.contract:6:1: error: unknown key 'pmap.cr'; did you mean 'pmap.cr3'?");
	ck_assert_str_eq(parse_with(6, "# no directory", ""), "t.contract:21:1: error: missing required key 'pmap.cr3 MEMBER'");
	ck_assert_str_eq(parse_with(6, "pmap.cr3 pm_pdir_px", ""), "t.contract:6:10: error: struct pmap has no member pm_pdir_px");
	ck_assert_str_eq(parse_with(9, "pmap.kernel kernel_pmap", ""), "t.contract:9:13: error: the guest has no symbol 'kernel_pmap'");
	ck_assert_str_eq(parse_with(17, "chunk.map pc_map free=2", ""),
	    "t.contract:17:18: error: bitmap polarity is free=1 (a set bit is a free entry) or free=0");
	ck_assert_str_eq(parse_with(8, "pmap.link pm_list dlist", ""), "t.contract:8:19: error: unknown list kind 'dlist' (tailq or list)");
	ck_assert_str_eq(parse_with(8, "pmap.link pm_id tailq", ""),
	    "t.contract:8:11: error: pmap.pm_id is 4 bytes, not a list link (next, prev)");
	ck_assert_str_eq(parse_with(1, "contract 2", ""), "t.contract:1:10: error: contract version 2; this rig reads version 1");
	ck_assert_str_eq(parse_with(0, "", "entry.va pv_va\n"), "t.contract:21:1: error: entry.va is declared twice (first at line 14)");
	ck_assert_str_eq(parse_with(0, "", "pmap.resident pm_stats.resident_count\n"),
	    "t.contract:21:1: error: pmap.resident and pmap.wired are declared together (the STATS rule needs both)");
	ck_assert_str_eq(parse_with(0, "", "feature shortage-return\n"),
	    "t.contract:21:9: error: unknown feature 'shortage-return'; did you mean 'shortage-returns'?");
	ck_assert_str_eq(parse_with(0, "", "counter reclaims pv_stats.pv_reclaimed\n"),
	    "t.contract:21:9: error: unknown counter 'reclaims'; did you mean 'reclaimed'?");
	ck_assert_str_eq(parse_with(0, "", "reclaim.function pv_reclaim_nowhere\n"),
	    "t.contract:21:18: error: the guest has no function 'pv_reclaim_nowhere'");
	ck_assert_str_eq(parse_with(0, "", "page.role state free=2 sleeping=9\n"),
	    "t.contract:21:24: error: expected ROLE=VALUE with ROLE one of reserved, free, managed, ptp, pdir, pvchunk, "
	    "kmem; not 'sleeping=9'");
	ck_assert_str_eq(parse_with(20, "# no block", "kva.free ptelist pv_vafree\n"),
	    "t.contract:22:1: error: missing required key 'kva.block BASE-SYMBOL SLOTS-SYMBOL'");
	ck_assert_str_eq(parse_with(0, "", "lock.trylock lock_acquire\n"),
	    "t.contract:21:1: error: lock.acquire and lock.release are declared together (lock.trylock needs them)");
	ck_assert_str_eq(parse_with(0, "", "page.aflags aflags referenced=0x1 modified=0x1\n"),
	    "t.contract:21:20: error: page.aflags needs two distinct non-zero bits, referenced= and modified=");
	ck_assert_str_eq(parse_with(0, "", "entry.va\n"), "t.contract:21:1: error: usage: entry.va MEMBER");
	ck_assert_str_eq(parse_with(0, "", "bad\x01key\n"), "t.contract:21:4: error: a control or binary byte (0x01)");
}
END_TEST

/* A guest ELF without the section: a clear error naming what is missing. */
START_TEST(elf_without_descriptor)
{
	struct elf_image img;
	struct contract ct;
	char err[512];

	ck_assert_int_eq(elf_load_file(&img, "/proc/self/exe", err, sizeof(err)), -1);	/* not i386 */
	memset(&img, 0, sizeof(img));
	ck_assert_int_eq(contract_load(&ct, "/proc/self/exe", &img, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/proc/self/exe: no .rig_contract section: the guest ships no descriptor "
	    "(docs/guest-contract.md)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("contract");
	TCase *tc = tcase_create("contract");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reference_descriptor_matches_its_structs);
	tcase_add_test(tc, bsd7_descriptor_declares_its_conventions);
	tcase_add_test(tc, dwarf_paths_and_names);
	tcase_add_test(tc, descriptor_errors_name_line_and_column);
	tcase_add_test(tc, elf_without_descriptor);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
