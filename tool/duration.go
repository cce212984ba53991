package tool

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// DurationForms says, for a hint, which forms ParseDuration reads.
const DurationForms = "Go syntax (90s, 1h30m), days and weeks (7d, 2w, 1d12h), or ISO 8601 (PT5M, P1DT2H)"

// ParseDuration reads a duration as people write it, on the command line
// and in files:
//   - Go's syntax: 90s, 1h30m, 1.5h, 300ms (units ns, us, µs, ms, s, m, h);
//   - days and weeks besides: 7d, 2w, 1d12h;
//   - ISO 8601, as ParseISODuration reads it: PT5M, P1DT2H.
//
// A leading "+" is allowed; a negative duration is not. Every duration
// ParseDuration returns, FormatDuration writes so that it reads back the
// same.
func ParseDuration(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q %s", s, why)
	}
	text := strings.TrimPrefix(strings.TrimSpace(s), "+")
	switch {
	case text == "":
		return bad("is empty")
	case text[0] == '-':
		return bad("is negative")
	case text[0] == 'P' || text[0] == 'p':
		d, err := ParseISODuration(text)
		if err != nil {
			return 0, err
		}
		return d, nil
	case text == "0":
		return 0, nil
	}
	total := new(big.Int)
	for rest := text; rest != ""; {
		whole, frac, tail := splitNumber(rest, ".")
		if whole == "" && frac == "" {
			return bad(fmt.Sprintf("has %q where a number should be", rest))
		}
		i := 0
		for i < len(tail) && !(tail[i] >= '0' && tail[i] <= '9' || tail[i] == '.') {
			i++
		}
		unit, ok := humanUnits[tail[:i]]
		if !ok {
			if i == 0 {
				return bad("has a number without a unit (ns, us, ms, s, m, h, d, w)")
			}
			return bad(fmt.Sprintf("has unit %q, not one of ns, us, ms, s, m, h, d, w", tail[:i]))
		}
		total.Add(total, scaled(whole, frac, unit))
		if !total.IsInt64() {
			return bad("is too long")
		}
		rest = tail[i:]
	}
	return time.Duration(total.Int64()), nil
}

// humanUnits are the units of ParseDuration's Go-like form.
var humanUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// splitNumber splits a leading decimal number, "12", "1.5", ".5" or "1."
// (the fraction after one of the bytes of seps), into its whole and
// fraction digits and what follows.
func splitNumber(s, seps string) (whole, frac, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	whole, rest = s[:i], s[i:]
	if rest != "" && strings.IndexByte(seps, rest[0]) >= 0 {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		frac, rest = rest[1:j], rest[j:]
		if whole == "" && frac == "" {
			return "", "", s
		}
	}
	return whole, frac, rest
}

// scaled is whole.frac times unit, in nanoseconds, the fraction truncated
// to the nanosecond: exact, whatever the number of digits.
func scaled(whole, frac string, unit time.Duration) *big.Int {
	n, _ := new(big.Int).SetString(whole+frac, 10)
	if n == nil {
		n = new(big.Int)
	}
	n.Mul(n, big.NewInt(int64(unit)))
	return n.Quo(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
}

// FormatDuration writes d for people, in ParseDuration's form: "7d",
// "1h30m", "0.5s", "0s".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		if d == math.MinInt64 {
			// -d overflows; the last nanosecond is written as seconds.
			d++
		}
		d = -d
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.unit
		}
	}
	if d > 0 {
		b.WriteString(seconds(d) + "s")
	}
	return b.String()
}

// seconds writes d, less than a minute, as seconds with the fraction
// exact: "5", "0.5", "1.000000001".
func seconds(d time.Duration) string {
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if ns := d % time.Second; ns > 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return s
}

// errISO is wrapped by every error of ParseISODuration.
var errISO = errors.New("want ISO 8601 such as PT5M or P1DT2H")

// ParseISODuration reads an ISO 8601 duration of days and time, as the
// lease API carries it: "PT5M", "PT1H30M", "P1DT2H", "PT0.5S". It is strict:
// the components come in the order D, then T and H, M, S, each at most
// once; only the last may have a fraction; "P", "PT" and a "T" with nothing
// after it are refused. Years, months and weeks are refused (their length
// depends on the calendar, and the lease API never had them), as are
// negative values. Letters may be in either case.
func ParseISODuration(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q %s: %w", s, why, errISO)
	}
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok {
		return bad("does not start with P")
	}
	if rest == "" {
		return bad("has no value")
	}
	// order lists the designators in the order they may come; each is
	// used at most once, and none after one further on.
	const order = "DTHMS"
	next := 0
	total := new(big.Int)
	components, fraction := 0, false
	for rest != "" {
		if rest[0] == 'T' {
			if next > strings.IndexByte(order, 'T') {
				return bad("has a second T")
			}
			next = strings.IndexByte(order, 'T') + 1
			rest = rest[1:]
			if rest == "" {
				return bad("ends after T")
			}
			continue
		}
		whole, frac, tail := splitNumber(rest, ".,")
		if whole == "" && frac == "" {
			return bad(fmt.Sprintf("has %q where a number should be", rest))
		}
		if tail == "" {
			return bad("has a number without a designator")
		}
		if fraction {
			return bad("has a fraction before its last component")
		}
		u := tail[0]
		if u == 'Y' || u == 'W' || u == 'M' && next <= strings.IndexByte(order, 'T') {
			return bad("uses years, months or weeks")
		}
		at := strings.IndexByte(order, u)
		inTime := next > strings.IndexByte(order, 'T')
		switch {
		case at < 0:
			return bad(fmt.Sprintf("has designator %q", u))
		case (u == 'D') == inTime:
			return bad(fmt.Sprintf("has %c on the wrong side of T", u))
		case at < next:
			return bad(fmt.Sprintf("has %c out of order or twice", u))
		}
		next = at + 1
		unit := map[byte]time.Duration{'D': 24 * time.Hour, 'H': time.Hour, 'M': time.Minute, 'S': time.Second}[u]
		total.Add(total, scaled(whole, frac, unit))
		if !total.IsInt64() {
			return bad("is too long")
		}
		components++
		fraction = frac != ""
		rest = tail[1:]
	}
	if components == 0 {
		return bad("has no value")
	}
	return time.Duration(total.Int64()), nil
}

// FormatISODuration writes d, not negative, as an ISO 8601 duration that
// ParseISODuration reads back exactly: "PT1H30M", "PT0.5S", "PT0S".
func FormatISODuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("PT")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(seconds(d) + "S")
	}
	return b.String()
}
