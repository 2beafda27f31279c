/* events.c - the event stream's dispatch (see events.h). */
#include "events.h"

#include <stddef.h>

#include "../guest/common/i386.h"

int event_writes_entry(const struct event *e, uint32_t va, uint32_t bits)
{
	int entry = e->kind == EV_PTE_WRITE ? e->va == (va & PG_FRAME) :
	    e->kind == EV_PDE_WRITE && e->va == (va & PG_PS_FRAME);

	return entry && (bits == 0 || ((e->old ^ e->new) & bits) != 0);
}

void events_emit(struct events *ev, struct event *e)
{
	e->seq = ++ev->seq;
	e->cpu = ev->cpu_of != NULL ? *ev->cpu_of : 0;
	if (e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END) {
		int own = e->cpu >= 0 && e->cpu < EVENTS_MAX_CPUS && ev->cpu_line[e->cpu] != 0;

		e->line = own ? ev->cpu_line[e->cpu] : ev->line;
		e->text = own ? ev->cpu_text[e->cpu] : ev->text;
	}
	for (int i = 0; i < ev->nsinks; i++)
		ev->sinks[i].fn(ev->sinks[i].arg, e);
}

int events_subscribe(struct events *ev, void (*fn)(void *, const struct event *), void *arg)
{
	if (ev->nsinks == EVENTS_MAX_SINKS)
		return -1;
	ev->sinks[ev->nsinks++] = (struct event_sink){ fn, arg };
	return 0;
}

const char *event_kind_name(enum event_kind k)
{
	static const char *names[] = { "step-begin", "step-end", "cr", "pde", "pte", "invlpg",
		"fault", "panic", "warning", "pv", "vm_page" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
