/* events.c - the event stream's dispatch (see events.h). */
#include "events.h"

void events_emit(struct events *ev, struct event *e)
{
	e->seq = ++ev->seq;
	if (e->kind != EV_STEP_BEGIN && e->kind != EV_STEP_END) {
		e->line = ev->line;
		e->text = ev->text;
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
