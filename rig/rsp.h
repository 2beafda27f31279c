/*
 * rsp.h - the byte level of gdb's remote serial protocol: one TCP
 * connection, packets framed as $DATA#CS, acknowledgements, escapes and
 * the interrupt byte. Everything read from the network is hostile until it
 * has been framed and its checksum verified here.
 */
#ifndef RIG_RSP_H
#define RIG_RSP_H

#include <stddef.h>

#define RSP_MAX_PACKET	4096	/* what qSupported announces as PacketSize */

struct rsp {
	int fd;			/* the connection, or -1 */
	int noack;		/* QStartNoAckMode accepted: no '+' either way */
	char in[RSP_MAX_PACKET + 1];	/* the last packet's data, NUL-terminated */
	size_t inlen;
	int pending_interrupt;	/* a 0x03 byte came in while a packet was awaited */
};

/* The value of a hex digit, or -1. */
int rsp_hexval(int ch);

/* Listen on host:port (port 0: any); the socket, or -1 with a message in err. *port gets the port. */
int rsp_listen(const char *host, int *port, char *err, size_t errlen);
/* Accept one connection on lfd into c; 0 or -1. */
int rsp_accept(struct rsp *c, int lfd);
/* Use an already connected descriptor (tests: a socketpair). */
void rsp_attach(struct rsp *c, int fd);
void rsp_close(struct rsp *c);

#define RSP_PACKET	1	/* c->in holds a packet's data */
#define RSP_INTERRUPT	2	/* gdb sent Ctrl-C (0x03) */
#define RSP_CLOSED	0	/* the connection is gone */

/* Wait for the next packet or interrupt; a malformed packet is NAKed (or dropped) and skipped. */
int rsp_recv(struct rsp *c);
/* Is an interrupt byte waiting (no blocking)? Reads and drops other bytes before a packet only. */
int rsp_poll_interrupt(struct rsp *c);
/* Send data as one packet (escaped); 0, or -1 when the connection is gone. */
int rsp_send(struct rsp *c, const char *data);
/* The same for data of len bytes that may hold any byte (binary replies). */
int rsp_send_bin(struct rsp *c, const char *data, size_t len);

#endif
