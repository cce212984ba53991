//go:build unix

package cli

import "syscall"

// noFollow makes an open fail on a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// errLoop is what such an open fails with.
var errLoop error = syscall.ELOOP
