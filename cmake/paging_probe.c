/*
 * paging_probe.c - does this Unicorn translate virtual addresses?
 * PDE[1] -> a page table whose entry 0 maps PA 0x100000, so VA 0x400004 must
 * land at PA 0x100004. Unicorn 2.0.1 walks the tables, then stores at PA
 * 0x400004. Exit 0: translated; 1: identity-forced; 2: emulator error.
 */
#include <stdio.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

static void put32(uc_engine *uc, uint64_t pa, uint32_t v) { uc_mem_write(uc, pa, &v, 4); }
static uint32_t get32(uc_engine *uc, uint64_t pa) { uint32_t v = 0; uc_mem_read(uc, pa, &v, 4); return v; }

int main(void)
{
	/* mov dword [0x400004], 0xdeadbeef; hlt */
	static const uint8_t code[] = { 0xc7, 0x05, 0x04, 0x00, 0x40, 0x00,
					0xef, 0xbe, 0xad, 0xde, 0xf4 };
	uc_engine *uc;
	uc_err err;
	uint32_t cr3 = 0x2000, cr0 = 0x80000001;
	unsigned maj, min;

	uc_version(&maj, &min);
	if ((err = uc_open(UC_ARCH_X86, UC_MODE_32, &uc)) != UC_ERR_OK) {
		printf("uc_open: %s\n", uc_strerror(err));
		return 2;
	}
	uc_mem_map(uc, 0, 8 << 20, UC_PROT_ALL);
	put32(uc, 0x2000 + 0 * 4, 0x4000 | 3);		/* PDE 0 -> identity PT */
	put32(uc, 0x2000 + 1 * 4, 0x3000 | 3);		/* PDE 1 -> probe PT */
	for (uint32_t i = 0; i < 1024; i++)
		put32(uc, 0x4000 + i * 4, (i << 12) | 3);
	put32(uc, 0x3000, 0x100000 | 3);		/* VA 0x400000 -> PA 0x100000 */
	uc_mem_write(uc, 0x1000, code, sizeof(code));
	uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
	uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
	err = uc_emu_start(uc, 0x1000, 0, 0, 100);
	if (err != UC_ERR_OK) {
		printf("Unicorn %u.%u: store through VA 0x400004 failed: %s\n", maj, min, uc_strerror(err));
		return 2;
	}
	if (get32(uc, 0x100004) == 0xdeadbeef) {
		printf("Unicorn %u.%u: VA 0x400004 -> PA 0x100004 (translated)\n", maj, min);
		return 0;
	}
	printf("Unicorn %u.%u: VA 0x400004 was stored at PA 0x%x, not 0x100004: "
	       "translation is identity-forced\n", maj, min,
	       get32(uc, 0x400004) == 0xdeadbeef ? 0x400004 : 0);
	return 1;
}
