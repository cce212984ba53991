package tool

import (
	"fmt"
	"strings"
	"time"
)

// TimeForms says, for a hint, which forms ParseTime reads.
const TimeForms = "ISO 8601 (2026-11-22T10:00:00Z, 2026-11-22T12:00+02:00, or 2026-11-22T10:00 in local time), " +
	"MM/dd/yyyy HH:mm:ss (local), a date alone (2026-11-22, local midnight), or an offset from now (+2h, -1d)"

// zonedLayouts are the forms that carry their own offset: ISO 8601 with Z
// or ±hh:mm (or ±hhmm), with or without seconds and fractions, and the
// same with a space for the T.
var zonedLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04Z07:00",
}

// localLayouts are the forms without an offset, read in the caller's
// location: the reference tool's yyyy-MM-ddTHH:mm and what .NET's invariant
// culture reads (MM/dd/yyyy HH:mm:ss, with a 12-hour clock too), and a date
// alone for midnight.
var localLayouts = []string{
	"2006-01-02T15:04",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04 PM",
	"1/2/2006",
}

// ParseTime reads a time as people give it on a command line, the forms
// the reference tools read and a few more:
//   - ISO 8601 with Z or an offset, with or without seconds:
//     2026-11-22T10:00:00Z, 2026-11-22T10:00Z, 2026-11-22T12:00+02:00;
//   - ISO 8601 without an offset, in loc: 2026-11-22T10:00 (the reference
//     tool's yyyy-MM-ddTHH:mm), 2026-11-22T10:00:30, 2026-11-22 10:00;
//   - .NET's invariant form, in loc: 11/22/2026 10:00:00, 11/22/2026 10:00,
//     11/22/2026 10:00 AM, 11/22/2026;
//   - a date alone, yyyy-MM-dd: midnight in loc;
//   - an offset from now: + or - and a duration as ParseDuration reads it,
//     e.g. +2h, -1d, +1d12h, +90m, +1w, +PT2H.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if s[0] == '+' || s[0] == '-' {
		rest := s[1:]
		if rest != "" && (rest[0] == '+' || rest[0] == '-') {
			return time.Time{}, fmt.Errorf("time %q has two signs", s)
		}
		d, err := ParseDuration(rest)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %v", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	// RFC 3339 allows a lower-case t and z, and .NET reads am and pm.
	upper := strings.ToUpper(s)
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, upper); err == nil {
			return t, nil
		}
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, upper, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not one of the forms a time takes", s)
}
