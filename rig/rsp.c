/*
 * rsp.c - owns the gdb connection's bytes: framing, checksums, escapes,
 * acknowledgements, the interrupt byte. See rsp.h.
 *
 * A packet is '$', data, '#', two hex digits of the modulo-256 sum of the
 * data. Inside data, '}' escapes the next byte (XOR 0x20); '$', '#' and '*'
 * never appear raw in what gdb sends. Bytes between packets other than
 * '+', '-' and 0x03 are noise and are skipped. A packet longer than
 * RSP_MAX_PACKET or with a bad checksum is refused with '-' (gdb resends)
 * and never reaches a command handler.
 */
#include "rsp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rsp_listen(const char *host, int *port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*port) };
	socklen_t alen = sizeof(a);
	int fd, one = 1;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 address", host);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, *port, strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

void rsp_attach(struct rsp *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

int rsp_accept(struct rsp *c, int lfd)
{
	int fd, one = 1;

	while ((fd = accept(lfd, NULL, NULL)) < 0)
		if (errno != EINTR)
			return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rsp_attach(c, fd);
	return 0;
}

void rsp_close(struct rsp *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* One byte from the connection; -1 when it is gone. */
static int get_byte(struct rsp *c)
{
	unsigned char b;
	ssize_t n;

	if (c->fd < 0)
		return -1;
	while ((n = read(c->fd, &b, 1)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		rsp_close(c);
		return -1;
	}
	return b;
}

static int put(struct rsp *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0 && c->fd >= 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rsp_close(c);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return c->fd >= 0 ? 0 : -1;
}

int rsp_hexval(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	    ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* The rest of a packet after '$': its data into c->in; 1 if well-formed, 0 if refused, -1 if closed. */
static int read_packet(struct rsp *c)
{
	unsigned sum = 0;
	int ch, hi, lo, ok = 1, escaped = 0;

	c->inlen = 0;
	while ((ch = get_byte(c)) != '#') {
		if (ch < 0)
			return -1;
		if (ch == '$') {	/* a new packet starts: the old one was cut short */
			c->inlen = 0, sum = 0, ok = 1, escaped = 0;
			continue;
		}
		sum += (unsigned)ch;
		if (!escaped && ch == '}') {
			escaped = 1;
			continue;
		}
		if (c->inlen >= RSP_MAX_PACKET)
			ok = 0;
		else
			c->in[c->inlen++] = (char)(escaped ? ch ^ 0x20 : ch);
		escaped = 0;
	}
	if ((hi = get_byte(c)) < 0 || (lo = get_byte(c)) < 0)
		return -1;
	c->in[c->inlen] = '\0';
	hi = rsp_hexval(hi);
	lo = rsp_hexval(lo);
	if (hi < 0 || lo < 0 || (unsigned)(hi << 4 | lo) != (sum & 0xff) || escaped)
		ok = 0;
	return ok;
}

int rsp_recv(struct rsp *c)
{
	for (;;) {
		int ch = get_byte(c), ok;

		if (ch < 0)
			return RSP_CLOSED;
		if (ch == 0x03) {
			c->pending_interrupt = 0;
			return RSP_INTERRUPT;
		}
		if (ch != '$')
			continue;	/* '+', '-' and noise between packets */
		if ((ok = read_packet(c)) < 0)
			return RSP_CLOSED;
		if (!c->noack && put(c, ok ? "+" : "-", 1) < 0)
			return RSP_CLOSED;
		if (ok)
			return RSP_PACKET;
	}
}

int rsp_poll_interrupt(struct rsp *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	unsigned char b;

	if (c->pending_interrupt)
		return 1;
	while (c->fd >= 0 && poll(&p, 1, 0) == 1) {
		if (!(p.revents & POLLIN) || recv(c->fd, &b, 1, MSG_PEEK) != 1)
			return 0;	/* closed or error: the next recv says so */
		if (b == '$')
			return 0;	/* a packet: for rsp_recv */
		if (read(c->fd, &b, 1) != 1)
			return 0;
		if (b == 0x03) {
			c->pending_interrupt = 1;
			return 1;
		}
	}
	return 0;
}

int rsp_send_bin(struct rsp *c, const char *data, size_t len)
{
	char *out = malloc(2 * len + 5);
	size_t n = 0;
	unsigned sum = 0;
	int ch;

	if (out == NULL)
		return -1;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)data[i];

		if (b == '$' || b == '#' || b == '}' || b == '*') {
			out[n++] = '}';
			sum += '}';
			b ^= 0x20;
		}
		out[n++] = (char)b;
		sum += b;
	}
	n += (size_t)sprintf(out + n, "#%02x", sum & 0xff);
	for (int tries = 0; tries < 8; tries++) {
		if (put(c, out, n) < 0)
			break;
		if (c->noack) {
			free(out);
			return 0;
		}
		while ((ch = get_byte(c)) >= 0 && ch != '+' && ch != '-')
			if (ch == 0x03)
				c->pending_interrupt = 1;
		if (ch == '+') {
			free(out);
			return 0;
		}
		if (ch < 0)
			break;
	}
	free(out);
	return -1;
}

int rsp_send(struct rsp *c, const char *data)
{
	return rsp_send_bin(c, data, strlen(data));
}
