package tool

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseISODuration reads an ISO-8601 duration of days and time, as leases
// use it: "PT5M", "PT1H30M", "P1DT2H", "PT0.5S". Years, months and weeks are
// refused (their length depends on the calendar), as are negative values.
func ParseISODuration(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q: %s (want ISO 8601, e.g. PT5M)", s, why)
	}
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok {
		return bad("does not start with P")
	}
	if rest == "" || rest == "T" {
		return bad("has no value")
	}
	var total float64
	inTime := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("has two T separators")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return bad("ends after T")
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad("has a number without a unit or a unit without a number")
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(rest[:i], ",", "."), 64)
		if err != nil {
			return bad("has a malformed number")
		}
		var unit time.Duration
		switch u := rest[i]; {
		case u == 'D' && !inTime:
			unit = 24 * time.Hour
		case u == 'H' && inTime:
			unit = time.Hour
		case u == 'M' && inTime:
			unit = time.Minute
		case u == 'S' && inTime:
			unit = time.Second
		case u == 'Y' || u == 'W' || (u == 'M' && !inTime):
			return bad("uses years, months or weeks")
		default:
			return bad(fmt.Sprintf("has unit %q in the wrong place", u))
		}
		total += n * float64(unit)
		if total > math.MaxInt64/2 {
			return bad("is too long")
		}
		rest = rest[i+1:]
	}
	return time.Duration(total), nil
}

// FormatISODuration writes d as an ISO-8601 duration, e.g. "PT1H30M".
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
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
