package cli

import (
	"fmt"
	"reflect"
	"time"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/tool"
)

// DurationMapper reads every time.Duration flag (and *time.Duration, for a
// flag whose absence means something) with tool.ParseDuration: Go syntax,
// days and weeks, or ISO 8601. A duration flag takes a positive duration.
// Every root registers it, so all of them speak one grammar with one error
// and hint.
var DurationMapper = kong.TypeMapper(reflect.TypeFor[time.Duration](), kong.MapperFunc(decodeDuration))

func decodeDuration(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	target.SetInt(int64(d))
	return nil
}

// parseDuration reads a positive duration as every duration flag takes it,
// with the hint that lists the forms.
func parseDuration(s string) (time.Duration, error) {
	d, err := tool.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("duration %q must be positive", s)
	}
	if err != nil {
		return 0, Usagef("%v", err).Hint("a duration is %s", tool.DurationForms)
	}
	return d, nil
}
