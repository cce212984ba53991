/*
 * scenarios: the C API against a running `ses server`, one scenario per
 * run, for test.sh.
 *
 *   scenarios NAME [ARG]
 *
 * The server comes from the environment: SES_TEST_URL, SES_TEST_TOKEN (a
 * token for contosoapp), SES_TEST_CA (the development root), SES_TEST_PIN
 * and SES_TEST_CN (the development intermediate's thumbprint and common
 * name). The exit status is the ses_result the scenario came to, or 99
 * when something else was wrong; test.sh knows which result each scenario
 * must come to.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ses.h"

#define BROKEN 99
#define THREADS 16
#define CHECKS_PER_THREAD 4

static const char *url, *token, *ca, *pin, *cn;

static const char *env(const char *name) {
	const char *v = getenv(name);
	if (v == NULL || *v == '\0') {
		fprintf(stderr, "scenarios: %s is not set\n", name);
		exit(BROKEN);
	}
	return v;
}

/* broken reports what was wrong and gives the exit status for it. */
static int broken(const char *what, const ses_error *err) {
	fprintf(stderr, "scenarios: %s", what);
	if (err != NULL) {
		fprintf(stderr, ": result %d, status %d, code \"%s\": %s", err->result,
		        err->http_status, err->code, err->message);
	}
	fprintf(stderr, "\n");
	return BROKEN;
}

/* client makes a handle that trusts the development root; with pinned
   it also pins the intermediate and lets 127.0.0.1 in through that pin. */
static ses_client *client(int pinned) {
	ses_client *c = NULL;
	ses_error err;
	if (ses_client_new(&c, &err) != SES_OK || ses_client_add_ca_file(c, ca, &err) != SES_OK) {
		broken("client", &err);
		exit(BROKEN);
	}
	if (pinned && (ses_client_add_pin(c, pin, cn, &err) != SES_OK ||
	               ses_client_allow_pinned_hosts(c, 1, &err) != SES_OK)) {
		broken("pin", &err);
		exit(BROKEN);
	}
	return c;
}

/* outcome prints the result of a call and returns it. */
static int outcome(const char *what, int rc, const ses_error *err) {
	if (err->result != (ses_result)rc) {
		return broken("ses_error.result is not the returned value", err);
	}
	printf("%s: result %d%s%s\n", what, rc, rc == SES_OK ? "" : ": ", rc == SES_OK ? "" : err->message);
	return rc;
}

static int entitled(void) {
	ses_client *c = client(1);
	ses_entitlement ent;
	ses_error err;
	int rc = ses_check(c, url, token, "contosoapp", &ent, &err);
	if (rc == SES_OK) {
		if (ent.id == NULL || strncmp(ent.id, "entitlement-", 12) != 0 || ent.vmid != NULL || ent.expiry <= 0 ||
		    err.message[0] != '\0') {
			rc = broken("the entitlement is not what 2017-09-01.6.0 answers", &err);
		}
		ses_free(ent.id);
		ses_free(ent.vmid);
	}
	/* api-version 5.0 answers a vmid and no expiry. */
	if (rc == SES_OK && (rc = ses_client_set_api_version(c, "2017-05-01.5.0", &err)) == SES_OK) {
		rc = ses_check(c, url, token, "contosoapp", &ent, &err);
		if (rc == SES_OK) {
			if (ent.id == NULL || ent.vmid == NULL || ent.vmid[0] == '\0' || ent.expiry != 0) {
				rc = broken("the entitlement is not what 2017-05-01.5.0 answers", &err);
			}
			ses_free(ent.id);
			ses_free(ent.vmid);
		}
	}
	ses_client_free(c);
	return outcome("entitled", rc, &err);
}

static int denied(void) {
	ses_client *c = client(1);
	ses_entitlement ent;
	ses_error err;
	int rc = ses_check(c, url, token, "otherapp", &ent, &err);
	ses_client_free(c);
	if (rc == SES_DENIED && (err.http_status != 403 || strcmp(err.code, "EntitlementDenied") != 0 ||
	                         ent.id != NULL || strstr(err.message, "otherapp") == NULL)) {
		return broken("the denial lacks its status, code or message", &err);
	}
	return outcome("denied", rc, &err);
}

/* untrusted runs a check for app that must fail before the token is sent;
   test.sh gives each one an app of its own and looks for it in the
   server's log. */
static int untrusted(const char *how, const char *app) {
	ses_client *c = NULL;
	ses_entitlement ent;
	ses_error err;
	int rc;
	if (strcmp(how, "no-pin") == 0) {
		/* The host allowed by name, the chain trusted: only the pin is missing. */
		c = client(0);
		if (ses_client_allow_host(c, "127.0.0.1", &err) != SES_OK) {
			return broken("allow host", &err);
		}
	} else if (strcmp(how, "wrong-pin") == 0) {
		c = client(0);
		if (ses_client_add_pin(c, "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22 33", cn, &err) != SES_OK ||
		    ses_client_allow_pinned_hosts(c, 1, &err) != SES_OK) {
			return broken("pin", &err);
		}
	} else if (strcmp(how, "wrong-cn") == 0) {
		c = client(0);
		if (ses_client_add_pin(c, pin, "not the intermediate", &err) != SES_OK ||
		    ses_client_allow_pinned_hosts(c, 1, &err) != SES_OK) {
			return broken("pin", &err);
		}
	} else if (strcmp(how, "host-not-allowed") == 0) {
		/* Trusted chain, pinned certificate, but nothing lets a non-Batch host in. */
		c = client(0);
		if (ses_client_add_pin(c, pin, cn, &err) != SES_OK) {
			return broken("pin", &err);
		}
	} else if (strcmp(how, "untrusted-root") == 0) {
		/* The pin matches, but the chain does not verify. */
		if (ses_client_new(&c, &err) != SES_OK || ses_client_add_pin(c, pin, cn, &err) != SES_OK ||
		    ses_client_allow_pinned_hosts(c, 1, &err) != SES_OK) {
			return broken("client", &err);
		}
	} else {
		return broken("unknown untrusted scenario", NULL);
	}
	rc = ses_check(c, url, token, app, &ent, &err);
	ses_client_free(c);
	if (ent.id != NULL) {
		return broken("an entitlement came with a failure", &err);
	}
	return outcome(how, rc, &err);
}

/* closed_port returns a loopback port nothing listens on. */
static int closed_port(void) {
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &n) != 0) {
		return -1;
	}
	close(s);
	return ntohs(a.sin_port);
}

static int unreachable(void) {
	ses_client *c = client(1);
	ses_entitlement ent;
	ses_error err;
	char there[64];
	int port = closed_port(), rc;
	if (port <= 0) {
		return broken("no free port", NULL);
	}
	snprintf(there, sizeof there, "https://127.0.0.1:%d", port);
	if (ses_client_set_retries(c, 1, &err) != SES_OK || ses_client_set_timeout(c, 20000, &err) != SES_OK) {
		return broken("options", &err);
	}
	rc = ses_check(c, there, token, "contosoapp", &ent, &err);
	ses_client_free(c);
	if (rc == SES_UNREACHABLE && strstr(err.message, "2 attempt") == NULL) {
		return broken("the failure does not say it was tried twice", &err);
	}
	return outcome("unreachable", rc, &err);
}

/* bad_arguments: every malformed argument is SES_BAD_ARGUMENTS, and
   nothing is sent. */
static int bad_arguments(void) {
	ses_client *c = client(1);
	ses_entitlement ent;
	ses_lease lease;
	ses_error err;
	int64_t expiry;
	struct {
		const char *what;
		int rc;
	} calls[12];
	int n = 0, i;
#define CALL(w, call) (calls[n].what = (w), calls[n].rc = (call), n++)
	CALL("malformed pin", ses_client_add_pin(c, "abcd", cn, &err));
	CALL("pin with =", ses_client_add_pin(c, "00=11", cn, &err));
	CALL("NULL pin", ses_client_add_pin(c, NULL, cn, &err));
	CALL("missing CA file", ses_client_add_ca_file(c, "/nonexistent/ca.pem", &err));
	CALL("unknown api-version", ses_client_set_api_version(c, "2016-01-01.1.0", &err));
	CALL("negative retries", ses_client_set_retries(c, -1, &err));
	CALL("zero timeout", ses_client_set_timeout(c, 0, &err));
	CALL("NULL app", ses_check(c, url, token, NULL, &ent, &err));
	CALL("empty token", ses_check(c, url, "", "contosoapp", &ent, &err));
	CALL("zero duration", ses_acquire(c, url, token, "contosoapp", 0, &lease, &err));
	CALL("NULL lease id", ses_renew(c, url, NULL, 60, &expiry, &err));
	CALL("NULL client", ses_check(NULL, url, token, "contosoapp", &ent, &err));
#undef CALL
	ses_client_free(c);
	for (i = 0; i < n; i++) {
		if (calls[i].rc != SES_BAD_ARGUMENTS) {
			fprintf(stderr, "scenarios: %s: result %d, want %d\n", calls[i].what, calls[i].rc, SES_BAD_ARGUMENTS);
			return BROKEN;
		}
	}
	/* The last call's details. */
	if (err.result != SES_BAD_ARGUMENTS || err.message[0] == '\0') {
		return broken("no details for a bad argument", &err);
	}
	printf("bad-arguments: %d calls, result %d each\n", n, SES_BAD_ARGUMENTS);
	return SES_BAD_ARGUMENTS;
}

/* environment: NULL for the URL and the token reads the Batch variables,
   as the host program set them. */
static int environment(void) {
	ses_client *c = client(1);
	ses_entitlement ent;
	ses_error err;
	int rc;
	setenv("AZ_BATCH_ACCOUNT_URL", url, 1);
	setenv("AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN", token, 1);
	rc = ses_check(c, NULL, NULL, "contosoapp", &ent, &err);
	ses_free(ent.id);
	ses_free(ent.vmid);
	if (rc != SES_OK) {
		ses_client_free(c);
		return outcome("environment", rc, &err);
	}
	unsetenv("AZ_BATCH_ACCOUNT_URL");
	rc = ses_check(c, NULL, token, "contosoapp", &ent, &err);
	ses_client_free(c);
	if (rc != SES_BAD_ARGUMENTS || strstr(err.message, "AZ_BATCH_ACCOUNT_URL") == NULL) {
		return broken("no URL and no AZ_BATCH_ACCOUNT_URL was not a bad argument naming it", &err);
	}
	printf("environment: the Batch variables as setenv left them\n");
	return SES_OK;
}

static int lease(void) {
	ses_client *c = client(1);
	ses_lease l;
	ses_error err;
	int64_t expiry = 0;
	int rc = ses_acquire(c, url, token, "contosoapp", 120, &l, &err);
	if (rc != SES_OK) {
		ses_client_free(c);
		return outcome("acquire", rc, &err);
	}
	if (l.id == NULL || strlen(l.id) != 32 || l.expiry <= 0) {
		rc = broken("the lease has no id or expiry", &err);
	} else if ((rc = ses_renew(c, url, l.id, 300, &expiry, &err)) != SES_OK) {
		rc = outcome("renew", rc, &err);
	} else if (expiry < l.expiry + 120) {
		rc = broken("the renewal did not extend the lease", &err);
	} else if ((rc = ses_release(c, url, l.id, &err)) != SES_OK) {
		rc = outcome("release", rc, &err);
	} else if ((rc = ses_release(c, url, l.id, &err)) != SES_OK) {
		rc = outcome("release again", rc, &err);
	} else if ((rc = ses_renew(c, url, l.id, 60, &expiry, &err)) != SES_DENIED || err.http_status != 409 ||
	           strcmp(err.code, "AlreadyReleased") != 0 || expiry != 0) {
		rc = broken("renewing a released lease was not refused with 409 AlreadyReleased", &err);
	} else {
		printf("lease: acquired, renewed, released, renewal refused after release\n");
		rc = SES_OK;
	}
	ses_free(l.id);
	ses_client_free(c);
	return rc;
}

static int parse(void) {
	ses_entitlement ent;
	ses_error err;
	int rc = ses_parse_entitlement("2017-05-01.5.0", "{\"id\":\"entitlement-1\",\"vmid\":\"vm-42\"}", &ent, &err);
	if (rc != SES_OK || strcmp(ent.id, "entitlement-1") != 0 || strcmp(ent.vmid, "vm-42") != 0) {
		return broken("parse a 5.0 answer", &err);
	}
	ses_free(ent.id);
	ses_free(ent.vmid);
	rc = ses_parse_entitlement(NULL, "{\"id\":\"entitlement-2\",\"expiry\":\"2026-11-29T00:00:00Z\"}", &ent, &err);
	if (rc != SES_OK || strcmp(ent.id, "entitlement-2") != 0 || ent.vmid != NULL || ent.expiry != 1795910400) {
		return broken("parse a 6.0 answer", &err);
	}
	ses_free(ent.id);
	ses_free(ent.vmid);
	if ((rc = ses_parse_entitlement(NULL, "{\"vmid\":\"vm-42\"}", &ent, &err)) != SES_UNEXPECTED || ent.id != NULL) {
		return broken("an answer without id was read", &err);
	}
	if ((rc = ses_parse_entitlement("2017-05-01.5.0", "{\"id\":\"e\"}", &ent, &err)) != SES_UNEXPECTED) {
		return broken("a 5.0 answer without vmid was read", &err);
	}
	if ((rc = ses_parse_entitlement("2016-01-01.1.0", "{\"id\":\"e\"}", &ent, &err)) != SES_BAD_ARGUMENTS) {
		return broken("an unknown api-version was taken", &err);
	}
	printf("parse: ok\n");
	return SES_OK;
}

struct worker {
	ses_client *shared;
	int rc;
	char ids[CHECKS_PER_THREAD][80];
};

/* work checks on the shared handle, and once on a handle of its own. */
static void *work(void *arg) {
	struct worker *w = arg;
	ses_error err;
	int i;
	for (i = 0; i < CHECKS_PER_THREAD && w->rc == SES_OK; i++) {
		ses_entitlement ent;
		ses_client *c = i == 0 ? client(1) : w->shared;
		w->rc = ses_check(c, url, token, "contosoapp", &ent, &err);
		if (w->rc == SES_OK) {
			snprintf(w->ids[i], sizeof w->ids[i], "%s", ent.id);
			ses_free(ent.id);
			ses_free(ent.vmid);
		} else {
			fprintf(stderr, "scenarios: thread: %s\n", err.message);
		}
		if (i == 0) {
			ses_client_free(c);
		}
	}
	return NULL;
}

static int threads(void) {
	pthread_t t[THREADS];
	struct worker w[THREADS];
	ses_client *shared = client(1);
	int i, j, k, l;
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].shared = shared;
		if (pthread_create(&t[i], NULL, work, &w[i]) != 0) {
			return broken("pthread_create", NULL);
		}
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
	}
	ses_client_free(shared);
	for (i = 0; i < THREADS; i++) {
		if (w[i].rc != SES_OK) {
			return w[i].rc;
		}
		for (j = 0; j < CHECKS_PER_THREAD; j++) {
			for (k = i; k < THREADS; k++) {
				for (l = (k == i ? j + 1 : 0); l < CHECKS_PER_THREAD; l++) {
					if (strcmp(w[i].ids[j], w[k].ids[l]) == 0) {
						return broken("two checks got the same entitlement id", NULL);
					}
				}
			}
		}
	}
	printf("threads: %d threads, %d checks each, all entitled, all ids distinct\n", THREADS, CHECKS_PER_THREAD);
	return SES_OK;
}

/* loop repeats every kind of call, each with its own handle, for the leak
   check: every string and handle the library returned is freed. */
static int loop(int n) {
	int i, rc;
	for (i = 0; i < n; i++) {
		ses_client *c = client(1), *bare = NULL;
		ses_entitlement ent;
		ses_lease l;
		ses_error err;
		int64_t expiry;
		if ((rc = ses_check(c, url, token, "contosoapp", &ent, &err)) != SES_OK) {
			return outcome("check", rc, &err);
		}
		ses_free(ent.id);
		ses_free(ent.vmid);
		if ((rc = ses_check(c, url, token, "otherapp", &ent, &err)) != SES_DENIED) {
			return outcome("denied check", rc, &err);
		}
		if ((rc = ses_acquire(c, url, token, "contosoapp", 60, &l, &err)) != SES_OK) {
			return outcome("acquire", rc, &err);
		}
		if ((rc = ses_renew(c, url, l.id, 60, &expiry, &err)) != SES_OK ||
		    (rc = ses_release(c, url, l.id, &err)) != SES_OK) {
			return outcome("renew and release", rc, &err);
		}
		ses_free(l.id);
		if ((rc = ses_parse_entitlement("2017-05-01.5.0", "{\"id\":\"e\",\"vmid\":\"v\"}", &ent, &err)) != SES_OK) {
			return outcome("parse", rc, &err);
		}
		ses_free(ent.id);
		ses_free(ent.vmid);
		ses_client_free(c);
		/* An untrusted server, through a handle made and freed here. */
		if (ses_client_new(&bare, &err) != SES_OK) {
			return outcome("new", rc, &err);
		}
		if ((rc = ses_check(bare, url, token, "contosoapp", &ent, &err)) != SES_UNTRUSTED) {
			return outcome("untrusted check", rc, &err);
		}
		ses_client_free(bare);
	}
	printf("loop: %d rounds\n", n);
	return SES_OK;
}

int main(int argc, char **argv) {
	const char *name = argc > 1 ? argv[1] : "";
	if (strcmp(name, "version") == 0) {
		printf("%s\n", ses_version());
		return ses_version()[0] == '\0' ? BROKEN : SES_OK;
	}
	url = env("SES_TEST_URL");
	token = env("SES_TEST_TOKEN");
	ca = env("SES_TEST_CA");
	pin = env("SES_TEST_PIN");
	cn = env("SES_TEST_CN");
	if (strcmp(name, "entitled") == 0) return entitled();
	if (strcmp(name, "denied") == 0) return denied();
	if (strcmp(name, "untrusted") == 0 && argc == 4) return untrusted(argv[2], argv[3]);
	if (strcmp(name, "unreachable") == 0) return unreachable();
	if (strcmp(name, "bad-arguments") == 0) return bad_arguments();
	if (strcmp(name, "environment") == 0) return environment();
	if (strcmp(name, "lease") == 0) return lease();
	if (strcmp(name, "parse") == 0) return parse();
	if (strcmp(name, "threads") == 0) return threads();
	if (strcmp(name, "loop") == 0 && argc == 3) return loop(atoi(argv[2]));
	fprintf(stderr, "usage: scenarios entitled|denied|untrusted HOW APP|unreachable|bad-arguments|environment|lease|parse|threads|loop N|version\n");
	return BROKEN;
}
