package tool

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("test", 2*3600)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	local := func(h, m, s int) time.Time { return time.Date(2026, 11, 22, h, m, s, 0, loc) }
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		// ISO 8601 with Z or an offset, with and without seconds.
		{in: "2026-11-22T10:00:00Z", want: now},
		{in: "2026-11-22T10:00:00.5Z", want: now.Add(500 * time.Millisecond)},
		{in: "2026-11-22T10:00Z", want: now},
		{in: "2026-11-22t10:00z", want: now},
		{in: "2026-11-22T12:00:00+02:00", want: now},
		{in: "2026-11-22T12:00+02:00", want: now},
		{in: "2026-11-22T05:00-05:00", want: now},
		{in: "2026-11-22T12:00+0200", want: now},
		{in: "2026-11-22T12:00:00+0200", want: now},
		{in: "2026-11-22 10:00Z", want: now},
		{in: "2026-11-22 12:00:00+02:00", want: now},
		// Without an offset: local time.
		{in: "2026-11-22T12:00", want: now},
		{in: "2026-11-22T12:00:30", want: now.Add(30 * time.Second)},
		{in: "2026-11-22T12:00:30.25", want: now.Add(30*time.Second + 250*time.Millisecond)},
		{in: "2026-11-22 12:00", want: now},
		{in: "2026-11-22 12:00:30", want: now.Add(30 * time.Second)},
		{in: "2026-11-22", want: local(0, 0, 0)},
		// .NET's invariant culture, local time.
		{in: "11/22/2026 12:00:00", want: now},
		{in: "11/22/2026 14:39:07", want: local(14, 39, 7)},
		{in: "11/22/2026 12:00", want: now},
		{in: "11/22/2026 2:39 PM", want: local(14, 39, 0)},
		{in: "11/22/2026 2:39:07 pm", want: local(14, 39, 7)},
		{in: "11/22/2026 12:05 AM", want: local(0, 5, 0)},
		{in: "11/22/2026", want: local(0, 0, 0)},
		{in: "01/16/2019 14:39:00", want: time.Date(2019, 1, 16, 14, 39, 0, 0, loc)},
		{in: "1/6/2019", want: time.Date(2019, 1, 6, 0, 0, 0, 0, loc)},
		// Offsets from now.
		{in: "+2h", want: now.Add(2 * time.Hour)},
		{in: "-1d", want: now.Add(-24 * time.Hour)},
		{in: "+1d12h", want: now.Add(36 * time.Hour)},
		{in: "+1w", want: now.Add(7 * 24 * time.Hour)},
		{in: "+PT2H", want: now.Add(2 * time.Hour)},
		{in: " +90m ", want: now.Add(90 * time.Minute)},
		// Refused.
		{in: "", bad: true},
		{in: "+", bad: true},
		{in: "+2", bad: true},
		{in: "+2y", bad: true},
		{in: "+h", bad: true},
		{in: "-+1d", bad: true},
		{in: "+-1d", bad: true},
		{in: "+999999999999d", bad: true},
		{in: "+99999d99999d", bad: true},
		{in: "tomorrow", bad: true},
		{in: "2026-13-01", bad: true},
		{in: "2026-11-31", bad: true},
		{in: "22/11/2026", bad: true},
		{in: "11/22/26", bad: true},
		{in: "2026-11-22T25:00", bad: true},
		{in: "2026-11-22T10", bad: true},
		{in: "2026-11-22T10:00+25:00", bad: true},
		{in: "11/22/2026 14:39 PM", bad: true},
		{in: "2026-11-22T10:00:00Z trailing", bad: true},
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

// FuzzParseTime checks that ParseTime never panics and that every time it
// returns reads back the same from its RFC 3339 form.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-22T10:00:00Z", "2026-11-22T12:00", "2026-11-22T14:39+02:00", "2026-11-22T14:39Z",
		"11/22/2026 14:39:00", "11/22/2026 2:39 PM", "2026-11-22", "+2h", "-1d12h", "+", "x",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	loc := time.FixedZone("test", -5*3600)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now, loc)
		if err != nil {
			return
		}
		text := got.Format(time.RFC3339Nano)
		back, err := ParseTime(text, now, loc)
		if err != nil || !back.Equal(got) {
			t.Errorf("ParseTime(%q) = %s, which reads back as %v, %v", s, text, back, err)
		}
	})
}
