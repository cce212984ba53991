package tool

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("test", 2*3600)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-11-22T10:00:00Z", want: now},
		{in: "2026-11-22T12:00:00+02:00", want: now},
		{in: "2026-11-22T12:00", want: now},
		{in: "2026-11-22T12:00:30", want: now.Add(30 * time.Second)},
		{in: "2026-11-22", want: time.Date(2026, 11, 22, 0, 0, 0, 0, loc)},
		{in: "+2h", want: now.Add(2 * time.Hour)},
		{in: "-1d", want: now.Add(-24 * time.Hour)},
		{in: "+1d12h", want: now.Add(36 * time.Hour)},
		{in: "+1w", want: now.Add(7 * 24 * time.Hour)},
		{in: " +90m ", want: now.Add(90 * time.Minute)},
		{in: "", bad: true},
		{in: "+", bad: true},
		{in: "+2", bad: true},
		{in: "+2y", bad: true},
		{in: "+h", bad: true},
		{in: "+999999999999d", bad: true},
		{in: "+99999d99999d", bad: true},
		{in: "tomorrow", bad: true},
		{in: "2026-13-01", bad: true},
		{in: "22/11/2026", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now, loc)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-22T10:00:00Z", "2026-11-22T12:00", "2026-11-22", "+2h", "-1d12h", "+", "x"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now, time.UTC)
		if err == nil && got.IsZero() && s != "0001-01-01" {
			// A zero time can only come from an explicit date of year 1.
			if _, perr := time.Parse(time.RFC3339Nano, s); perr != nil {
				t.Errorf("ParseTime(%q) returned the zero time without an error", s)
			}
		}
	})
}
