/*
 * subr_prf.c - formatted output and panic.
 *
 * The guest has no console device: characters and panic messages go to the
 * host through the hypercall ports in rig_abi.h.
 */
#include "kernel.h"

struct sbuf {
	char	*buf;
	size_t	size;
	size_t	len;
};

/* Append one character, keeping room for the terminating NUL. */
static void sbuf_putc(struct sbuf *sb, char c)
{
	if (sb->len + 1 < sb->size)
		sb->buf[sb->len] = c;
	sb->len++;
}

/* Append an unsigned number in base 10 or 16, at least `width` digits. */
static void sbuf_putnum(struct sbuf *sb, uint32_t v, unsigned base, int width, char pad)
{
	char digits[12];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (width-- > n)
		sbuf_putc(sb, pad);
	while (n > 0)
		sbuf_putc(sb, digits[--n]);
}

/* Format one conversion (after the %) and return the rest of the format. */
static const char *sbuf_conv(struct sbuf *sb, const char *fmt, va_list *ap)
{
	char pad = ' ';
	int width = 0;
	const char *s;
	int32_t d;

	if (*fmt == '0')
		pad = '0';
	while (*fmt >= '0' && *fmt <= '9')
		width = width * 10 + (*fmt++ - '0');
	switch (*fmt) {
	case 'd':
		d = va_arg(*ap, int32_t);
		if (d < 0)
			sbuf_putc(sb, '-');
		sbuf_putnum(sb, d < 0 ? -(uint32_t)d : (uint32_t)d, 10, width, pad);
		break;
	case 'u':
		sbuf_putnum(sb, va_arg(*ap, uint32_t), 10, width, pad);
		break;
	case 'x':
		sbuf_putnum(sb, va_arg(*ap, uint32_t), 16, width, pad);
		break;
	case 'p':
		sbuf_putc(sb, '0');
		sbuf_putc(sb, 'x');
		sbuf_putnum(sb, (uint32_t)va_arg(*ap, void *), 16, 8, '0');
		break;
	case 's':
		for (s = va_arg(*ap, const char *); s && *s; s++)
			sbuf_putc(sb, *s);
		break;
	case 'c':
		sbuf_putc(sb, (char)va_arg(*ap, int));
		break;
	case '\0':
		return fmt;
	default:
		sbuf_putc(sb, *fmt);
	}
	return fmt + 1;
}

/* vsnprintf: %d %u %x %p %s %c %%, with an optional (zero-)pad width. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sbuf sb = { buf, size, 0 };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			sbuf_putc(&sb, *fmt++);
		else
			fmt = sbuf_conv(&sb, fmt + 1, &aq);
	}
	va_end(aq);
	if (size > 0)
		buf[sb.len < size ? sb.len : size - 1] = '\0';
	return (int)sb.len;
}

/* snprintf: vsnprintf with variable arguments. */
int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* printf: format and send to the host console, one character at a time. */
void printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		outl(RIG_PORT_PUTC, (uint32_t)*p);
}

static char panicstr[256];

/* panic: hand the formatted message to the host, which ends the run. */
__dead __noinline void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panicstr, sizeof(panicstr), fmt, ap);
	va_end(ap);
	outl(RIG_PORT_PANIC, (uint32_t)panicstr);
	for (;;)
		__asm__ __volatile__("hlt");
}
