//go:build cgo

// The C API of ses.h over the Go functions of export.go: const strings and
// the ses_result enum, nothing else.

#include <stdlib.h>
#include "_cgo_export.h"

/* A Windows DLL exports what is marked so; elsewhere every function is. */
#ifdef _WIN32
#define SES_EXPORT __declspec(dllexport)
#else
#define SES_EXPORT
#endif

SES_EXPORT ses_result ses_client_new(ses_client **client, ses_error *err) {
	return (ses_result)sesgo_client_new(client, err);
}

SES_EXPORT void ses_client_free(ses_client *client) {
	sesgo_client_free(client);
}

SES_EXPORT ses_result ses_client_add_pin(ses_client *client, const char *thumbprint,
                              const char *common_name, ses_error *err) {
	return (ses_result)sesgo_client_add_pin(client, (char *)thumbprint, (char *)common_name, err);
}

SES_EXPORT ses_result ses_client_add_ca_file(ses_client *client, const char *path, ses_error *err) {
	return (ses_result)sesgo_client_add_ca_file(client, (char *)path, err);
}

SES_EXPORT ses_result ses_client_allow_host(ses_client *client, const char *pattern, ses_error *err) {
	return (ses_result)sesgo_client_allow_host(client, (char *)pattern, err);
}

SES_EXPORT ses_result ses_client_allow_pinned_hosts(ses_client *client, int allow, ses_error *err) {
	return (ses_result)sesgo_client_allow_pinned_hosts(client, allow, err);
}

SES_EXPORT ses_result ses_client_set_api_version(ses_client *client, const char *version, ses_error *err) {
	return (ses_result)sesgo_client_set_api_version(client, (char *)version, err);
}

SES_EXPORT ses_result ses_client_set_retries(ses_client *client, int retries, ses_error *err) {
	return (ses_result)sesgo_client_set_retries(client, retries, err);
}

SES_EXPORT ses_result ses_client_set_timeout(ses_client *client, int64_t milliseconds, ses_error *err) {
	return (ses_result)sesgo_client_set_timeout(client, milliseconds, err);
}

SES_EXPORT ses_result ses_check(ses_client *client, const char *url, const char *token,
                     const char *app, ses_entitlement *out, ses_error *err) {
	return (ses_result)sesgo_check(client, (char *)url, (char *)token, (char *)app, out, err);
}

SES_EXPORT ses_result ses_acquire(ses_client *client, const char *url, const char *token,
                       const char *app, int64_t duration_seconds, ses_lease *out,
                       ses_error *err) {
	return (ses_result)sesgo_acquire(client, (char *)url, (char *)token, (char *)app,
	                                 duration_seconds, out, err);
}

SES_EXPORT ses_result ses_renew(ses_client *client, const char *url, const char *lease_id,
                     int64_t duration_seconds, int64_t *expiry, ses_error *err) {
	return (ses_result)sesgo_renew(client, (char *)url, (char *)lease_id, duration_seconds,
	                               expiry, err);
}

SES_EXPORT ses_result ses_release(ses_client *client, const char *url, const char *lease_id,
                       ses_error *err) {
	return (ses_result)sesgo_release(client, (char *)url, (char *)lease_id, err);
}

SES_EXPORT ses_result ses_parse_entitlement(const char *api_version, const char *response,
                                            ses_entitlement *out, ses_error *err) {
	return (ses_result)sesgo_parse_entitlement((char *)api_version, (char *)response, out, err);
}

SES_EXPORT void ses_free(char *s) {
	free(s);
}

SES_EXPORT const char *ses_version(void) {
	return sesgo_version();
}
