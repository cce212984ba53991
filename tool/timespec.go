package tool

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads a time as people give it on a command line:
//   - RFC 3339: 2026-11-22T10:00:00Z, 2026-11-22T10:00:00+01:00;
//   - the reference tool's yyyy-MM-ddTHH:mm (and with :ss), in loc;
//   - a bare date yyyy-MM-dd, midnight in loc;
//   - an offset from now: + or - and a duration as ParseDuration reads it,
//     e.g. +2h, -1d, +1d12h, +90m, +1w, +PT2H.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %v", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC 3339, yyyy-MM-ddTHH:mm, yyyy-MM-dd or an offset like +2h or -1d", s)
}
