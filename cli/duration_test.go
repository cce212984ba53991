package cli

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

func TestDurationMapper(t *testing.T) {
	var flags struct {
		Timeout  time.Duration  `default:"1m"`
		Lifetime *time.Duration `placeholder:"DURATION"`
	}
	parser, err := kong.New(&flags, DurationMapper, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args     []string
		timeout  time.Duration
		lifetime time.Duration // 0: not given
	}{
		{nil, time.Minute, 0},
		{[]string{"--timeout", "90s", "--lifetime", "7d"}, 90 * time.Second, 7 * 24 * time.Hour},
		{[]string{"--timeout", "PT1H30M", "--lifetime", "2w"}, 90 * time.Minute, 14 * 24 * time.Hour},
		{[]string{"--timeout=1d12h"}, 36 * time.Hour, 0},
	} {
		flags.Timeout, flags.Lifetime = 0, nil
		if _, err := parser.Parse(tt.args); err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		got := time.Duration(0)
		if flags.Lifetime != nil {
			got = *flags.Lifetime
		}
		if flags.Timeout != tt.timeout || got != tt.lifetime {
			t.Errorf("%q: timeout %v lifetime %v, want %v %v", tt.args, flags.Timeout, got, tt.timeout, tt.lifetime)
		}
	}
	for _, bad := range [][]string{{"--timeout", "5"}, {"--timeout", "0s"}, {"--timeout", "PT5M5M"}, {"--lifetime=-1h"}} {
		_, err := parser.Parse(bad)
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Hints) != 1 {
			t.Errorf("%q: %v, want a usage error with the hint", bad, err)
			continue
		}
		var b bytes.Buffer
		PrintError(&b, "ses", err)
		if !bytes.Contains(b.Bytes(), []byte("ses: hint: a duration is Go syntax (90s, 1h30m)")) {
			t.Errorf("%q printed %q", bad, b.String())
		}
	}
}
