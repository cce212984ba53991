"""check.py: the libses C API from Python, through ctypes.

    python3 check.py LIBSES APP [CA_FILE THUMBPRINT COMMON_NAME]

LIBSES is the path of libses.so (libses.dylib, libses.dll). The endpoint
and the token come from AZ_BATCH_ACCOUNT_URL and
AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN; against a local `ses server`, give its
development root and its intermediate's thumbprint and common name. The
exit status is the ses_result: 0 entitled, 1 denied, 3 untrusted, ...
"""

import ctypes
import sys


class Error(ctypes.Structure):
    """ses_error: the text fields are SES_ERROR_CODE_SIZE and SES_ERROR_MESSAGE_SIZE long."""

    _fields_ = [
        ("result", ctypes.c_int),
        ("http_status", ctypes.c_int),
        ("code", ctypes.c_char * 64),
        ("message", ctypes.c_char * 1024),
    ]


class Entitlement(ctypes.Structure):
    """ses_entitlement: the strings are the library's, freed with ses_free."""

    _fields_ = [
        ("id", ctypes.c_void_p),
        ("vmid", ctypes.c_void_p),
        ("expiry", ctypes.c_int64),
    ]


def load(path):
    lib = ctypes.CDLL(path)
    client_p = ctypes.c_void_p
    err_p = ctypes.POINTER(Error)
    lib.ses_client_new.argtypes = [ctypes.POINTER(client_p), err_p]
    lib.ses_client_free.argtypes = [client_p]
    lib.ses_client_free.restype = None
    lib.ses_client_add_ca_file.argtypes = [client_p, ctypes.c_char_p, err_p]
    lib.ses_client_add_pin.argtypes = [client_p, ctypes.c_char_p, ctypes.c_char_p, err_p]
    lib.ses_client_allow_pinned_hosts.argtypes = [client_p, ctypes.c_int, err_p]
    lib.ses_check.argtypes = [client_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                              ctypes.POINTER(Entitlement), err_p]
    lib.ses_free.argtypes = [ctypes.c_void_p]
    lib.ses_free.restype = None
    lib.ses_version.restype = ctypes.c_char_p
    return lib


def take(lib, p):
    """The string at p, which is then freed; None for NULL."""
    if not p:
        return None
    s = ctypes.string_at(p).decode()
    lib.ses_free(p)
    return s


def main(argv):
    if len(argv) not in (3, 6):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    lib = load(argv[1])
    app = argv[2].encode()
    err = Error()
    client = ctypes.c_void_p()
    rc = lib.ses_client_new(ctypes.byref(client), ctypes.byref(err))
    if rc == 0 and len(argv) == 6:
        rc = (lib.ses_client_add_ca_file(client, argv[3].encode(), ctypes.byref(err))
              or lib.ses_client_add_pin(client, argv[4].encode(), argv[5].encode(), ctypes.byref(err))
              or lib.ses_client_allow_pinned_hosts(client, 1, ctypes.byref(err)))
    if rc == 0:
        ent = Entitlement()
        # None, None: the URL and the token Batch gives the task.
        rc = lib.ses_check(client, None, None, app, ctypes.byref(ent), ctypes.byref(err))
        if rc == 0:
            ident, vmid = take(lib, ent.id), take(lib, ent.vmid)
            print("entitled", app.decode(), ident, "expires", ent.expiry, "vmid", vmid,
                  "(libses", lib.ses_version().decode() + ")")
    lib.ses_client_free(client)
    if rc != 0:
        code = " (%d %s)" % (err.http_status, err.code.decode()) if err.code else ""
        print("check.py: %s%s" % (err.message.decode(), code), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
