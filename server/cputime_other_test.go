//go:build !unix

package server

import "time"

// cpuTime is not measured here: the benchmarks report no CPU ratio.
func cpuTime() time.Duration { return 0 }
