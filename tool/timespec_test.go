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

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "PT5M", want: 5 * time.Minute},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "P1D", want: 24 * time.Hour},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "pt10s", want: 10 * time.Second},
		{in: "PT0S", want: 0},
		{in: "", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "5M", bad: true},
		{in: "P1M", bad: true},
		{in: "P1Y", bad: true},
		{in: "P1W", bad: true},
		{in: "PT5", bad: true},
		{in: "PTM", bad: true},
		{in: "P5H", bad: true},
		{in: "PT1H1D", bad: true},
		{in: "-PT5M", bad: true},
		{in: "PT5M5", bad: true},
		{in: "PTT5M", bad: true},
		{in: "PT99999999999999999999H", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseISODuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseISODuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, d := range []time.Duration{time.Second, 5 * time.Minute, 90 * time.Minute, 26 * time.Hour, 1500 * time.Millisecond} {
		back, err := ParseISODuration(FormatISODuration(d))
		if err != nil || back != d {
			t.Errorf("%v -> %q -> %v, %v", d, FormatISODuration(d), back, err)
		}
	}
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT5M", "P1DT2H", "PT0.5S", "P", "PT", "P1Y", "PT1,5H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseISODuration(s)
		if err == nil && d < 0 {
			t.Errorf("ParseISODuration(%q) = %v: negative", s, d)
		}
	})
}
