package tool

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a time as people give it on a command line:
//   - RFC 3339: 2026-11-22T10:00:00Z, 2026-11-22T10:00:00+01:00;
//   - the reference tool's yyyy-MM-ddTHH:mm (and with :ss), in loc;
//   - a bare date yyyy-MM-dd, midnight in loc;
//   - an offset from now: +2h, -1d, +1d12h, +90m, +1w (units s, m, h, d, w).
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := ParseSpan(s[1:])
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

// ParseSpan reads a span of time as "2h", "7d", "1d12h", "90m": whole
// numbers each followed by a unit (s, m, h, d, w).
func ParseSpan(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("span has no value")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("span needs a number followed by a unit (s, m, h, d, w)")
		}
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("span number %q is too large", s[:i])
		}
		var unit time.Duration
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("span unit %q is not one of s, m, h, d, w", s[i])
		}
		total += time.Duration(n) * unit
		if total > 100*365*24*time.Hour {
			return 0, fmt.Errorf("span is more than a hundred years")
		}
		s = s[i+1:]
	}
	return total, nil
}
