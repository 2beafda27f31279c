/*
 * gdbstub.c - owns a debugging session's protocol side: the stops (a code
 * hook over the guest's text, scenario step starts, break-pte stores), and
 * the gdb packets served while the guest is held. See gdbstub.h.
 *
 * How a stop works: every guest instruction passes the code hook before it
 * runs, with its exact address. When a stop is due there (a breakpoint, a
 * single step, a break-pte store just made, Ctrl-C), the hook does not
 * return until gdb says continue or step: the guest is held mid-call, its
 * registers and memory as they are. Stops between guest calls (before the
 * first step, at a step's start) are served from the runner's own thread
 * the same way. Nothing is ever stopped with uc_emu_stop, except when gdb
 * kills the run.
 */
#include "gdbstub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "guestsym.h"
#include "machine.h"
#include "runner_priv.h"

/*
 * The registers gdb numbers, in the order of target.xml: the i386 core
 * feature (general, segment, and the x87 registers gdb requires there,
 * which the guest never uses: read as 0), then CR0, CR2, CR3, CR4.
 */
static const int gregs[16] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
	UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EIP, UC_X86_REG_EFLAGS, UC_X86_REG_CS,
	UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS };
static const int cregs[4] = { UC_X86_REG_CR0, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4 };
#define REG_EIP		8
#define REG_ST0		16	/* 8 x 80 bits */
#define REG_FCTRL	24	/* 8 x 32 bits */
#define REG_CR0		32
#define NREGS		36

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
	"<architecture>i386</architecture>\n<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n</feature>\n"
	"<feature name=\"org.pmaprig.i386.cr\">\n"
	"<reg name=\"cr0\" bitsize=\"32\" type=\"int32\" group=\"general\"/>\n"
	"<reg name=\"cr2\" bitsize=\"32\" type=\"int32\" group=\"general\"/>\n"
	"<reg name=\"cr3\" bitsize=\"32\" type=\"int32\" group=\"general\"/>\n"
	"<reg name=\"cr4\" bitsize=\"32\" type=\"int32\" group=\"general\"/>\n</feature>\n</target>\n";

static const char hexdig[] = "0123456789abcdef";

/* n bytes as hex into out (2n + 1 bytes). */
static void hex_bytes(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A hex number of at most 8 digits at *p, up to a non-hex character; 0 or -1. */
static int hex_u32(const char **p, uint32_t *v)
{
	int n = 0;

	*v = 0;
	while (rsp_hexval(**p) >= 0) {
		if (++n > 8)
			return -1;
		*v = *v << 4 | (uint32_t)rsp_hexval(*(*p)++);
	}
	return n > 0 ? 0 : -1;
}

/* len bytes of hex text at p into b; 0 or -1. */
static int unhex(const char *p, uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (rsp_hexval(p[2 * i]) < 0 || rsp_hexval(p[2 * i + 1]) < 0)
			return -1;
		b[i] = (uint8_t)(rsp_hexval(p[2 * i]) << 4 | rsp_hexval(p[2 * i + 1]));
	}
	return 0;
}

/* Register n as target bytes into b; its size. EIP is the held instruction's (exact). */
static size_t reg_bytes(struct gdbstub *g, int n, uint8_t *b)
{
	uint32_t v = 0;

	if (n >= REG_ST0 && n < REG_FCTRL) {
		memset(b, 0, 10);
		return 10;
	}
	if (n == REG_EIP)
		v = g->pc;
	else if (n < REG_ST0)
		v = machine_reg(g->m, gregs[n]);
	else if (n >= REG_CR0 && n < NREGS)
		v = machine_reg(g->m, cregs[n - REG_CR0]);
	memcpy(b, &v, 4);	/* little-endian host and target */
	return 4;
}

static int send_hex_regs(struct gdbstub *g)
{
	char out[2 * (NREGS * 10) + 1];
	size_t used = 0;
	uint8_t b[10];

	for (int n = 0; n < NREGS; n++) {
		size_t k = reg_bytes(g, n, b);

		hex_bytes(out + used, b, k);
		used += 2 * k;
	}
	return rsp_send(&g->c, out);
}

/* p N: one register. */
static int cmd_read_reg(struct gdbstub *g, const char *arg)
{
	uint32_t n;
	uint8_t b[10];
	char out[21];

	if (hex_u32(&arg, &n) < 0 || *arg != '\0' || n >= NREGS)
		return rsp_send(&g->c, "E01");
	hex_bytes(out, b, reg_bytes(g, (int)n, b));
	return rsp_send(&g->c, out);
}

/* P N=VALUE: the general registers and EFLAGS only (EIP stays where the guest is held). */
static int cmd_write_reg(struct gdbstub *g, const char *arg)
{
	uint32_t n, v;
	uint8_t b[4];

	if (hex_u32(&arg, &n) < 0 || *arg++ != '=' || strlen(arg) != 8 || unhex(arg, b, 4) < 0 ||
	    (n > 7 && n != 9))
		return rsp_send(&g->c, "E01");
	memcpy(&v, b, 4);
	machine_set_reg(g->m, gregs[n], v);
	return rsp_send(&g->c, "OK");
}

/* m ADDR,LEN: guest virtual memory under the current CR3, through the host walker. */
static int cmd_read_mem(struct gdbstub *g, const char *arg)
{
	uint32_t addr, len;
	uint8_t buf[RSP_MAX_PACKET / 2];
	char out[RSP_MAX_PACKET + 1];

	if (hex_u32(&arg, &addr) < 0 || *arg++ != ',' || hex_u32(&arg, &len) < 0 || *arg != '\0')
		return rsp_send(&g->c, "E01");
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (machine_vread(g->m, addr, buf, len) < 0)
		return rsp_send(&g->c, "E14");
	hex_bytes(out, buf, len);
	return rsp_send(&g->c, out);
}

/* M ADDR,LEN:BYTES; code written drops its translations, so the guest runs what was written. */
static int cmd_write_mem(struct gdbstub *g, const char *arg)
{
	uint32_t addr, len;
	uint8_t buf[RSP_MAX_PACKET / 2];

	if (hex_u32(&arg, &addr) < 0 || *arg++ != ',' || hex_u32(&arg, &len) < 0 || *arg++ != ':' ||
	    len > sizeof(buf) || strlen(arg) != 2 * (size_t)len || unhex(arg, buf, len) < 0)
		return rsp_send(&g->c, "E01");
	if (machine_vwrite(g->m, addr, buf, len) < 0)
		return rsp_send(&g->c, "E14");
	uc_ctl_remove_cache(g->m->uc, addr, (uint64_t)addr + len);
	return rsp_send(&g->c, "OK");
}

/* Z0/Z1 ADDR,KIND and z0/z1: software and hardware breakpoints are the same here. */
static int cmd_break(struct gdbstub *g, const char *arg, int insert)
{
	uint32_t addr;
	int i;

	if ((arg[0] != '0' && arg[0] != '1') || arg[1] != ',')
		return rsp_send(&g->c, "");	/* watchpoints: not supported (monitor break-pte is ours) */
	arg += 2;
	if (hex_u32(&arg, &addr) < 0 || *arg != ',')
		return rsp_send(&g->c, "E01");
	for (i = 0; i < g->nbreaks && g->breaks[i] != addr; i++)
		;
	if (insert && i == g->nbreaks) {
		if (g->nbreaks == GDB_MAX_BREAKS)
			return rsp_send(&g->c, "E02");
		g->breaks[g->nbreaks++] = addr;
	} else if (!insert && i < g->nbreaks) {
		g->breaks[i] = g->breaks[--g->nbreaks];
	}
	return rsp_send(&g->c, "OK");
}

/* qXfer:features:read:target.xml:OFF,LEN */
static int cmd_xfer(struct gdbstub *g, const char *arg)
{
	static const char prefix[] = "features:read:target.xml:";
	uint32_t off, len;
	size_t total = sizeof(target_xml) - 1, n;
	char out[RSP_MAX_PACKET];

	if (strncmp(arg, prefix, sizeof(prefix) - 1))
		return rsp_send(&g->c, "");
	arg += sizeof(prefix) - 1;
	if (hex_u32(&arg, &off) < 0 || *arg++ != ',' || hex_u32(&arg, &len) < 0 || *arg != '\0')
		return rsp_send(&g->c, "E01");
	if (off >= total)
		return rsp_send(&g->c, "l");
	n = total - off < len ? total - off : len;
	if (n > sizeof(out) / 2 - 1)
		n = sizeof(out) / 2 - 1;
	out[0] = off + n >= total ? 'l' : 'm';
	memcpy(out + 1, target_xml + off, n);
	return rsp_send_bin(&g->c, out, n + 1);
}

/* qRcmd,HEX: a monitor command; its output as console packets, then OK. */
static int cmd_monitor(struct gdbstub *g, const char *arg)
{
	char cmd[512], out[8192], pkt[RSP_MAX_PACKET];
	size_t n = strlen(arg) / 2, len, chunk = (sizeof(pkt) - 2) / 2;

	if (strlen(arg) % 2 || n >= sizeof(cmd) || unhex(arg, (uint8_t *)cmd, n) < 0)
		return rsp_send(&g->c, "E01");
	cmd[n] = '\0';
	if (memchr(cmd, '\0', n) != NULL)
		return rsp_send(&g->c, "E01");
	out[0] = '\0';
	gdbmon_run(g, cmd, out, sizeof(out));
	len = strlen(out);
	for (size_t i = 0; i < len; i += chunk) {
		pkt[0] = 'O';
		hex_bytes(pkt + 1, (const uint8_t *)out + i, len - i < chunk ? len - i : chunk);
		if (rsp_send(&g->c, pkt) < 0)
			return -1;
	}
	return rsp_send(&g->c, "OK");
}

/* The general queries: q... and Q... */
static int cmd_query(struct gdbstub *g, const char *p)
{
	if (!strncmp(p, "qSupported", 10))
		return rsp_send(&g->c, "PacketSize=1000;qXfer:features:read+;swbreak+;vContSupported+;QStartNoAckMode+;"
		    "ReverseStep+;ReverseContinue+");
	if (!strcmp(p, "QStartNoAckMode")) {
		int rc = rsp_send(&g->c, "OK");

		g->c.noack = 1;
		return rc;
	}
	if (!strncmp(p, "qXfer:", 6))
		return cmd_xfer(g, p + 6);
	if (!strncmp(p, "qRcmd,", 6))
		return cmd_monitor(g, p + 6);
	if (!strcmp(p, "qAttached"))
		return rsp_send(&g->c, "1");
	if (!strcmp(p, "qC"))
		return rsp_send(&g->c, "QC01");
	if (!strcmp(p, "qfThreadInfo"))
		return rsp_send(&g->c, "m01");
	if (!strcmp(p, "qsThreadInfo"))
		return rsp_send(&g->c, "l");
	if (!strncmp(p, "qSymbol", 7))
		return rsp_send(&g->c, "OK");
	return rsp_send(&g->c, "");
}

/* A query with no guest to look at (the run is over). */
static void cmd_query_or_ok(struct gdbstub *g, const char *p)
{
	if (p[0] == 'H')
		rsp_send(&g->c, "OK");
	else if (!strncmp(p, "qRcmd,", 6))
		rsp_send(&g->c, "E01");
	else
		cmd_query(g, p);
}

/* The action of a vCont packet: 'c' or 's' (the first action names the one thread), or 0. */
static int vcont_action(const char *p)
{
	if (!strcmp(p, "vCont?"))
		return '?';
	if (strncmp(p, "vCont;", 6))
		return 0;
	return p[6] == 'c' || p[6] == 'C' ? 'c' : p[6] == 's' || p[6] == 'S' ? 's' : 0;
}

enum served { SERVE_AGAIN, SERVE_RESUME };

/* Replay to instruction number to (0: there is none that far back: the first, as the log's beginning). */
static void replay_to(struct gdbstub *g, uint64_t to, const char *arrive)
{
	g->arrive = to == 0 ? "T05replaylog:begin;thread:01;" : arrive;
	g->replay_to = to == 0 ? 1 : to;
	g->restart = 1;
}

/*
 * bs, bc: where to go back to (-1: nowhere, the guest is at its first
 * instruction or before it). One step back is the instruction before the
 * held one (the last one run, when held between steps). Continuing back is
 * the last place before now where a breakpoint set now was passed: a first
 * replay, to now, finds it (breakpoints may have been set after the guest
 * ran past them), a second goes there.
 */
static int go_back(struct gdbstub *g, int step)
{
	uint64_t now = g->in_hook ? g->insns : g->insns + 1;

	if (now <= 1)
		return -1;	/* nothing ran before: already at the start of the history */
	g->running = 1;
	if (step) {
		replay_to(g, now - 1, "T05thread:01;");
		return 0;
	}
	g->scanning = 1;
	replay_to(g, now, NULL);
	return 0;
}

/* Reverse-continue's first replay reached the held instruction: on to the last breakpoint passed before it. */
static void scanned(struct gdbstub *g)
{
	uint64_t to = 0;

	g->scanning = 0;
	for (size_t i = g->nbphits; i > 0 && to == 0; i--)
		if (g->bphits[i - 1] < g->insns)
			to = g->bphits[i - 1];
	replay_to(g, to, "T05swbreak:;thread:01;");
}

/* One packet while the guest is held; SERVE_RESUME when gdb let it go (or went). */
static enum served serve_one(struct gdbstub *g, const char *p)
{
	int rc = 0, act = p[0] == 'v' ? vcont_action(p) : 0;

	switch (act ? act : p[0]) {
	case '?': rc = p[0] == 'v' ? rsp_send(&g->c, "vCont;c;C;s;S") : rsp_send(&g->c, "S05"); break;
	case 'g': rc = send_hex_regs(g); break;
	case 'G': rc = rsp_send(&g->c, "E01"); break;
	case 'p': rc = cmd_read_reg(g, p + 1); break;
	case 'P': rc = cmd_write_reg(g, p + 1); break;
	case 'm': rc = cmd_read_mem(g, p + 1); break;
	case 'M': rc = cmd_write_mem(g, p + 1); break;
	case 'Z': rc = cmd_break(g, p + 1, 1); break;
	case 'z': rc = cmd_break(g, p + 1, 0); break;
	case 'H': case 'T': rc = rsp_send(&g->c, "OK"); break;
	case 'q': case 'Q': rc = cmd_query(g, p); break;
	case 'c': case 'C':
		g->running = 1;
		return SERVE_RESUME;
	case 's': case 'S':
		g->running = 1;
		g->stepping = 1;
		return SERVE_RESUME;
	case 'D':
		rsp_send(&g->c, "OK");
		g->gone = 1;
		return SERVE_RESUME;
	case 'k':
		g->gone = g->killed = 1;
		return SERVE_RESUME;
	case 'b':
		if (p[1] != 's' && p[1] != 'c')
			break;
		if (go_back(g, p[1] == 's') == 0)
			return SERVE_RESUME;
		rc = rsp_send(&g->c, "T05replaylog:begin;thread:01;");
		break;
	default: rc = rsp_send(&g->c, ""); break;
	}
	if (act == 0 && p[0] == 'b' && p[1] != 's' && p[1] != 'c')
		rc = rsp_send(&g->c, "");
	if (rc < 0)
		g->gone = 1;
	return g->gone ? SERVE_RESUME : SERVE_AGAIN;
}

void gdbstub_init(struct gdbstub *g, int lfd)
{
	memset(g, 0, sizeof(*g));
	g->lfd = lfd;
	g->c.fd = -1;
}

/*
 * gdb's connection, taken at the first stop: gdb connects at once (the
 * kernel queues it) and its first packets wait until the guest is where
 * it should be held. 0, or -1 (no gdb: the session is over).
 */
static int connected(struct gdbstub *g)
{
	if (g->c.fd < 0 && !g->gone && rsp_accept(&g->c, g->lfd) < 0)
		g->gone = 1;
	return g->gone ? -1 : 0;
}

/*
 * Hold the guest at pc and serve gdb until it resumes. reply: the stop
 * reply owed if gdb was waiting on a continue or a step. A lost connection
 * is a detach: the run goes on to its end with no more stops.
 */
static void hold(struct gdbstub *g, uint32_t pc, int in_hook, const char *reply)
{
	if (g->silent || g->restart || connected(g) < 0)
		return;
	g->pc = pc;
	g->in_hook = in_hook;
	g->stepping = 0;
	machine_watchdog_hold(g->m, 1);
	if (g->running && rsp_send(&g->c, reply) < 0)
		g->gone = 1;
	g->running = 0;
	while (!g->gone) {
		int got = rsp_recv(&g->c);

		if (got == RSP_CLOSED)
			g->gone = 1;
		else if (got == RSP_PACKET && serve_one(g, g->c.in) == SERVE_RESUME)
			break;
	}
	if (g->gone) {
		g->nbreaks = g->npte = 0;
		g->next_step = g->stop_line = 0;
		rsp_close(&g->c);
	}
	machine_watchdog_hold(g->m, 0);
}

static int is_break(const struct gdbstub *g, uint32_t pc)
{
	for (int i = 0; i < g->nbreaks; i++)
		if (g->breaks[i] == pc)
			return 1;
	return 0;
}

/* Tell gdb's console (an O packet) what a break-pte store did. */
static void console_note(struct gdbstub *g, const char *text)
{
	char pkt[RSP_MAX_PACKET];
	size_t n = strlen(text);

	if (n > (sizeof(pkt) - 2) / 2)
		n = (sizeof(pkt) - 2) / 2;
	pkt[0] = 'O';
	hex_bytes(pkt + 1, (const uint8_t *)text, n);
	if (rsp_send(&g->c, pkt) < 0)
		g->gone = 1;
}

/* Remember that a breakpoint was passed at this instruction (for reverse-continue). */
static void note_break(struct gdbstub *g)
{
	if (g->nbphits == g->capbphits) {
		size_t cap = g->capbphits ? 2 * g->capbphits : 64;
		uint64_t *v = realloc(g->bphits, cap * sizeof(*v));

		if (v == NULL)
			return;
		g->bphits = v;
		g->capbphits = cap;
	}
	g->bphits[g->nbphits++] = g->insns;
}

/* The code hook: every guest instruction, before it runs, with its exact address. */
static void on_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct gdbstub *g = user;
	uint32_t pc = (uint32_t)address;
	int brk;

	(void)size;
	g->insns++;
	if (g->restart || g->killed) {	/* end this run: gdb went back, or killed it */
		machine_request_stop(g->m);
		uc_emu_stop(uc);
		return;
	}
	if ((brk = is_break(g, pc)) != 0)
		note_break(g);
	if (g->gone || g->silent)
		return;
	if (g->replaying) {
		if (g->insns == g->stop_at) {
			g->replaying = 0;
			if (g->scanning)
				scanned(g);
			else
				hold(g, pc, 1, g->arrive);
		}
	} else if (g->stepping || (g->stop_at != 0 && g->insns == g->stop_at)) {
		hold(g, pc, 1, "T05thread:01;");
	} else if (g->pte_hit) {
		g->pte_hit = 0;
		if (g->running)
			console_note(g, g->pte_note);
		hold(g, pc, 1, "T05thread:01;");
	} else if (brk) {
		hold(g, pc, 1, "T05swbreak:;thread:01;");
	} else if ((g->insns & 1023) == 0 && rsp_poll_interrupt(&g->c)) {
		g->c.pending_interrupt = 0;
		hold(g, pc, 1, "T02thread:01;");
	}
	if (g->killed || g->restart) {
		machine_request_stop(g->m);
		uc_emu_stop(uc);
	}
}

void gdbstub_attach(struct gdbstub *g, struct run *r)
{
	struct machine *m = r->m;

	g->r = r;
	g->m = m;
	g->insns = 0;
	g->nbphits = 0;
	g->pte_hit = 0;
	for (int i = 0; i < g->npte; i++)
		g->pte[i].hits = 0;
	for (int i = 0; i < m->elf.nseg && !g->hooked; i++) {
		const struct elf_segment *sg = &m->elf.seg[i];

		if (!(sg->flags & 1))	/* PF_X */
			continue;
		if (uc_hook_add(m->uc, &g->hook, UC_HOOK_CODE, (void *)on_insn, g, (uint64_t)sg->vaddr,
		    (uint64_t)sg->vaddr + sg->memsz - 1) == UC_ERR_OK)
			g->hooked = 1;
		uc_ctl_remove_cache(m->uc, sg->vaddr, (uint64_t)sg->vaddr + sg->memsz);
	}
	if (r->watching)
		events_subscribe(&r->ev, gdbstub_event, g);
	if (g->hold_start)
		hold(g, machine_reg(m, UC_X86_REG_EIP), 0, "S05");
}

void gdbstub_detach(struct gdbstub *g)
{
	if (g->hooked)
		uc_hook_del(g->m->uc, g->hook);
	g->hooked = 0;
	g->r = NULL;
	g->m = NULL;
}

/* Does the store e change an entry a break-pte watches (with its bits)? Counts it. */
static int pte_break_hit(struct gdbstub *g, const struct event *e)
{
	for (int i = 0; i < g->npte; i++) {
		if (!event_writes_entry(e, g->pte[i].va, g->pte[i].bits))
			continue;
		if (++g->pte[i].hits >= g->pte[i].count) {
			g->pte[i].hits = 0;
			return 1;
		}
	}
	return 0;
}

/* A first pass: event seq happened at the current instruction (seq numbers only grow). */
static void record_position(struct gdbstub *g, uint64_t seq)
{
	if (seq >= g->nevpos) {
		size_t n = seq + 1 > 2 * g->nevpos ? seq + 1024 : 2 * g->nevpos;
		uint64_t *v = realloc(g->evpos, n * sizeof(*v));

		if (v == NULL)
			return;
		memset(v + g->nevpos, 0, (n - g->nevpos) * sizeof(*v));
		g->evpos = v;
		g->nevpos = n;
	}
	g->evpos[seq] = g->insns;
}

void gdbstub_event(void *arg, const struct event *e)
{
	struct gdbstub *g = arg;

	if (g->silent) {
		record_position(g, e->seq);
		return;
	}
	if (g->gone || g->r == NULL || g->replaying || g->restart)
		return;
	if (e->kind == EV_STEP_BEGIN && (g->next_step || (g->stop_line != 0 && e->line == g->stop_line))) {
		g->next_step = 0;
		g->stop_line = 0;
		hold(g, machine_reg(g->m, UC_X86_REG_EIP), 0, "T05thread:01;");
	} else if ((e->kind == EV_PTE_WRITE || e->kind == EV_PDE_WRITE) && pte_break_hit(g, e)) {
		/* inside the store's callback: the guest stops at the next instruction's hook */
		char sym[512];

		snprintf(g->pte_note, sizeof(g->pte_note), "break-pte: %s stored %s va=0x%08x: 0x%08x -> 0x%08x\n",
		    guest_addr_name(g->m, e->eip, 0, sym, sizeof(sym)), e->kind == EV_PDE_WRITE ? "PDE" : "PTE",
		    e->va, e->old, e->new);
		g->pte_hit = 1;
	}
}

int gdbstub_replay(struct gdbstub *g)
{
	if (!g->restart)
		return 0;
	g->restart = 0;
	g->replaying = 1;
	g->stop_at = g->replay_to;
	g->hold_start = 0;
	g->stop_line = 0;
	g->next_step = 0;
	g->stepping = 0;
	return 1;
}

void gdbstub_free(struct gdbstub *g)
{
	free(g->evpos);
	free(g->bphits);
	g->evpos = g->bphits = NULL;
	g->nevpos = g->nbphits = g->capbphits = 0;
}

void gdbstub_finish(struct gdbstub *g, int code)
{
	char w[8];

	snprintf(w, sizeof(w), "W%02x", code & 0xff);
	if (connected(g) == 0 && g->running) {
		rsp_send(&g->c, w);
	} else {
		/* gdb came after the run ended: it learns so from its first question */
		while (!g->gone && rsp_recv(&g->c) == RSP_PACKET)
			if (g->c.in[0] == '?' || g->c.in[0] == 'c' || g->c.in[0] == 's' || g->c.in[0] == 'v') {
				rsp_send(&g->c, w);
				break;
			} else if (g->c.in[0] == 'q' || g->c.in[0] == 'Q' || g->c.in[0] == 'H') {
				cmd_query_or_ok(g, g->c.in);
			} else {
				rsp_send(&g->c, "E01");
			}
	}
	rsp_close(&g->c);
}
