/*
 * ses.h: the Azure Batch software entitlement check, as a C library.
 *
 * libses is the check `ses client` makes, built from the same Go code:
 * the endpoint must be a Batch account host (or one the caller allows),
 * the TLS chain (TLS 1.2 or later, system roots plus any CA file given)
 * must contain a pinned certificate, and the pin is checked inside the TLS
 * handshake, before a byte of the token is sent. Connection failures,
 * timeouts, 429 and 5xx are retried with backoff; a "no", a TLS or pin
 * failure and a redirect never are.
 *
 * Plain C99. Every call returns a ses_result and fills a caller-owned
 * ses_error; every string the library returns is freed with ses_free.
 * Handles are safe to use from many threads at once; no initialisation
 * call is needed.
 *
 * Link with -lses (and -lpthread for the static library libses.a).
 */
#ifndef SES_H
#define SES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a call came to: the exit codes of `ses client`, value for value.
 */
typedef enum ses_result {
	SES_OK = 0,           /* entitled; or the call did what it was asked */
	SES_DENIED = 1,       /* a definite "no" from the server */
	SES_BAD_ARGUMENTS = 2, /* a missing or malformed argument or option */
	SES_UNTRUSTED = 3,    /* the server is not trusted: URL rules, host not
	                         allowed, TLS or pin failure; nothing was sent */
	SES_UNREACHABLE = 4,  /* the server could not be reached after retries */
	SES_UNEXPECTED = 5    /* the server answered something unexpected (or
	                         the library failed inside: see message) */
} ses_result;

/* Sizes of the text fields of ses_error, terminating NUL included. */
#define SES_ERROR_MESSAGE_SIZE 1024
#define SES_ERROR_CODE_SIZE 64

/*
 * What went wrong, filled by every call that takes one (a NULL pointer is
 * allowed: the details are then dropped). Owned by the caller; nothing in
 * it needs freeing. On success result is SES_OK and the strings are empty.
 */
typedef struct ses_error {
	ses_result result;   /* the value the call returned */
	int http_status;     /* status of the server's answer; 0 when there was none */
	char code[SES_ERROR_CODE_SIZE];       /* the server's error code, e.g.
	                                         "EntitlementDenied"; "" when none */
	char message[SES_ERROR_MESSAGE_SIZE]; /* readable UTF-8, truncated to fit */
} ses_error;

/*
 * An approved entitlement. Free the strings with ses_free.
 */
typedef struct ses_entitlement {
	char *id;       /* the entitlement id the server gave */
	char *vmid;     /* the VM id (api-versions 2017-05-01.5.0 and
	                   2017-06-01.5.1), else NULL */
	int64_t expiry; /* the expiry in Unix seconds (later api-versions), else 0 */
} ses_entitlement;

/*
 * An acquired lease (api-version 9999-09-09.99.99, which `ses server`
 * offers). Free id with ses_free.
 */
typedef struct ses_lease {
	char *id;       /* the lease's entitlement id */
	int64_t expiry; /* its expiry in Unix seconds */
} ses_lease;

/*
 * A handle holds the options of the calls made with it, and keeps their
 * connections open for the next call. Options may be changed at any time;
 * calls already running keep the options they started with.
 */
typedef struct ses_client ses_client;

/*
 * ses_client_new makes a handle with the defaults: the Batch hosts only,
 * Microsoft's published Azure CAs as pins, api-version 2017-09-01.6.0,
 * 5 retries, 60 s for a whole call, 30 s to connect (or the seconds in
 * AZ_BATCH_SES_CURLOPT_CONNECTTIMEOUT).
 */
ses_result ses_client_new(ses_client **client, ses_error *err);

/* ses_client_free ends a handle. No call may be running on it. NULL is allowed. */
void ses_client_free(ses_client *client);

/*
 * ses_client_add_pin adds a certificate the server's verified chain may
 * contain instead of a built-in pin: thumbprint is its SHA-1 (40 hex
 * digits, spaces and colons allowed, as Windows shows it) or SHA-256
 * (64), common_name the common name it must have (NULL or "" for any).
 */
ses_result ses_client_add_pin(ses_client *client, const char *thumbprint,
                              const char *common_name, ses_error *err);

/* ses_client_add_ca_file trusts the CA certificates of a PEM or DER file
   besides the system roots. */
ses_result ses_client_add_ca_file(ses_client *client, const char *path, ses_error *err);

/*
 * ses_client_allow_host allows hosts besides the Batch hosts:
 * ".example.com" the hosts below it, "example.com" that host and those
 * below it. The chain must still hold a pin.
 */
ses_result ses_client_allow_host(ses_client *client, const char *pattern, ses_error *err);

/*
 * ses_client_allow_pinned_hosts (allow != 0) accepts a host outside the
 * Batch hosts and the allowed ones on one condition: a pin added with
 * ses_client_add_pin is in its verified chain (the built-in pins count for
 * nothing there). That is how a vendor tests against a local server.
 */
ses_result ses_client_allow_pinned_hosts(ses_client *client, int allow, ses_error *err);

/* ses_client_set_api_version sets the api-version of ses_check, one of the
   published Batch versions (e.g. "2017-05-01.5.0", which returns a vmid). */
ses_result ses_client_set_api_version(ses_client *client, const char *version, ses_error *err);

/* ses_client_set_retries sets how many times a retryable failure is tried
   again (0: never). */
ses_result ses_client_set_retries(ses_client *client, int retries, ses_error *err);

/* ses_client_set_timeout bounds a whole call, retries included, in
   milliseconds (> 0). */
ses_result ses_client_set_timeout(ses_client *client, int64_t milliseconds, ses_error *err);

/*
 * ses_check asks whether token entitles this node to run app. url is the
 * Batch account endpoint; NULL for url or token means the variables Batch
 * sets, AZ_BATCH_ACCOUNT_URL and AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN. On
 * SES_OK *out holds the entitlement; otherwise its fields are NULL and 0.
 */
ses_result ses_check(ses_client *client, const char *url, const char *token,
                     const char *app, ses_entitlement *out, ses_error *err);

/* ses_acquire takes a lease for app of duration_seconds (> 0). url and
   token as for ses_check. */
ses_result ses_acquire(ses_client *client, const char *url, const char *token,
                       const char *app, int64_t duration_seconds, ses_lease *out,
                       ses_error *err);

/* ses_renew extends lease_id to duration_seconds from now; *expiry (may be
   NULL) gets the new expiry in Unix seconds. */
ses_result ses_renew(ses_client *client, const char *url, const char *lease_id,
                     int64_t duration_seconds, int64_t *expiry, ses_error *err);

/* ses_release ends lease_id; releasing it twice is not an error. */
ses_result ses_release(ses_client *client, const char *url, const char *lease_id,
                       ses_error *err);

/*
 * ses_parse_entitlement reads the text of an approved answer in the shape
 * of api_version (NULL: 2017-09-01.6.0), as ses_check reads it: e.g.
 * {"id":"entitlement-...","vmid":"..."} for 2017-05-01.5.0, where the vmid
 * is required. An answer without what it must hold is SES_UNEXPECTED.
 */
ses_result ses_parse_entitlement(const char *api_version, const char *response,
                                 ses_entitlement *out, ses_error *err);

/* ses_free frees a string the library returned. NULL is allowed. */
void ses_free(char *s);

/* ses_version returns the library's version, e.g. "1.2.0". Static: do not free. */
const char *ses_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SES_H */
