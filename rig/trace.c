/*
 * trace.c - owns how events look to a person (text) or a program (JSON
 * lines, docs/trace.md). Output is deterministic: guest addresses and
 * values only, no host pointers, no times.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "guestsym.h"
#include "gview.h"
#include "recwrite.h"
#include "report.h"
#include "util.h"

void trace_init(struct trace *t, const struct trace_opts *o, FILE *out, const char *file)
{
	memset(t, 0, sizeof(*t));
	t->o = *o;
	t->out = out;
	t->file = file;
}

void trace_start(struct trace *t, struct machine *m, const struct trace_names *names)
{
	t->m = m;
	t->names = *names;
	t->broke = 0;
	t->hits = 0;
	if (t->o.json || t->o.quiet)
		return;
	fprintf(t->out, "# trace of %s: CR0/CR3/CR4 loads, PDE/PTE writes and INVLPG by the guest.\n", t->file);
	fprintf(t->out, "# Accessed/dirty bits the CPU itself sets during a page walk are not\n"
	    "# events and do not appear here; entries show them once software rewrites the entry.\n");
	if (t->o.show & (TRACE_SHOW_VMPAGE | TRACE_SHOW_PV))
		fprintf(t->out, "# Also shown: stores into%s%s%s.\n", t->o.show & TRACE_SHOW_VMPAGE ? " vm_page records" : "",
		    (t->o.show & (TRACE_SHOW_VMPAGE | TRACE_SHOW_PV)) == (TRACE_SHOW_VMPAGE | TRACE_SHOW_PV) ? " and" : "",
		    t->o.show & TRACE_SHOW_PV ? " pv chunk pages" : "");
	if (t->o.show & TRACE_SHOW_TLB)
		fprintf(t->out, "# Also shown: after each step, the translations the CPU holds (TLB lines).\n");
}

/* The guest function at eip: "sym+0xOFF", or with --stable "sym" alone ("?" if none). */
static const char *sym_name(const struct trace *t, uint32_t eip, char *buf, size_t len)
{
	uint32_t off;
	const struct elf_symbol *s;

	if (!t->o.stable)
		return elf_addr_name(&t->m->elf, eip, buf, len);
	s = elf_symbolize(&t->m->elf, eip, &off);
	snprintf(buf, len, "%.*s", s ? (int)strcspn(s->name, ".") : 1, s ? s->name : "?");
	return buf;
}

/* The code at eip with its source frames ("f (pmap.c:12, inlined) <- g+0x1c (pmap.c:40)"). */
static const char *src_name(const struct trace *t, uint32_t eip, char *buf, size_t len)
{
	return guest_addr_name(t->m, eip, t->o.stable ? SYM_STABLE : 0, buf, len);
}

/* Is the event a store into a vm_page record or a pv chunk page? */
static int is_record(const struct event *e)
{
	return e->kind == EV_VMPAGE_WRITE || e->kind == EV_PV_WRITE;
}

/* A record store decoded by field (a chunk is one page: the word's offset is the PA's). */
static void record_of(const struct trace *t, const struct event *e, struct rec_write *r)
{
	if (e->kind == EV_VMPAGE_WRITE)
		rec_vm_page(&t->m->ct, e->va, e->field, e->old, e->new, r);
	else
		rec_pv_chunk(&t->m->ct, e->va, e->pa & PAGE_MASK, e->old, e->new, r);
}

/* The instruction at eip as text (cached by address). */
static const char *insn_text(struct trace *t, uint32_t eip)
{
	unsigned h = (eip * 2654435761u) >> 24;
	uint8_t *code;

	if (t->cache[h].eip == eip && eip != 0)
		return t->cache[h].text;
	code = machine_kva_ptr(t->m, eip, 16);
	if (code == NULL)
		snprintf(t->cache[h].text, sizeof(t->cache[h].text), "??");
	else
		disasm_one(t->m->dis, code, 16, eip, t->cache[h].text, sizeof(t->cache[h].text));
	t->cache[h].eip = eip;
	return t->cache[h].text;
}

static const char *pd_name(struct trace *t, uint32_t pd)
{
	if (pd == EV_KERNEL_SPACE)
		return "kernel";
	return t->names.pd_name ? t->names.pd_name(t->names.ctx, pd) : "?";
}

/* Does the event pass the --va, --pmap and --step filters? */
static int wanted(struct trace *t, const struct event *e)
{
	uint32_t lo = e->va, hi = e->va;

	if (e->line < t->o.line_lo || e->line > t->o.line_hi)
		return 0;
	if (t->o.cpu != 0 && e->cpu != t->o.cpu - 1 && e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END)
		return 0;
	if (is_record(e) && t->o.pmap)
		return 0;	/* a record belongs to no address space */
	if (e->kind == EV_PDE_WRITE)
		hi = e->va + (NBPDR - 1);
	if (e->kind == EV_PDE_WRITE || e->kind == EV_PTE_WRITE || e->kind == EV_INVLPG) {
		if (hi < t->o.va_lo || lo > t->o.va_hi)
			return 0;
	} else if (t->o.va_lo != 0 || t->o.va_hi != 0xffffffffu) {
		return 0;
	}
	if (t->o.pmap && e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END)
		return strcmp(pd_name(t, e->pd), t->o.pmap) == 0;
	return 1;
}

/* The event-specific part of a text line. */
static void describe(struct trace *t, const struct event *e, char *buf, size_t len)
{
	char flags[128];

	switch (e->kind) {
	case EV_PTE_WRITE: case EV_PDE_WRITE:
		pte_flags_diff(e->old, e->new, flags, sizeof(flags));
		if (e->kind == EV_PTE_WRITE)
			snprintf(buf, len, "PTE %s va=0x%08x pa=0x%08x: 0x%08x -> 0x%08x %s", pd_name(t, e->pd),
			    e->va, e->pa, e->old, e->new, flags);
		else
			snprintf(buf, len, "PDE %s va=0x%08x-0x%08x pa=0x%08x: 0x%08x -> 0x%08x %s",
			    pd_name(t, e->pd), e->va, e->va + (NBPDR - 1), e->pa, e->old, e->new, flags);
		break;
	case EV_CR_LOAD:
		snprintf(buf, len, "CR%u 0x%08x -> 0x%08x%s%s", e->pa, e->old, e->new, e->pa == 3 ? " " : "",
		    e->pa == 3 ? pd_name(t, e->pd) : "");
		break;
	case EV_INVLPG:
		snprintf(buf, len, "INVLPG va=0x%08x (%s)", e->va, pd_name(t, e->pd));
		break;
	case EV_WARN:
		snprintf(buf, len, "WARNING %s: CR3 0x%08x -> 0x%08x", e->msg, e->old, e->new);
		break;
	case EV_VMPAGE_WRITE: case EV_PV_WRITE: {
		struct rec_write r;

		record_of(t, e, &r);
		rec_format(&r, buf, len);
		break;
	}
	default:
		snprintf(buf, len, "%s%s", e->kind == EV_FAULT ? "FAULT " : e->kind == EV_PANIC ? "PANIC " : "",
		    e->msg ? e->msg : "");
	}
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';	/* no flags changed: no trailing blank */
}

/* The guest backtrace at the event (read live: sinks run inside the hook). */
static void print_stack(struct trace *t, const struct event *e)
{
	uint32_t frames[RIG_MAX_FRAMES + 1];
	char buf[2048];
	int n;

	frames[0] = e->eip;
	n = machine_backtrace(t->m, machine_reg(t->m, UC_X86_REG_EBP), frames + 1, RIG_MAX_FRAMES);
	guest_format_frames(t->m, frames, n + 1, 1, t->o.stable ? SYM_STABLE : 0, buf, sizeof(buf));
	if (t->o.json) {
		fputs(",\"stack\":\"", t->out);
		json_escape(t->out, buf);
		fputc('"', t->out);
	} else {
		fprintf(t->out, "      at %s\n", buf);
	}
}

static void text_line(struct trace *t, const struct event *e)
{
	char what[512], sym[512], cpu[16] = "";
	const char *hi = t->o.color ? "\033[1m" : "", *lo = t->o.color ? "\033[0m" : "";

	describe(t, e, what, sizeof(what));
	if (t->m->ncpu > 1)	/* with one CPU the line is as it always was */
		snprintf(cpu, sizeof(cpu), "cpu%d ", e->cpu);
	fprintf(t->out, "#%llu %s%s:%d %s | %s%s%s%s | %s%s%s\n", (unsigned long long)e->seq, cpu, t->file, e->line,
	    e->text ? e->text : "", src_name(t, e->eip, sym, sizeof(sym)), t->o.stable ? "" : "  ",
	    t->o.stable ? "" : insn_text(t, e->eip), !t->o.stable && e->eip_guess ? " (instruction guessed)" : "",
	    hi, what, lo);
}

static void json_hex(FILE *out, const char *key, uint32_t v)
{
	fprintf(out, ",\"%s\":\"0x%08x\"", key, v);
}

static void json_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, ",\"%s\":\"", key);
	json_escape(out, v);
	fputc('"', out);
}

/*
 * ,"src":[{"fn":"f","file":"pmap.c","line":12,"inlined":true},...]: the
 * source frames at eip, innermost first (under --stable the function's own
 * frame alone, without its line).
 */
static void json_src(struct trace *t, uint32_t eip)
{
	struct src_frame f[SRC_MAX_FRAMES];
	int n = guest_src_frames(t->m, eip, 0, f, SRC_MAX_FRAMES);
	char sym[128];

	if (n == 0)
		return;
	fputs(",\"src\":[", t->out);
	for (int i = t->o.stable ? n - 1 : 0; i < n; i++) {
		fprintf(t->out, "%s{\"fn\":\"", i && !t->o.stable ? "," : "");
		json_escape(t->out, f[i].fn[0] ? f[i].fn : sym_name(t, eip, sym, sizeof(sym)));	/* assembly: the symbol */
		fputs("\",\"file\":\"", t->out);
		json_escape(t->out, f[i].file);
		fputc('"', t->out);
		if (!t->o.stable && f[i].line > 0)
			fprintf(t->out, ",\"line\":%d", f[i].line);
		if (f[i].inlined)
			fputs(",\"inlined\":true", t->out);
		fputc('}', t->out);
	}
	fputc(']', t->out);
}

/* The keys of a vm_page or pv store: its record, the field, old, new, the decoding. */
static void json_record(struct trace *t, const struct event *e)
{
	struct rec_write r;

	record_of(t, e, &r);
	if (e->kind == EV_VMPAGE_WRITE) {
		fprintf(t->out, ",\"index\":%u", e->va);
		json_hex(t->out, "page", e->va << PAGE_SHIFT);
	} else {
		json_hex(t->out, "chunk", e->va);
	}
	json_hex(t->out, "pa", e->pa);
	json_str(t->out, "field", r.field);
	json_hex(t->out, "old", e->old);
	json_hex(t->out, "new", e->new);
	json_str(t->out, "decoded", r.decoded);
}

static void json_line(struct trace *t, const struct event *e)
{
	char sym[128];

	fprintf(t->out, "{\"seq\":%llu,\"kind\":\"%s\",\"line\":%d,", (unsigned long long)e->seq,
	    event_kind_name(e->kind), e->line);
	if (t->m->ncpu > 1)	/* with one CPU the object is as it always was */
		fprintf(t->out, "\"cpu\":%d,", e->cpu);
	fputs("\"step\":\"", t->out);
	json_escape(t->out, e->text ? e->text : "");
	fputc('"', t->out);
	if (e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END) {
		if (!t->o.stable)
			json_hex(t->out, "eip", e->eip);
		json_str(t->out, "sym", sym_name(t, e->eip, sym, sizeof(sym)));
		json_src(t, e->eip);
		if (!t->o.stable) {
			char insn[128];

			snprintf(insn, sizeof(insn), "%s%s", insn_text(t, e->eip), e->eip_guess ? " (instruction guessed)" : "");
			json_str(t->out, "insn", insn);
		}
		if (!is_record(e))
			json_str(t->out, "space", pd_name(t, e->pd));
	}
	if (is_record(e))
		json_record(t, e);
	if (e->kind == EV_PTE_WRITE || e->kind == EV_PDE_WRITE || e->kind == EV_INVLPG)
		json_hex(t->out, "va", e->va);
	if (e->kind == EV_PTE_WRITE || e->kind == EV_PDE_WRITE) {
		json_hex(t->out, "pa", e->pa);
		json_hex(t->out, "old", e->old);
		json_hex(t->out, "new", e->new);
	}
	if (e->kind == EV_CR_LOAD) {
		fprintf(t->out, ",\"cr\":%u", e->pa);
		json_hex(t->out, "old", e->old);
		json_hex(t->out, "new", e->new);
	}
	if (e->kind == EV_FAULT) {
		fprintf(t->out, ",\"vector\":%u", e->old);
		json_hex(t->out, "cr2", e->new);
	}
	if (e->kind == EV_WARN || e->kind == EV_FAULT || e->kind == EV_PANIC) {
		fputs(",\"message\":\"", t->out);
		json_escape(t->out, e->msg ? e->msg : "");
		fputc('"', t->out);
	}
	if (t->o.stack && e->eip != 0)
		print_stack(t, e);
	fputs("}\n", t->out);
}

/* Print one instruction line of a code window. */
static void code_line(struct trace *t, uint32_t a, uint32_t eip)
{
	char sym[128];

	fprintf(t->out, "  %s %-24s %08x: %s\n", a == eip ? "=>" : "  ",
	    elf_addr_name(&t->m->elf, a, sym, sizeof(sym)), a, insn_text(t, a));
}

/*
 * Four instructions before eip, eip marked, three after. Instruction
 * boundaries come from decoding forward from the function's start.
 */
static void print_code(struct trace *t, uint32_t eip)
{
	uint32_t off, ring[4], a;
	const struct elf_symbol *s = elf_symbolize(&t->m->elf, eip, &off);
	int n = 0, after = 0;

	for (a = s ? s->addr : eip; a <= eip + 64 && after < 4;) {
		uint8_t *code = machine_kva_ptr(t->m, a, 16);
		char text[96];
		int len = code ? disasm_one(t->m->dis, code, 16, a, text, sizeof(text)) : 0;

		if (len == 0)
			break;
		if (a < eip) {
			ring[n++ % 4] = a;
		} else {
			if (after++ == 0)
				for (int i = n > 4 ? n - 4 : 0; i < n; i++)
					code_line(t, ring[i % 4], eip);
			code_line(t, a, eip);
		}
		a += len;
	}
}

/* --break-on-pte: the machine state just before the store lands. */
static void trace_break_dump(struct trace *t, const struct event *e)
{
	static const int regs[] = { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
		UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EIP,
		UC_X86_REG_EFLAGS, UC_X86_REG_CR0, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	static const char *names[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip",
		"eflags", "cr0", "cr2", "cr3", "cr4" };
	char what[256], sym[512];
	struct trace_opts o = t->o;

	describe(t, e, what, sizeof(what));
	fprintf(t->out, "== break: %s:%d %s", t->file, e->line, e->text ? e->text : "");
	if (t->o.break_count > 1 || t->o.break_bits)
		fprintf(t->out, " (matching write %u)", t->hits);
	fputc('\n', t->out);
	fprintf(t->out, "%s is about to store: %s\n", src_name(t, e->eip, sym, sizeof(sym)), what);
	fprintf(t->out, "registers:\n");
	/* TCG writes the registers back before a store that leaves its fast path, all but EIP: the event's is exact */
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		fprintf(t->out, "%s%-6s 0x%08x%s", i % 4 == 0 ? "  " : "", names[i],
		    regs[i] == UC_X86_REG_EIP ? e->eip : machine_reg(t->m, regs[i]),
		    i % 4 == 3 || i + 1 == sizeof(regs) / sizeof(regs[0]) ? "\n" : "  ");
	fprintf(t->out, "code:\n");
	print_code(t, e->eip);
	t->o.json = 0;
	fprintf(t->out, "backtrace:\n");
	print_stack(t, e);
	t->o = o;
}

/*
 * Is this the write to stop at: a PTE/PDE write to the --break-on-pte
 * address's entry (that changes one of the --break-if bits), the
 * --break-count'th such write?
 */
static int hits_break(struct trace *t, const struct event *e)
{
	if (!t->o.has_break || t->broke || e->line < t->o.line_lo || e->line > t->o.line_hi ||
	    !event_writes_entry(e, t->o.break_va, t->o.break_bits))
		return 0;
	return ++t->hits >= (t->o.break_count ? t->o.break_count : 1);
}

int trace_break_opt(int ch, const char *arg, struct trace_opts *o)
{
	uint64_t v;
	char bad[32];

	if (ch == 'b' && parse_u64(arg, &v) == 0 && v <= UINT32_MAX) {
		o->has_break = 1, o->break_va = (uint32_t)v;
		return 0;
	}
	if (ch == 'n' && parse_u64(arg, &v) == 0 && v >= 1 && v <= UINT32_MAX) {
		o->break_count = (uint32_t)v;
		return 0;
	}
	if (ch == 'i' && pte_flag_mask(arg, &o->break_bits, bad, sizeof(bad)) == 0)
		return 0;
	if (ch == 'i')
		fprintf(stderr, "rig: error: --break-if: unknown entry bit '%s' (known: %s)\n", bad, pte_flag_names());
	else
		fprintf(stderr, "rig: error: bad argument '%s'\n", arg);
	return -1;
}

/* The TLB model after a step: one line (or JSON object) per translation in the --va range. */
static void print_tlb(struct trace *t, const struct event *e)
{
	struct tlb_entry *v;
	int n = mmu_sorted(t->m->mmu, t->o.va_lo, t->o.va_hi, &v);

	for (int i = 0; i < n; i++) {
		char flags[32];

		tlb_flags_text(v[i].flags, flags, sizeof(flags));
		if (t->o.json) {
			fprintf(t->out, "{\"kind\":\"tlb\",\"line\":%d", e->line);
			json_hex(t->out, "va", v[i].vpage << PAGE_SHIFT);
			json_hex(t->out, "pa", v[i].frame << PAGE_SHIFT);
			json_hex(t->out, "pte", v[i].pte);
			json_str(t->out, "flags", flags[0] ? flags + 1 : "");
			fputs("}\n", t->out);
		} else {
			fprintf(t->out, "TLB %s:%d va=0x%08x -> pa=0x%08x%s (PTE 0x%08x when cached)\n", t->file, e->line,
			    v[i].vpage << PAGE_SHIFT, v[i].frame << PAGE_SHIFT, flags, v[i].pte);
		}
	}
	free(v);
}

void trace_event(void *arg, const struct event *e)
{
	struct trace *t = arg;

	if (e->kind == EV_PV_WRITE && !(t->o.show & TRACE_SHOW_PV))
		return;		/* bookkeeping for the checker unless --show asks */
	if (e->kind == EV_VMPAGE_WRITE && !(t->o.show & TRACE_SHOW_VMPAGE))
		return;
	if (!t->o.quiet && wanted(t, e)) {
		if (t->o.json)
			json_line(t, e);
		else if (e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END) {
			text_line(t, e);
			if (t->o.stack && e->eip != 0)
				print_stack(t, e);
		}
	}
	/* The TLB lines obey --step and (per translation) --va, not the step marker's filtering. */
	if (!t->o.quiet && e->kind == EV_STEP_END && (t->o.show & TRACE_SHOW_TLB) && e->line >= t->o.line_lo &&
	    e->line <= t->o.line_hi)
		print_tlb(t, e);
	if (hits_break(t, e)) {
		t->broke = 1;
		trace_break_dump(t, e);
		machine_request_break(t->m, e->eip);
	}
}

int trace_parse_range(const char *s, uint64_t max, uint64_t *lo, uint64_t *hi)
{
	char buf[64];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((dash = strchr(buf, '-')) != NULL)
		*dash = '\0';
	if (parse_u64(buf, lo) < 0 || (dash && parse_u64(dash + 1, hi) < 0))
		return -1;
	if (!dash)
		*hi = *lo;
	return *lo <= *hi && *hi <= max ? 0 : -1;
}

const char *trace_parse_show(const char *s, unsigned *show, char *bad, size_t badlen)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{ "vm_page", TRACE_SHOW_VMPAGE }, { "pv", TRACE_SHOW_PV }, { "tlb", TRACE_SHOW_TLB },
	};

	for (const char *p = s;; p++) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (n == strlen(words[i].word) && strncmp(p, words[i].word, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0])) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return bad;
		}
		*show |= words[i].bit;
		p += n;
		if (*p == '\0')
			return NULL;
	}
}
