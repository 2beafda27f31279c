/*
 * gdb_wire.c - `rig debug` against hostile packets, over a real socket: a
 * table of malformed and out-of-range requests, each answered with an
 * error or an empty reply (never a crash, never a hang), the stub still
 * serving afterwards; then Ctrl-C stops a running guest (T02) and k ends
 * the run (BREAK, exit 4).
 *
 * Usage: gdb_wire RIG SCENARIO   (tests/gdb/long.scn; CTest)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd;

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static void send_packet(const char *data)
{
	char buf[8192];
	unsigned sum = 0;

	for (const char *p = data; *p; p++)
		sum += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", data, sum & 0xff);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		FAIL("write");
}

static int get(void)
{
	unsigned char b;

	if (read(fd, &b, 1) != 1)
		FAIL("the stub closed the connection");
	return b;
}

/* The next reply packet's data (acks skipped; each reply acked). */
static const char *reply(void)
{
	static char buf[8192];
	size_t n = 0;
	int ch;

	while ((ch = get()) != '$')
		;
	while ((ch = get()) != '#' && n + 1 < sizeof(buf))
		buf[n++] = (char)ch;
	buf[n] = '\0';
	get();
	get();
	if (write(fd, "+", 1) != 1)
		FAIL("write");
	return buf;
}

/* Send data; the reply must be want exactly (want ending in '*': start with it). */
static void expect(const char *data, const char *want)
{
	const char *got;
	size_t n = strlen(want);

	send_packet(data);
	got = reply();
	while (got[0] == 'O' && strcmp(want, "OK") == 0 && strcmp(got, "OK") != 0)
		got = reply();	/* console output before a monitor command's OK */
	if (n > 0 && want[n - 1] == '*' ? strncmp(got, want, n - 1) != 0 : strcmp(got, want) != 0)
		FAIL("'%s' got '%.80s', not '%s'", data, got, want);
}

static pid_t start_rig(const char *rig, const char *scn, int *port)
{
	int err[2];
	char line[512];
	FILE *f;
	pid_t pid;

	if (pipe(err) < 0 || (pid = fork()) < 0)
		FAIL("fork");
	if (pid == 0) {
		dup2(err[1], 2);
		close(err[0]);
		execl(rig, rig, "debug", "--gdb", "127.0.0.1:0", scn, (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	f = fdopen(err[0], "r");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "rig debug: %*s waiting for gdb on 127.0.0.1:%d", port) == 1)
			return pid;
	FAIL("rig debug did not listen");
}

int main(int argc, char **argv)
{
	static const struct { const char *send, *want; } table[] = {
		{ "qSupported:multiprocess+;swbreak+", "PacketSize=1000;*" },
		{ "?", "S05" },
		{ "", "" },
		{ "m", "E01" }, { "mzz,4", "E01" }, { "m0,zz", "E01" }, { "m123456789,4", "E01" },
		{ "m0,4", "E14" }, { "m0,7fffffff", "E14" },
		{ "M0,4:zz", "E01" }, { "Mc0100000,2:123456", "E01" }, { "Mc0100000,ffffffff:00", "E01" },
		{ "p", "E01" }, { "p99", "E01" }, { "p8=", "E01" }, { "P8=00000000", "E01" }, { "P0=zz", "E01" },
		{ "P0=0000000000", "E01" }, { "G00", "E01" },
		{ "Z0,zz,1", "E01" }, { "Z0", "" }, { "Z2,1000,4", "" }, { "z9,0,0", "" },
		{ "qXfer:features:read:target.xml:zz,10", "E01" }, { "qXfer:features:read:other.xml:0,10", "" },
		{ "qXfer:features:read:target.xml:ffff,10", "l" }, { "qXfer:features:read:target.xml:0,10", "m<?xml version=\"*" },
		{ "qRcmd,6", "E01" }, { "qRcmd,00", "E01" }, { "qRcmd,zz", "E01" }, { "qRcmd,7a7a", "OK" },
		{ "vCont;x", "" }, { "vCont?", "vCont;c;C;s;S" }, { "bx", "" }, { "X0,0:", "" }, { "!", "" },
		{ "Hg0", "OK" }, { "qAttached", "1" },
	};
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port = 0, status;
	pid_t pid;
	const char *got;

	if (argc != 3)
		FAIL("usage: gdb_wire RIG SCENARIO");
	signal(SIGPIPE, SIG_IGN);
	pid = start_rig(argv[1], argv[2], &port);
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		FAIL("connect");
	/* noise and a bad checksum first: refused, never answered */
	if (write(fd, "xyz$g#00", 8) != 8)
		FAIL("write");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		expect(table[i].send, table[i].want);
	send_packet("g");
	if (strlen(got = reply()) != 2 * (16 * 4 + 8 * 10 + 8 * 4 + 4 * 4))
		FAIL("g: %zu hex digits", strlen(got));
	/* run, then Ctrl-C: the guest stops mid-run, at an instruction */
	send_packet("c");
	usleep(200000);
	if (write(fd, "\x03", 1) != 1)
		FAIL("write");
	if (strcmp(got = reply(), "T02thread:01;") != 0)
		FAIL("Ctrl-C: got '%s'", got);
	expect("qRcmd,7768657265", "OK");	/* monitor where */
	send_packet("k");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 4)
		FAIL("rig debug after k: status 0x%x, not exit 4", status);
	puts("PASS");
	return 0;
}
