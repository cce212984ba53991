/*
 * bench: in-process entitlement checks against a running `ses server`,
 * for bench.sh.
 *
 *   bench N
 *
 * Makes N checks through one handle (its connection kept open between
 * checks), then N checks each through a handle of its own (a new TLS
 * connection each, as a process that checks once pays), and prints the
 * mean time of each. The server is named as for scenarios: SES_TEST_URL,
 * SES_TEST_TOKEN, SES_TEST_CA, SES_TEST_PIN, SES_TEST_CN.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ses.h"

static ses_client *handle(void) {
	ses_client *c = NULL;
	ses_error err;
	if (ses_client_new(&c, &err) != SES_OK || ses_client_add_ca_file(c, getenv("SES_TEST_CA"), &err) != SES_OK ||
	    ses_client_add_pin(c, getenv("SES_TEST_PIN"), getenv("SES_TEST_CN"), &err) != SES_OK ||
	    ses_client_allow_pinned_hosts(c, 1, &err) != SES_OK) {
		fprintf(stderr, "bench: %s\n", err.message);
		exit(1);
	}
	return c;
}

static void check(ses_client *c) {
	ses_entitlement ent;
	ses_error err;
	if (ses_check(c, getenv("SES_TEST_URL"), getenv("SES_TEST_TOKEN"), "contosoapp", &ent, &err) != SES_OK) {
		fprintf(stderr, "bench: %s\n", err.message);
		exit(1);
	}
	ses_free(ent.id);
	ses_free(ent.vmid);
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	int n = argc == 2 ? atoi(argv[1]) : 0, i;
	ses_client *c;
	double t;
	if (n <= 0) {
		fprintf(stderr, "usage: bench N\n");
		return 2;
	}
	c = handle();
	check(c); /* the first connection, outside the measure */
	t = now();
	for (i = 0; i < n; i++) {
		check(c);
	}
	printf("in-process, one handle (connection kept)  %4d checks  %8.3f ms/check\n", n, (now() - t) * 1e3 / n);
	ses_client_free(c);
	t = now();
	for (i = 0; i < n; i++) {
		c = handle();
		check(c);
		ses_client_free(c);
	}
	printf("in-process, a new handle per check        %4d checks  %8.3f ms/check\n", n, (now() - t) * 1e3 / n);
	return 0;
}
