package compat

import (
	"strings"
	"testing"

	"github.com/seskit/ses/cli"
)

func TestThumbprintPin(t *testing.T) {
	const digits = "ABBA8D11781519CA4E9D9758E7D8F682499EE4A4"
	for _, in := range []string{
		digits,
		strings.ToLower(digits),
		"\u200e" + digits,
		"ab:ba:8d:11:78:15:19:ca:4e:9d:97:58:e7:d8:f6:82:49:9e:e4:a4",
		"ABBA 8D11 7815 19CA 4E9D 9758 E7D8 F682 499E E4A4\n",
		"{ABBA8D11-781519CA-4E9D9758-E7D8F682-499EE4A4}", // every non-hex character goes
	} {
		p, err := thumbprintPin(in, "some CA")
		if err != nil || p.SHA1 != digits || p.CommonName != "some CA" {
			t.Errorf("thumbprintPin(%q) = %+v, %v", in, p, err)
		}
	}
	for _, in := range []string{"", "00", digits[:39], digits + "0", "0x" + digits} {
		_, err := thumbprintPin(in, "some CA")
		if err == nil || !strings.Contains(err.Error(), "want the 40 of a SHA-1 thumbprint") {
			t.Errorf("thumbprintPin(%q): %v, want an error asking for 40 hex digits", in, err)
		}
	}
}

// TestSesclientOptions: the reference's api-version, and the --thumbprint
// pin added to the built-in pins rather than replacing them.
func TestSesclientOptions(t *testing.T) {
	g := &cli.Globals{Store: t.TempDir(), Getenv: func(string) string { return "" }}
	pin, err := thumbprintPin("ABBA8D11781519CA4E9D9758E7D8F682499EE4A4", "some CA")
	if err != nil {
		t.Fatal(err)
	}
	o, err := options(g, "https://demo.westus.batch.azure.com", pin)
	if err != nil {
		t.Fatal(err)
	}
	if o.APIVersion != "2017-05-01.5.0" {
		t.Errorf("api-version %q", o.APIVersion)
	}
	if o.Pins != nil {
		t.Errorf("the built-in pins were replaced by %v", o.Pins)
	}
	if len(o.ExtraPins) != 1 || o.ExtraPins[0].SHA1 != pin.SHA1 {
		t.Errorf("extra pins %v, want the --thumbprint one", o.ExtraPins)
	}
	if len(o.AllowHosts) != 0 || len(o.ExtraRoots) != 0 {
		t.Errorf("a thumbprint that is not the development intermediate allowed %v, trusted %d roots", o.AllowHosts, len(o.ExtraRoots))
	}
}

func TestCheckPath(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://demo.westus.batch.azure.com":          true,
		"https://demo.westus.batch.azure.com/":         true,
		"https://demo.westus.batch.azure.com/account":  true,
		"https://demo.westus.batch.azure.com/account/": true,
		"https://demo.westus.batch.azure.com/a/b":      false,
		"https://demo.westus.batch.azure.com/a/b/":     false,
		"https://demo.westus.batch.azure.com/a/b/c":    false,
	} {
		err := checkPath(url)
		if (err == nil) != ok {
			t.Errorf("checkPath(%q) = %v", url, err)
		}
		if err != nil && cli.CodeOf(err) != cli.ExitUntrusted {
			t.Errorf("checkPath(%q) exits %d, want %d", url, cli.CodeOf(err), cli.ExitUntrusted)
		}
	}
}
