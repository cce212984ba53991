//go:build cgo

package main

/*
#cgo CFLAGS: -I${SRCDIR}/include
#include <stdlib.h>
#include <string.h>
#include "ses.h"

// A ses_client is a cgo handle to the Go state of the handle.
struct ses_client { uintptr_t handle; };
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"

	"github.com/seskit/ses/client"
)

// The functions below are the Go half of ses.h: ses.c gives each the
// declared C signature (const strings, the ses_result enum) and nothing
// else. Each one recovers any panic into SES_UNEXPECTED, so no Go panic
// reaches the host program.

// version is the library's version, set at link time.
var version = "devel"

var versionOnce = sync.OnceValue(func() *C.char { return C.CString(version) })

//export sesgo_version
func sesgo_version() (s *C.char) {
	defer guard(nil, nil)
	return versionOnce()
}

//export sesgo_client_new
func sesgo_client_new(out **C.struct_ses_client, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	if out == nil {
		return fail(e, usagef("client is NULL"))
	}
	*out = nil
	h, err := newHandle(getenv(client.EnvConnectTimeout))
	if err != nil {
		return fail(e, err)
	}
	p := (*C.struct_ses_client)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_ses_client{}))))
	if p == nil {
		return report(e, C.SES_UNEXPECTED, errors.New("out of memory"))
	}
	p.handle = C.uintptr_t(cgo.NewHandle(h))
	*out = p
	return succeed(e)
}

//export sesgo_client_free
func sesgo_client_free(p *C.struct_ses_client) {
	defer guard(nil, nil)
	if p == nil {
		return
	}
	if p.handle != 0 {
		ch := cgo.Handle(p.handle)
		p.handle = 0
		ch.Value().(*handle).close()
		ch.Delete()
	}
	C.free(unsafe.Pointer(p))
}

//export sesgo_client_add_pin
func sesgo_client_add_pin(p *C.struct_ses_client, thumbprint, commonName *C.char, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.addPin(str(thumbprint), str(commonName)) })
}

//export sesgo_client_add_ca_file
func sesgo_client_add_ca_file(p *C.struct_ses_client, path *C.char, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.addCAFile(str(path)) })
}

//export sesgo_client_allow_host
func sesgo_client_allow_host(p *C.struct_ses_client, pattern *C.char, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.allowHost(str(pattern)) })
}

//export sesgo_client_allow_pinned_hosts
func sesgo_client_allow_pinned_hosts(p *C.struct_ses_client, allow C.int, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.allowPinnedHosts(allow != 0) })
}

//export sesgo_client_set_api_version
func sesgo_client_set_api_version(p *C.struct_ses_client, v *C.char, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.setAPIVersion(str(v)) })
}

//export sesgo_client_set_retries
func sesgo_client_set_retries(p *C.struct_ses_client, n C.int, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.setRetries(int(n)) })
}

//export sesgo_client_set_timeout
func sesgo_client_set_timeout(p *C.struct_ses_client, ms C.int64_t, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.setTimeout(int64(ms)) })
}

//export sesgo_check
func sesgo_check(p *C.struct_ses_client, url, token, app *C.char, out *C.ses_entitlement, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	if out == nil {
		return fail(e, usagef("out is NULL"))
	}
	*out = C.ses_entitlement{}
	return with(p, e, func(h *handle) error {
		ent, err := h.check(orEnv(url, client.EnvURL), orEnv(token, client.EnvToken), str(app))
		if err != nil {
			return err
		}
		putEntitlement(out, ent)
		return nil
	})
}

//export sesgo_acquire
func sesgo_acquire(p *C.struct_ses_client, url, token, app *C.char, seconds C.int64_t, out *C.ses_lease, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	if out == nil {
		return fail(e, usagef("out is NULL"))
	}
	*out = C.ses_lease{}
	return with(p, e, func(h *handle) error {
		l, err := h.acquire(orEnv(url, client.EnvURL), orEnv(token, client.EnvToken), str(app), int64(seconds))
		if err != nil {
			return err
		}
		out.id, out.expiry = C.CString(l.ID), unix(l.Expiry)
		return nil
	})
}

//export sesgo_renew
func sesgo_renew(p *C.struct_ses_client, url, id *C.char, seconds C.int64_t, expiry *C.int64_t, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	if expiry != nil {
		*expiry = 0
	}
	return with(p, e, func(h *handle) error {
		t, err := h.renew(orEnv(url, client.EnvURL), str(id), int64(seconds))
		if err == nil && expiry != nil {
			*expiry = unix(t)
		}
		return err
	})
}

//export sesgo_release
func sesgo_release(p *C.struct_ses_client, url, id *C.char, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	return with(p, e, func(h *handle) error { return h.release(orEnv(url, client.EnvURL), str(id)) })
}

//export sesgo_parse_entitlement
func sesgo_parse_entitlement(apiVersion, response *C.char, out *C.ses_entitlement, e *C.ses_error) (rc C.int) {
	defer guard(e, &rc)
	if out == nil {
		return fail(e, usagef("out is NULL"))
	}
	*out = C.ses_entitlement{}
	if response == nil {
		return fail(e, usagef("response is NULL"))
	}
	ent, err := client.ParseEntitlement([]byte(C.GoString(response)), str(apiVersion))
	if err != nil {
		return fail(e, err)
	}
	putEntitlement(out, ent)
	return succeed(e)
}

// with runs f on the handle p stands for and reports its outcome.
func with(p *C.struct_ses_client, e *C.ses_error, f func(h *handle) error) C.int {
	if p == nil || p.handle == 0 {
		return fail(e, usagef("client is NULL or freed"))
	}
	h, ok := cgo.Handle(p.handle).Value().(*handle)
	if !ok {
		return fail(e, usagef("client is not a ses_client"))
	}
	if err := f(h); err != nil {
		return fail(e, err)
	}
	return succeed(e)
}

// guard is deferred by every exported function: a panic becomes
// SES_UNEXPECTED with the panic's text in e.
func guard(e *C.ses_error, rc *C.int) {
	if r := recover(); r != nil {
		code := report(e, C.SES_UNEXPECTED, fmt.Errorf("internal error in libses: %v", r))
		if rc != nil {
			*rc = code
		}
	}
}

// resultOf maps an error to its ses_result, the exit code `ses client`
// would end with.
func resultOf(err error) C.int {
	var (
		denied      *client.DeniedError
		untrusted   *client.UntrustedError
		unreachable *client.UnreachableError
		protocol    *client.ProtocolError
		usage       *usageError
	)
	switch {
	case err == nil:
		return C.SES_OK
	case errors.As(err, &usage):
		return C.SES_BAD_ARGUMENTS
	case errors.As(err, &denied):
		return C.SES_DENIED
	case errors.As(err, &untrusted):
		return C.SES_UNTRUSTED
	case errors.As(err, &unreachable):
		return C.SES_UNREACHABLE
	case errors.As(err, &protocol):
		return C.SES_UNEXPECTED
	}
	return C.SES_BAD_ARGUMENTS
}

func succeed(e *C.ses_error) C.int {
	if e != nil {
		*e = C.ses_error{result: C.SES_OK}
	}
	return C.SES_OK
}

func fail(e *C.ses_error, err error) C.int {
	return report(e, resultOf(err), err)
}

// report fills e with rc and the details of err.
func report(e *C.ses_error, rc C.int, err error) C.int {
	if e != nil {
		f := describe(err)
		*e = C.ses_error{result: C.ses_result(rc), http_status: C.int(f.status)}
		put(e.code[:], f.code)
		put(e.message[:], f.message)
	}
	return rc
}

// put writes s into a fixed C buffer, truncated and NUL-terminated.
func put(dst []C.char, s string) {
	s = truncate(s, len(dst)-1)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst))
	n := copy(b, s)
	b[n] = 0
}

func putEntitlement(out *C.ses_entitlement, ent *client.Entitlement) {
	out.id = C.CString(ent.ID)
	if ent.VMID != "" {
		out.vmid = C.CString(ent.VMID)
	}
	out.expiry = unix(ent.Expiry)
}

func unix(t time.Time) C.int64_t {
	if t.IsZero() {
		return 0
	}
	return C.int64_t(t.Unix())
}

func str(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// orEnv is s, or for NULL the variable name from the C environment, which
// sees what the host program set with setenv (os.Getenv would not).
func orEnv(s *C.char, name string) string {
	if s != nil {
		return C.GoString(s)
	}
	return getenv(name)
}

func getenv(name string) string {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return str(C.getenv(cname))
}
