package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// varsRoot names variables in each place kong interpolates.
type varsRoot struct {
	Run struct {
		Lifetime string `default:"${lifetime}" help:"Lifetime (${default})."`
		Level    string `enum:"${levels}" default:"info" help:"Level: ${enum}."`
		Home     string `env:"${home_env}" placeholder:"${home_holder}" help:"Home."`
		Local    string `set:"local=${from_tag}" help:"Local ${local}."`
		Price    string `help:"Price, ${price}."`
	} `cmd:"" help:"Runs, ${in_help}."`
}

func TestVars(t *testing.T) {
	all := kong.Vars{
		"lifetime": "1h", "levels": "info,debug", "home_env": "SES_TEST_HOME", "home_holder": "DIR",
		"from_tag": "tag value", "in_help": "help value", "price": "$5", "unused": "never named",
	}
	help := func(opt kong.Option) string {
		var out bytes.Buffer
		var root varsRoot
		k, err := kong.New(&root, opt, kong.Writers(&out, &out), kong.Exit(func(int) {}))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = k.Parse([]string{"run", "--help"}) // it prints the help and exits
		return out.String()
	}
	got, want := help(Vars(all)), help(all)
	if got != want {
		t.Errorf("help with Vars:\n%s\nwant, as with kong.Vars:\n%s", got, want)
	}
	for _, s := range []string{"Runs, help value.", "Lifetime (1h).", "Level: info,debug.", "--home=DIR", "($SES_TEST_HOME)", "Local tag value.", "Price, $5."} {
		if !strings.Contains(got, s) {
			t.Errorf("help lacks %q:\n%s", s, got)
		}
	}

	var root varsRoot
	k, err := kong.New(&root, Vars(all))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Parse([]string{"run"}); err != nil {
		t.Fatal(err)
	}
	if root.Run.Lifetime != "1h" {
		t.Errorf("--lifetime defaults to %q, want 1h", root.Run.Lifetime)
	}

	// A value is put as it is, ${...} in it included.
	literal := kong.Vars{}
	for name, v := range all {
		literal[name] = v
	}
	literal["price"] = "${lifetime}"
	if got := help(Vars(literal)); !strings.Contains(got, "Price, ${lifetime}.") {
		t.Errorf("a value with ${...} in it:\n%s", got)
	}

	// A name that has no value stays kong's error.
	if _, err := kong.New(&varsRoot{}, Vars(kong.Vars{"lifetime": "1h"})); err == nil || !strings.Contains(err.Error(), "undefined variable") {
		t.Errorf("a missing variable: %v", err)
	}
}
