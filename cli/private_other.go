//go:build !unix

package cli

import "errors"

// noFollow is 0 where the system has no O_NOFOLLOW: OpenPrivate's Lstat
// check alone refuses a link.
const noFollow = 0

// errLoop is never returned here.
var errLoop = errors.New("no O_NOFOLLOW")
