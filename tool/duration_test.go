package tool

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "300ms", want: 300 * time.Millisecond},
		{in: "2µs", want: 2 * time.Microsecond},
		{in: "1m1h", want: 61 * time.Minute},
		{in: "7d", want: 7 * day},
		{in: "2w", want: 14 * day},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "+2h", want: 2 * time.Hour},
		{in: " 10s ", want: 10 * time.Second},
		{in: ".5s", want: 500 * time.Millisecond},
		{in: "0", want: 0},
		{in: "PT5M", want: 5 * time.Minute},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "pt10s", want: 10 * time.Second},
		{in: "0.000000001s", want: time.Nanosecond},
		{in: "0.0000000019s", want: time.Nanosecond},
		{in: "", bad: true},
		{in: "+", bad: true},
		{in: "5", bad: true},
		{in: "-5m", bad: true},
		{in: "5y", bad: true},
		{in: "h", bad: true},
		{in: "5m5", bad: true},
		{in: "1,5h", bad: true},
		{in: ".s", bad: true},
		{in: "PT5M5M", bad: true},
		{in: "P2W", bad: true},
		{in: "300000000000h", bad: true},
		{in: "99999d99999d", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "0s", 7 * day: "7d", time.Hour: "1h", 90 * time.Minute: "1h30m", 500 * time.Millisecond: "0.5s",
		36*time.Hour + time.Second + time.Nanosecond: "1d12h1.000000001s", -time.Minute: "-1m",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if s := FormatDuration(math.MinInt64); !strings.HasPrefix(s, "-") {
		t.Errorf("FormatDuration(MinInt64) = %q", s)
	}
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
		{in: "PT1,5H", want: 90 * time.Minute},
		{in: "PT1H0.5M", want: time.Hour + 30*time.Second},
		{in: "pt10s", want: 10 * time.Second},
		{in: "PT0S", want: 0},
		{in: "P1DT1H1M1.000000001S", want: 25*time.Hour + time.Minute + time.Second + time.Nanosecond},
		{in: "", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "P1DT", bad: true},
		{in: "5M", bad: true},
		{in: "P1M", bad: true},
		{in: "P1Y", bad: true},
		{in: "P1W", bad: true},
		{in: "PT5", bad: true},
		{in: "PTM", bad: true},
		{in: "P5H", bad: true},
		{in: "PT1D", bad: true},
		{in: "PT1H1D", bad: true},
		{in: "-PT5M", bad: true},
		{in: "PT5M5", bad: true},
		{in: "PTT5M", bad: true},
		{in: "PT5M5M", bad: true},
		{in: "PT1S1M", bad: true},
		{in: "PT1M1H", bad: true},
		{in: "P1D1D", bad: true},
		{in: "P1DT1HT1M", bad: true},
		{in: "PT0.5H30M", bad: true},
		{in: "PT.S", bad: true},
		{in: "PT1X", bad: true},
		{in: "PT99999999999999999999H", bad: true},
		{in: "P99999DT99999999H", bad: true},
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
	for _, d := range []time.Duration{0, time.Nanosecond, time.Second, 5 * time.Minute, 90 * time.Minute, 26 * time.Hour, 1500 * time.Millisecond, math.MaxInt64} {
		back, err := ParseISODuration(FormatISODuration(d))
		if err != nil || back != d {
			t.Errorf("%v -> %q -> %v, %v", d, FormatISODuration(d), back, err)
		}
	}
}

// FuzzParseISODuration checks the round trip: what parses, formatted,
// parses again to the same value.
func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT5M", "P1DT2H", "PT0.5S", "P", "PT", "P1Y", "PT1,5H", "PT5M5M", "PT1S1M", "P1DT1H1M1.000000001S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseISODuration(s)
		if err != nil {
			return
		}
		text := FormatISODuration(d)
		back, err := ParseISODuration(text)
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, text, back, err)
		}
	})
}

// FuzzParseDuration checks ParseDuration's round trip through
// FormatDuration, and that it agrees with ParseISODuration on ISO forms.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h30m", "1.5h", "7d", "2w", "1d12h", "PT5M", "+2h", "0", "-1s", "1µs", ".5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d)
		}
		text := FormatDuration(d)
		back, err := ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, text, back, err)
		}
	})
}
