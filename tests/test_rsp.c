/*
 * test_rsp.c - the byte level of the gdb protocol against hostile input:
 * a table of well-formed, malformed, oversized, escaped and cut-off
 * packets fed through a socketpair, each answered exactly (+ or -) and
 * never reaching a handler unless it is whole and its checksum right.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rsp.h"

static int peer;
static struct rsp c;

static void open_pair(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	rsp_attach(&c, sv[0]);
	peer = sv[1];
}

static void close_pair(void)
{
	rsp_close(&c);
	close(peer);
}

/* What gdb would send. */
static void feed(const char *bytes, size_t n)
{
	ck_assert_int_eq(write(peer, bytes, n), (ssize_t)n);
}

/* The acknowledgements the stub sent so far ("+-+"...). */
static void acks(const char *want)
{
	char got[64] = "";

	ck_assert_int_eq(read(peer, got, strlen(want)), (ssize_t)strlen(want));
	ck_assert_str_eq(got, want);
}

/* "$DATA#CS" of data. */
static char *packet(const char *data)
{
	static char buf[8192];
	unsigned sum = 0;

	for (const char *p = data; *p; p++)
		sum += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", data, sum & 0xff);
	return buf;
}

START_TEST(well_formed_packet)
{
	open_pair();
	feed(packet("qSupported:swbreak+"), strlen(packet("qSupported:swbreak+")));
	ck_assert_int_eq(rsp_recv(&c), RSP_PACKET);
	ck_assert_str_eq(c.in, "qSupported:swbreak+");
	acks("+");
	close_pair();
}
END_TEST

/* A bad checksum, a bad hex digit in it, an unterminated escape: NAKed, skipped; the next one counts. */
START_TEST(malformed_packets_are_refused)
{
	static const char *bad[] = { "$g#00", "$g#zz", "$m0,4}#6d" };

	open_pair();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		feed(bad[i], strlen(bad[i]));
	feed(packet("?"), strlen(packet("?")));
	ck_assert_int_eq(rsp_recv(&c), RSP_PACKET);
	ck_assert_str_eq(c.in, "?");
	acks("---+");
	close_pair();
}
END_TEST

/* Longer than RSP_MAX_PACKET: refused whole, never truncated into a handler. */
START_TEST(oversized_packet_is_refused)
{
	char *big = malloc(RSP_MAX_PACKET + 100);

	open_pair();
	memset(big, 'm', RSP_MAX_PACKET + 99);
	big[RSP_MAX_PACKET + 99] = '\0';
	feed(packet(big), strlen(packet(big)));
	feed(packet("g"), strlen(packet("g")));
	ck_assert_int_eq(rsp_recv(&c), RSP_PACKET);
	ck_assert_str_eq(c.in, "g");
	acks("-+");
	free(big);
	close_pair();
}
END_TEST

/* '}' escapes the next byte (XOR 0x20); the checksum is over the bytes as sent. */
START_TEST(escapes_are_decoded)
{
	const char raw[] = "$X0,1:}\x03}]#";	/* X0,1: then '#' (0x23) and '}' (0x7d), escaped */
	unsigned sum = 0;
	char msg[64];

	open_pair();
	for (const char *p = raw + 1; *p != '#'; p++)
		sum += (unsigned char)*p;
	snprintf(msg, sizeof(msg), "%s%02x", raw, sum & 0xff);
	feed(msg, strlen(msg));
	ck_assert_int_eq(rsp_recv(&c), RSP_PACKET);
	ck_assert_uint_eq(c.inlen, 7);
	ck_assert_int_eq(memcmp(c.in, "X0,1:#}", 7), 0);
	acks("+");
	close_pair();
}
END_TEST

/* Noise, stray acks and a '$' that restarts a cut-off packet; Ctrl-C; then the end. */
START_TEST(noise_interrupt_and_close)
{
	open_pair();
	feed("+-xyz$garb", 10);
	feed(packet("c"), strlen(packet("c")));
	ck_assert_int_eq(rsp_recv(&c), RSP_PACKET);
	ck_assert_str_eq(c.in, "c");
	acks("+");
	feed("\x03", 1);
	ck_assert_int_eq(rsp_poll_interrupt(&c), 1);
	ck_assert_int_eq(rsp_poll_interrupt(&c), 1);	/* stays pending until taken */
	c.pending_interrupt = 0;
	ck_assert_int_eq(rsp_poll_interrupt(&c), 0);
	feed("\x03", 1);
	ck_assert_int_eq(rsp_recv(&c), RSP_INTERRUPT);
	feed("$m0,4#", 6);	/* cut off: the connection ends inside the checksum */
	close(peer);
	ck_assert_int_eq(rsp_recv(&c), RSP_CLOSED);
	ck_assert_int_eq(c.fd, -1);
	ck_assert_int_eq(rsp_send(&c, "OK"), -1);
}
END_TEST

/* Replies: '$', '#', '}' and '*' escaped, the checksum right, resent on '-'. */
START_TEST(send_escapes_and_resends)
{
	char got[64] = "";

	open_pair();
	feed("-+", 2);	/* the first copy is refused, the second taken */
	ck_assert_int_eq(rsp_send_bin(&c, "a#b$}*", 6), 0);
	ck_assert_int_eq(read(peer, got, sizeof(got) - 1), 2 * 14);
	ck_assert_str_eq(got, "$a}\x03" "b}\x04}]}\x0a#25$a}\x03" "b}\x04}]}\x0a#25");
	close_pair();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rsp");
	TCase *tc = tcase_create("rsp");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, well_formed_packet);
	tcase_add_test(tc, malformed_packets_are_refused);
	tcase_add_test(tc, oversized_packet_is_refused);
	tcase_add_test(tc, escapes_are_decoded);
	tcase_add_test(tc, noise_interrupt_and_close);
	tcase_add_test(tc, send_escapes_and_resends);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
