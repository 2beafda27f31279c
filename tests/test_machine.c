/*
 * test_machine.c - the machine: boot with paging, host-to-guest calls,
 * panics, faults and hangs reported with symbols, and recovery after each.
 */
#include "harness.h"
#include "guestsym.h"
#include "walk.h"

START_TEST(boots_with_paging_on)
{
	struct machine m;
	struct guest_info *gi;

	boot(&m);
	gi = machine_info(&m);
	ck_assert_uint_eq(gi->gi_booted, 1);
	ck_assert_uint_eq(machine_reg(&m, UC_X86_REG_CR0) & (CR0_PG | CR0_WP | CR0_PE),
	    CR0_PG | CR0_WP | CR0_PE);
	/* The CR3 the CPU holds is the directory locore built: boot_pd's physical address. */
	ck_assert_uint_eq(machine_reg(&m, UC_X86_REG_CR3), guest_symbol(&m, "boot_pd") - gi->gi_kernbase);
	ck_assert_uint_eq(gi->gi_boot_cr3, machine_reg(&m, UC_X86_REG_CR3));
	ck_assert(contract_has(&m.ct, "kva-ptelist"));
	ck_assert_uint_eq(gword(&m, "vm_page_array_size"), 8192);
	/* the layout the guest reported is the one the host works with */
	ck_assert_uint_eq(m.lay.kernbase, gi->gi_kernbase);
	ck_assert_uint_eq(m.lay.self, gi->gi_ptdptdi);
	ck_assert_uint_eq(m.lay.ptmap, gi->gi_ptdptdi << PDRSHIFT);
	machine_close(&m);
}
END_TEST

START_TEST(call_passes_arguments_and_returns_eax)
{
	struct machine m;

	boot(&m);
	ck_assert_uint_eq(CALL(&m, "rigtest_args", 1, 2, 3, 4, 5, 6, 7, 8),
	    1 + 4 + 9 + 16 + 25 + 36 + 49 + 64);
	ck_assert_uint_eq(CALL(&m, "rigtest_args", 0xffffffff, 0, 0, 0, 0, 0, 0, 1), 7);
	ck_assert_uint_eq(CALL(&m, "rigtest_load", guest_symbol(&m, "guest_info")), RIG_INFO_MAGIC);
	machine_close(&m);
}
END_TEST

START_TEST(unknown_function_is_an_error)
{
	struct machine m;

	boot(&m);
	ck_assert_int_eq(GCALL(&m, "no_such_function", NULL), STOP_ERROR);
	ck_assert_str_eq(m.stop.message, "no guest function no_such_function");
	machine_close(&m);
}
END_TEST

START_TEST(panic_is_reported_with_message_and_symbol)
{
	struct machine m;
	char buf[512];

	boot(&m);
	ck_assert_int_eq(GCALL(&m, "rigtest_panic", NULL, 42), STOP_PANIC);
	ck_assert_str_eq(m.stop.message, "rigtest panic 42");
	machine_describe_stop(&m, buf, sizeof(buf));
	ck_assert_int_eq(m.stop.nframes, 1);
	ck_assert_uint_eq(m.stop.frames[0] - guest_symbol(&m, "rigtest_panic") < 0x40, 1);
	ck_assert_msg(strncmp(buf, "guest panic: \"rigtest panic 42\" in rigtest_panic+0x", 50) == 0, "%s", buf);
	machine_close(&m);
}
END_TEST

START_TEST(page_fault_is_reported_with_cr2_and_instruction)
{
	struct machine m;
	char buf[512];

	boot(&m);
	ck_assert_int_eq(GCALL(&m, "rigtest_load", NULL, 0x08048000), STOP_FAULT);
	ck_assert_int_eq(m.stop.vector, 14);
	ck_assert_uint_eq(m.stop.cr2, 0x08048000);
	machine_describe_stop(&m, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "guest fault: #PF page fault (vector 14) at rigtest_load+0x", 58) == 0, "%s", buf);
	ck_assert_msg(strstr(buf, ": mov eax, dword ptr [eax]; CR2=0x08048000") != NULL, "%s", buf);
	machine_close(&m);
}
END_TEST

/* An address inside inlined code has a frame per inlined call, innermost first, as gdb's bt shows them. */
START_TEST(inlined_frames_have_source_lines)
{
	struct machine m;
	struct src_frame f[SRC_MAX_FRAMES];
	char buf[1024];
	int n;

	boot(&m);
	ck_assert_int_eq(GCALL(&m, "rigtest_inlined_ud2", NULL), STOP_FAULT);
	n = guest_src_frames(&m, m.stop.eip, 0, f, SRC_MAX_FRAMES);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(f[0].fn, "rigtest_inner_ud2");
	ck_assert_str_eq(f[1].fn, "rigtest_middle_ud2");
	ck_assert_str_eq(f[2].fn, "rigtest_inlined_ud2");
	ck_assert(f[0].inlined && f[1].inlined && !f[2].inlined);
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(f[i].file, "rigtest.c");
		ck_assert_int_gt(f[i].line, 0);
	}
	/* each frame stands where the frame inside it was called (the callee is defined above its caller) */
	ck_assert_int_lt(f[0].line, f[1].line);
	ck_assert_int_lt(f[1].line, f[2].line);
	guest_addr_name(&m, m.stop.eip, 0, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "rigtest_inner_ud2 (rigtest.c:") == buf, "%s", buf);
	ck_assert_msg(strstr(buf, ", inlined) <- rigtest_middle_ud2 (rigtest.c:") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, ", inlined) <- rigtest_inlined_ud2+0x") != NULL, "%s", buf);
	/* --stable: the function and its file only */
	guest_addr_name(&m, m.stop.eip, SYM_STABLE, buf, sizeof(buf));
	ck_assert_str_eq(buf, "rigtest_inlined_ud2 (rigtest.c)");
	machine_close(&m);
}
END_TEST

START_TEST(invalid_opcode_is_reported)
{
	struct machine m;
	char buf[512];

	boot(&m);
	ck_assert_int_eq(GCALL(&m, "rigtest_ud2", NULL), STOP_FAULT);
	ck_assert_int_eq(m.stop.vector, 6);
	ck_assert_uint_eq(m.stop.eip, guest_symbol(&m, "rigtest_ud2"));
	machine_describe_stop(&m, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "#UD invalid opcode (vector 6) at rigtest_ud2 (rigtest.c:") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, ") [0x") != NULL && strstr(buf, "]: ud2") != NULL, "%s", buf);
	machine_close(&m);
}
END_TEST

START_TEST(runaway_guest_is_stopped)
{
	struct machine m;
	char path[512], err[512], buf[512];
	struct machine_config cfg = { cli_guest_path("ptelist", path, sizeof(path)), 0, 0, 100, 1 };

	ck_assert_int_eq(machine_open(&m, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(GCALL(&m, "rigtest_spin", NULL), STOP_HANG);
	machine_describe_stop(&m, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "guest hang: no return within 100 ms; stopped at rigtest_spin", 60) == 0, "%s", buf);
	/* ... and the machine still works. */
	ck_assert_uint_eq(CALL(&m, "rigtest_args", 1, 0, 0, 0, 0, 0, 0, 0), 1);
	machine_close(&m);
}
END_TEST

/* Unicorn issue #1883: a second fault must not show up as #DF, nor a third vanish. */
START_TEST(faults_do_not_poison_later_calls)
{
	struct machine m;

	boot(&m);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(GCALL(&m, "rigtest_load", NULL, 0x1000 * (i + 1)), STOP_FAULT);
		ck_assert_int_eq(m.stop.vector, 14);
		ck_assert_uint_eq(m.stop.cr2, 0x1000 * (i + 1));
		ck_assert_uint_eq(CALL(&m, "rigtest_args", 2, 0, 0, 0, 0, 0, 0, 0), 2);
	}
	ck_assert_int_eq(GCALL(&m, "rigtest_panic", NULL, 7), STOP_PANIC);
	ck_assert_int_eq(GCALL(&m, "rigtest_ud2", NULL), STOP_FAULT);
	ck_assert_int_eq(m.stop.vector, 6);
	ck_assert_uint_eq(CALL(&m, "rigtest_args", 3, 0, 0, 0, 0, 0, 0, 0), 3);
	machine_close(&m);
}
END_TEST

/*
 * Real translation: the guest stores through a kernel VA mapped to some
 * page; the value is at the physical address the host's walker computes,
 * which is not the virtual address.
 */
START_TEST(stores_land_at_the_translated_address)
{
	struct machine m;
	struct guest_info *gi;
	uint32_t va, page, pa;
	struct walk w;

	boot(&m);
	gi = machine_info(&m);
	va = gi->gi_kva_free + 0x5000;
	page = CALL(&m, "rig_page_alloc");
	pa = (page - gword(&m, "vm_page_array")) / m.ct.page_size << PAGE_SHIFT;
	CALL(&m, "rig_kenter", va, page);
	CALL(&m, "rigtest_store", va + 0x124, 0xfeedf00d);
	ck_assert_int_eq(walk_va(&m.pm, machine_reg(&m, UC_X86_REG_CR3), 0, va + 0x124, &w), WALK_MAPPED);
	ck_assert_uint_eq(w.pa, pa + 0x124);
	ck_assert_uint_ne(w.pa, va + 0x124);
	ck_assert_uint_eq(phys_read32(&m.pm, pa + 0x124, NULL), 0xfeedf00d);
	/* The store also set the CPU's accessed and dirty bits in the PTE. */
	ck_assert_uint_eq(w.pte, pa | PG_V | PG_RW | PG_A | PG_M);
	machine_close(&m);
}
END_TEST

START_TEST(large_ram_is_lazy)
{
	struct machine m;

	boot_policy(&m, "ptelist", 1ull << 30, 0);
	ck_assert_uint_eq(gword(&m, "vm_page_array_size"), 262144);
	ck_assert_uint_eq(CALL(&m, "rigtest_args", 5, 0, 0, 0, 0, 0, 0, 0), 5);
	machine_close(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("machine");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, boots_with_paging_on);
	tcase_add_test(tc, call_passes_arguments_and_returns_eax);
	tcase_add_test(tc, unknown_function_is_an_error);
	tcase_add_test(tc, panic_is_reported_with_message_and_symbol);
	tcase_add_test(tc, page_fault_is_reported_with_cr2_and_instruction);
	tcase_add_test(tc, invalid_opcode_is_reported);
	tcase_add_test(tc, inlined_frames_have_source_lines);
	tcase_add_test(tc, runaway_guest_is_stopped);
	tcase_add_test(tc, faults_do_not_poison_later_calls);
	tcase_add_test(tc, stores_land_at_the_translated_address);
	tcase_add_test(tc, large_ram_is_lazy);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
