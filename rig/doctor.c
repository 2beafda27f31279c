/*
 * doctor.c - owns the table of what each rule needs from a guest's
 * descriptor, and `rig doctor`: for one guest, each rule as checked,
 * partly checked or not checked, and why; for none, the builds there are.
 * The checker follows the same table: a rule part whose input a guest does
 * not declare is skipped, never reported as a violation.
 */
#include "doctor.h"

#include <stdio.h>
#include <string.h>

#include "gview.h"
#include "guests.h"
#include "invariants.h"
#include "util.h"

/*
 * One input of a rule: a descriptor key, and what the rule does with it and
 * without it. Without NULL: the rule cannot run without the key. full: a
 * guest without the key is still checked in full (it makes no such promise,
 * or has no such thing); otherwise the rule is only partly checked.
 */
struct need {
	const char *key;
	const char *with, *without;
	int full;
};

struct rule_needs {
	const char *id;
	const char *always;		/* what is checked from the runtime ABI and the required keys */
	struct need needs[4];
};

static const struct rule_needs rules[] = {
	{ "PD-SELFMAP", "the recursive slot the guest reports in guest_info", { { 0 } } },
	{ "PD-KERNEL", "the kernel slots (from KERNBASE in guest_info) of every directory on pmap.all", { { 0 } } },
	{ "PT-COUNT", "an empty user page table is freed", {
		{ "page.role", "its vm_page is in the ptp role", "page-table role not checked (no page.role)", 0 },
		{ "page.wire_count", "it counts its valid PTEs", "PTE count not checked (no page.wire_count)", 0 } } },
	{ "PV-MAPPING", "PTEs, in-use chunk entries and page.pv_list lists agree one to one", {
		{ "page.pv_count", "lists are as long as page.pv_count", "no pv count to compare (lists are counted)", 1 },
		{ "count.entries", "the pages' lists add up to count.entries", "no global entry count to compare", 1 } } },
	{ "PV-CHUNK-BITMAP", "listed entries are in use in the chunk.map bitmap; no bits past the last entry", {
		{ "count.entries", "in-use bits add up to count.entries", "no global entry count to compare", 1 } } },
	{ "PV-CHUNK-LISTS", "each chunk on its owner's chunk.link list once, links point back", {
		{ "chunk.global", "and once on the chunk.global list", "no global chunk list (chunks found from the pmaps)", 1 },
		{ "chunk.order", "chunks with free entries ahead of full ones (chunk.order free-first)",
		  "any chunk order (the guest promises none)", 1 } } },
	{ "PV-CHUNK-EMPTY", "no chunk with no entry in use survives a step", {
		{ "chunk.spare", "except parked ones on chunk.spare", "", 1 } } },
	{ "PV-KVA", "every slot of the chunk KVA block is mapped to a listed chunk or free", {
		{ "kva.block", "the block from kva.block", NULL, 0 },
		{ "kva.free", "free slots tracked by the declared kind", "free slots not tracked (no kva.free)", 0 },
		{ "page.role", "mapped slots hold pages in the pvchunk role", "slots' pages not checked by role", 0 } } },
	{ "TLB-STALE", "cached translations (the host's TLB model) against the tables", { { 0 } } },
	{ "PAGE-STATE", "pages by role: free pages unmapped and without pv entries", {
		{ "page.role", "roles from page.role", NULL, 0 },
		{ "page.free_count", "free pages add up to page.free_count", "no free-page count to compare", 0 } } },
	{ "STATS", "pm_stats against the page tables", {
		{ "pmap.resident", "resident and wired counts from pmap.resident and pmap.wired", NULL, 0 } } },
	{ "MODEL", "translations against the reference model", {
		{ "reclaim.function", "mappings may vanish only where the declared reclaim function cleared them",
		  "no reclaim: every vanished mapping is a violation", 1 },
		{ "reclaim.kernel=yes", "unwired kernel mappings too", "kernel mappings never", 1 } } },
	{ "LOCK-ORDER", "lock classes acquired in one order", {
		{ "lock.acquire", "through lock.acquire and lock.release", NULL, 0 },
		{ "lock.trylock", "a trylock holds without adding order", "no trylock declared", 1 },
		{ "lock.name", "classes by lock.name", "each lock its own class (no lock.name)", 0 } } },
	{ "LOCK-RECURSE", "a held lock acquired again", {
		{ "lock.acquire", "through lock.acquire and lock.release", NULL, 0 },
		{ "lock.recursable", "unless its lock.recursable bit is set", "every lock non-recursive", 1 } } },
	{ "LOCK-HELD", "no API call returns with a lock held", {
		{ "lock.acquire", "through lock.acquire and lock.release", NULL, 0 } } },
	{ "AD-DIRTY-LOST", "a dirty page keeps PG_M in a live managed PTE", {
		{ "page.aflags", "or the modified bit of page.aflags", NULL, 0 } } },
	{ "AD-REF-LOST", "a referenced page keeps PG_A in a live managed PTE", {
		{ "page.aflags", "or the referenced bit of page.aflags", NULL, 0 } } },
	{ "TLB-SHOOTDOWN", "every CPU's TLB model against the entries another CPU's call changed", {
		{ "smp", "with `cpus N` (the runtime ABI's gi_maxcpu, gi_ap_init, gi_ipi_entry)", NULL, 0 } } },
	{ "SHOOTDOWN-SET", "each RIG_PORT_IPI's CPU set against the CPUs with the pmap in CR3; acks after invalidation", {
		{ "smp", "with `cpus N`", NULL, 0 } } },
};

enum rule_status doctor_rule(const struct contract *ct, const char *id, char *why, size_t len)
{
	const struct rule_needs *r = NULL;
	enum rule_status st = RULE_CHECKED;
	size_t n;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && r == NULL; i++)
		if (!strcmp(rules[i].id, id))
			r = &rules[i];
	if (r == NULL)
		return snprintf(why, len, "unknown rule"), RULE_NOT;
	n = (size_t)snprintf(why, len, "%s", r->always);
	for (int k = 0; k < 4 && r->needs[k].key != NULL && n < len; k++) {
		const struct need *nd = &r->needs[k];
		int have = !strcmp(nd->key, "reclaim.kernel=yes") ? ct->reclaim_kernel : contract_has(ct, nd->key);

		if (!have && nd->without == NULL) {
			snprintf(why, len, "needs %s in the descriptor", nd->key);
			return RULE_NOT;
		}
		if (!have && !nd->full)
			st = RULE_PARTLY;
		if (have || nd->without[0] != '\0')
			n += (size_t)snprintf(why + n, len - n, "; %s", have ? nd->with : nd->without);
	}
	return st;
}

const char *doctor_status_name(enum rule_status st)
{
	return st == RULE_CHECKED ? "checked" : st == RULE_PARTLY ? "partly" : "not checked";
}

/* The builds there are, one per line with the features their descriptor declares. */
static int list_builds(void)
{
	char names[GUESTS_MAX][GUEST_NAME_MAX];
	int n = guests_list(names, GUESTS_MAX, 0);

	printf("guest builds (rig doctor NAME explains one):\n");
	for (int i = 0; i < n; i++)
		printf("  %s\n", names[i]);
	printf("and buggy-NAME for each planted bug (rig invariants)\n");
	return RIG_EXIT_OK;
}

/* rig doctor --keys: the descriptor's keys, then the features, as Markdown tables. */
static int print_keys(void)
{
	const char *key, *args, *meaning;
	int req;

	printf("| key | arguments | required |\n|---|---|---|\n");
	for (int i = 0; (key = contract_key(i, &args, &req)) != NULL; i++)
		printf("| `%s` | `%s` | %s |\n", key, args, req ? "yes" : "no");
	printf("\n| feature | what the guest promises |\n|---|---|\n");
	for (int i = 0; (key = contract_feature(i, &meaning)) != NULL; i++)
		printf("| `%s` | %s |\n", key, meaning);
	return RIG_EXIT_OK;
}

/* rig doctor --rules: what each rule checks always, and with and without each key. */
static int print_rules(void)
{
	printf("| rule | always | key | with it | without it |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule_needs *r = &rules[i];

		printf("| %s | %s |", r->id, r->always);
		if (r->needs[0].key == NULL)
			printf(" | | |\n");
		for (int k = 0; k < 4 && r->needs[k].key != NULL; k++) {
			const struct need *nd = &r->needs[k];

			if (k > 0)
				printf("| | |");
			printf(" `%s` | %s | %s%s |\n", nd->key, nd->with, nd->without == NULL ? "not checked" :
			    nd->without[0] ? nd->without : "-", nd->without != NULL && !nd->full ? " (partly checked)" : "");
		}
	}
	return RIG_EXIT_OK;
}

int cmd_doctor(int argc, char **argv)
{
	char path[512], err[512], why[512];
	struct machine_config cfg = { 0 };
	struct machine m;
	const char *arg;

	if (argc == 1)
		return list_builds();
	if (argc == 2 && !strcmp(argv[1], "--keys"))
		return print_keys();
	if (argc == 2 && !strcmp(argv[1], "--rules"))
		return print_rules();
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: rig doctor [GUEST | PATH.elf | --keys | --rules]\n");
		return RIG_EXIT_USAGE;
	}
	arg = argv[1];
	cfg.guest_path = strchr(arg, '/') ? arg : guests_path(arg, path, sizeof(path));
	if (!strchr(arg, '/') && !guests_exists(arg)) {
		fprintf(stderr, "rig: error: no guest build '%s' (rig doctor lists them)\n", arg);
		return RIG_EXIT_USAGE;
	}
	if (machine_open(&m, &cfg, err, sizeof(err)) < 0) {
		print_error(err);
		return strstr(err, "did not boot") ? RIG_EXIT_GUEST : RIG_EXIT_USAGE;
	}
	printf("guest %s: descriptor read, boots (KERNBASE 0x%08x, recursive slot %u, PTmap 0x%08x)\n", arg,
	    m.lay.kernbase, m.lay.self, m.lay.ptmap);
	printf("features:");
	for (int i = 0; i < m.ct.nfeatures; i++)
		printf(" %s", m.ct.features[i]);
	printf("%s\n", m.ct.nfeatures ? "" : " (none)");
	for (const struct invariant_info *i = invariant_catalog; i->id != NULL; i++) {
		enum rule_status st = doctor_rule(&m.ct, i->id, why, sizeof(why));

		printf("  %-16s %-12s %s\n", i->id, doctor_status_name(st), why);
	}
	machine_close(&m);
	return RIG_EXIT_OK;
}
