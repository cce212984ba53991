/*
 * check: a C program that runs only when entitled, and holds a lease while
 * it works.
 *
 *   check APP [CA_FILE THUMBPRINT COMMON_NAME]
 *
 * The endpoint and the token come from AZ_BATCH_ACCOUNT_URL and
 * AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN, as Batch sets them. Against a local
 * `ses server`, give its development root as CA_FILE and its intermediate's
 * thumbprint and common name: that pin is then what lets a host outside the
 * Batch list be trusted. The exit status is the ses_result of the first
 * call that failed.
 *
 *   cc check.c -I../include -L.. -lses -lpthread -o check
 */
#include <stdio.h>
#include <time.h>

#include "ses.h"

static int failed(const char *what, const ses_error *err) {
	fprintf(stderr, "check: %s: %s", what, err->message);
	if (err->code[0] != '\0') {
		fprintf(stderr, " (%d %s)", err->http_status, err->code);
	}
	fprintf(stderr, "\n");
	return err->result;
}

int main(int argc, char **argv) {
	ses_client *client = NULL;
	ses_entitlement ent;
	ses_lease lease;
	ses_error err;
	int64_t expiry = 0;
	int rc;

	if (argc != 2 && argc != 5) {
		fprintf(stderr, "usage: check APP [CA_FILE THUMBPRINT COMMON_NAME]\n");
		return SES_BAD_ARGUMENTS;
	}
	if (ses_client_new(&client, &err) != SES_OK) {
		return failed("new client", &err);
	}
	if (argc == 5 && (ses_client_add_ca_file(client, argv[2], &err) != SES_OK ||
	                  ses_client_add_pin(client, argv[3], argv[4], &err) != SES_OK ||
	                  ses_client_allow_pinned_hosts(client, 1, &err) != SES_OK)) {
		rc = failed("options", &err);
		goto out;
	}

	/* NULL, NULL: the URL and the token Batch gives the task. */
	if (ses_check(client, NULL, NULL, argv[1], &ent, &err) != SES_OK) {
		rc = failed("entitlement", &err);
		goto out;
	}
	printf("entitled %s %s expires %lld\n", argv[1], ent.id, (long long)ent.expiry);
	ses_free(ent.id);
	ses_free(ent.vmid);

	/* A lease: taken for a minute, renewed while working, released at the end. */
	if (ses_acquire(client, NULL, NULL, argv[1], 60, &lease, &err) != SES_OK) {
		rc = failed("acquire", &err);
		goto out;
	}
	printf("lease %s until %lld\n", lease.id, (long long)lease.expiry);
	rc = ses_renew(client, NULL, lease.id, 60, &expiry, &err);
	if (rc == SES_OK) {
		printf("renewed until %lld\n", (long long)expiry);
	} else {
		failed("renew", &err);
	}
	if (ses_release(client, NULL, lease.id, &err) != SES_OK) {
		rc = failed("release", &err);
	} else {
		printf("released\n");
	}
	ses_free(lease.id);
out:
	ses_client_free(client);
	return rc;
}
