/*
 * attrib.h - which guest instruction made a store. A store into a watched
 * frame reaches the host through the MMU's alias window, where Unicorn's EIP
 * is only that of the last synced instruction. The block being executed is
 * known exactly (a UC_HOOK_BLOCK hook); its instructions that can store are
 * decoded once (Capstone); the store is matched to the one whose effective
 * address, computed from the live registers, is where the bytes landed
 * (and, for a plain mov, whose source is what was stored). When a block
 * leaves the choice open, its stores become code sites at once, which make
 * EIP exact from its next execution on.
 */
#ifndef RIG_ATTRIB_H
#define RIG_ATTRIB_H

#include <capstone/capstone.h>
#include <stdint.h>

#include "machine.h"

#define ATTRIB_MAX_CANDS	48	/* stores per block considered */

/* An instruction of a block that can store, and how to find where. */
struct attrib_cand {
	uint32_t addr;
	uint8_t size;		/* bytes the memory operand covers */
	uint16_t insn;		/* its index among the block's instructions */
	uint16_t uses;		/* its address registers (bit per SLOT) */
	uint8_t stack;		/* push/call: the store is at ESP - size */
	uint8_t has_value;	/* a plain mov: the value stored is known */
	int base, index;	/* Unicorn registers, 0 = none */
	uint32_t scale, disp;
	int src;		/* the mov's source register (0: the immediate) */
	uint32_t imm;
};

struct attrib_block {
	uint32_t start, end;	/* end: after its last instruction */
	int n, ninsn;
	uint16_t *written;	/* per instruction: the registers it writes (bit per SLOT) */
	int sited;		/* its stores are code sites: EIP is exact */
	uint64_t sited_exec;	/* ... in block executions after this one */
	struct attrib_cand c[ATTRIB_MAX_CANDS];
};

struct attrib {
	struct machine *m;
	csh cs;
	cs_insn *insn;
	struct attrib_block **blocks;	/* open addressing on start */
	uint32_t cap, n;
	uc_hook hook[RIG_MAX_CPUS];	/* one per CPU */
	int hooked;
	uint32_t tb;		/* the block running now */
	uint64_t execs;		/* blocks started so far */
	int last;		/* its candidate attributed last (-1: none yet) */
	uint64_t exact, guessed, unknown;	/* stores attributed so */
};

/* Hook block starts in the guest text. 0 or -1. */
int attrib_init(struct attrib *a, struct machine *m);
void attrib_free(struct attrib *a);
/* Forget what runs taught it (sited blocks, counts); keep the decoded blocks and the hook. */
void attrib_restart(struct attrib *a);
/*
 * The instruction that stored size bytes of value at physical pa, in *eip:
 * 0 exact, 1 a guess between candidates the registers cannot tell apart,
 * -1 no candidate matched (*eip is the block's start). Either failure makes
 * the block's stores code sites for its executions that follow.
 */
int attrib_store(struct attrib *a, uint64_t pa, unsigned size, uint64_t value, uint32_t *eip);

#endif
