package tool

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host  string
		extra []string
		want  string // the canonical host, "" when refused
	}{
		{host: "acct.westus.batch.azure.com", want: "acct.westus.batch.azure.com"},
		{host: "ACCT.WestUS.Batch.Azure.Com.", want: "acct.westus.batch.azure.com"},
		{host: "a.b.batch.usgovcloudapi.net", want: "a.b.batch.usgovcloudapi.net"},
		{host: "a.b.batch.chinacloudapi.cn", want: "a.b.batch.chinacloudapi.cn"},
		{host: "xn--bcher-kva.westus.batch.azure.com", want: "xn--bcher-kva.westus.batch.azure.com"},
		{host: "batch.azure.com"},
		{host: "evilbatch.azure.com"},
		{host: "a.batch.azure.com.evil.com"},
		{host: "a.batch.microsoftazure.de"},
		// IPv6 zones, brackets and other non-names never pass, whatever
		// they end in.
		{host: "::ffff:127.0.0.1%x.batch.azure.com"},
		{host: "::1%.batch.azure.com"},
		{host: "fe80::1%.batch.azure.com"},
		{host: "fe80::1%eth0", extra: []string{"fe80::1"}},
		{host: "[::1].batch.azure.com"},
		{host: "a:b.batch.azure.com"},
		{host: "a%2e.batch.azure.com"},
		{host: "a_b.batch.azure.com"},
		{host: "-a.batch.azure.com"},
		{host: "a-.batch.azure.com"},
		{host: "a..batch.azure.com"},
		{host: ".batch.azure.com"},
		{host: "a.batch.azure.com.."},
		{host: "a b.batch.azure.com"},
		{host: "a\x00.batch.azure.com"},
		{host: "ä.batch.azure.com"},
		{host: "a.\u212abatch.azure.com"}, // the Kelvin sign lowercases to k
		{host: strings.Repeat("a", 64) + ".batch.azure.com"},
		{host: strings.Repeat("a.", 120) + "batch.azure.com"},
		{host: ""},
		// IP addresses: only when named exactly.
		{host: "127.0.0.1"},
		{host: "127.0.0.1", extra: []string{"127.0.0.1"}, want: "127.0.0.1"},
		{host: "127.0.0.1", extra: []string{"0.0.1"}},
		{host: "127.0.0.1", extra: []string{".0.0.1"}},
		{host: "127.0.0.1", extra: []string{"::ffff:127.0.0.1"}},
		{host: "::ffff:127.0.0.1", extra: []string{"127.0.0.1"}},
		{host: "::ffff:127.0.0.1", extra: []string{"::ffff:127.0.0.1"}, want: "::ffff:127.0.0.1"},
		{host: "::1", extra: []string{"[::1]"}, want: "::1"},
		{host: "0:0::1", extra: []string{"::1"}, want: "::1"},
		{host: "::1"},
		{host: "127.1", extra: []string{"127.1"}},
		{host: "0x7f.0.0.1", extra: []string{"localhost"}},
		{host: "2130706433"},
		{host: "127.000.000.001", extra: []string{"127.0.0.1"}},
		// Extra names.
		{host: "localhost", extra: []string{"localhost"}, want: "localhost"},
		{host: "a.localhost", extra: []string{"localhost"}, want: "a.localhost"},
		{host: "licensing.example.com", extra: []string{".example.com"}, want: "licensing.example.com"},
		{host: "licensing.example.com", extra: []string{"*.example.com"}, want: "licensing.example.com"},
		{host: "example.com", extra: []string{".example.com"}},
		{host: "evilexample.com", extra: []string{"example.com"}},
	}
	for _, tt := range tests {
		got, err := CheckHost(tt.host, tt.extra)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("CheckHost(%q, %q) = %q, %v; want %q", tt.host, tt.extra, got, err, tt.want)
		}
		var he *HostError
		if err != nil && CheckHostPatterns(tt.extra) == nil && !errors.As(err, &he) {
			t.Errorf("CheckHost(%q): %T is not a *HostError", tt.host, err)
		}
		if AllowedHost(tt.host, tt.extra) != (tt.want != "") {
			t.Errorf("AllowedHost(%q, %q) disagrees with CheckHost", tt.host, tt.extra)
		}
	}
}

// TestHostOfURL goes through url.Parse, as the client does: the zone
// bypass lived in what Hostname keeps.
func TestHostOfURL(t *testing.T) {
	for _, raw := range []string{
		"https://[::ffff:127.0.0.1%25x.batch.azure.com]:4443",
		"https://[::1%25.batch.azure.com]",
		"https://[fe80::1%25.batch.azure.com]/",
		"https://[::ffff:7f00:1%25a.batch.azure.com]:1",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			continue // refused by the parser: fine too
		}
		if _, err := CheckHost(u.Hostname(), nil); err == nil {
			t.Errorf("%s: host %q accepted", raw, u.Hostname())
		}
	}
}

func TestHostErrors(t *testing.T) {
	_, err := CheckHost("localhost", nil)
	var he *HostError
	if !errors.As(err, &he) || !he.NotListed || !strings.Contains(err.Error(), "is not a Batch account host") {
		t.Errorf("localhost: %v, want a not-listed HostError", err)
	}
	_, err = CheckHost("::1%.batch.azure.com", nil)
	if !errors.As(err, &he) || he.NotListed || !strings.Contains(err.Error(), "zone") {
		t.Errorf("a zone: %v, want a malformed-host HostError naming the zone", err)
	}
	if _, err := CheckHost("a\x1b[2J.batch.azure.com", nil); err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("a host with ESC: %q", err)
	}
	if err := CheckHostPatterns([]string{".example.com", "127.0.0.1", "[::1]", "x%y"}); err == nil || !strings.Contains(err.Error(), "x%y") {
		t.Errorf("CheckHostPatterns = %v, want the bad pattern named", err)
	}
	if _, err := CheckHost("a.example.com", []string{"%"}); err == nil {
		t.Error("a malformed pattern allowed a host")
	}
	if !IsBatchHost("Demo.WestUS.batch.azure.com") || IsBatchHost("localhost") || IsBatchHost("::1%.batch.azure.com") {
		t.Error("IsBatchHost is wrong")
	}
}

func FuzzAllowedHost(f *testing.F) {
	for _, s := range []string{
		"acct.westus.batch.azure.com", "::ffff:127.0.0.1%x.batch.azure.com", "::1%.batch.azure.com",
		"fe80::1%.batch.azure.com", "127.0.0.1", "localhost", "[::1]", "a.b.batch.chinacloudapi.cn.",
	} {
		f.Add(s, "")
		f.Add(s, "127.0.0.1")
		f.Add(s, ".example.com")
	}
	f.Fuzz(func(t *testing.T, host, pattern string) {
		extra := []string{pattern}
		got, err := CheckHost(host, extra)
		if err != nil {
			if got != "" {
				t.Fatalf("refused %q but returned %q", host, got)
			}
			return
		}
		if strings.ContainsAny(host, "%[]") {
			t.Fatalf("accepted %q (pattern %q), which has %%, [ or ]", host, pattern)
		}
		if addr, perr := netip.ParseAddr(host); perr == nil || strings.Contains(host, ":") {
			// An IP literal only by its exact address.
			p := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(pattern), "["), "]")
			paddr, perr2 := netip.ParseAddr(p)
			if perr != nil || perr2 != nil || paddr != addr || addr.Zone() != "" {
				t.Fatalf("accepted the address %q with pattern %q", host, pattern)
			}
			if _, err := CheckHost(host, nil); err == nil {
				t.Fatalf("accepted the address %q with no pattern", host)
			}
			return
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
				t.Fatalf("accepted %q as %q, not lowercase LDH", host, got)
			}
		}
		if _, err := CheckHost(host, nil); err == nil && !IsBatchHost(got) {
			t.Fatalf("accepted %q with no pattern, not under a Batch suffix", host)
		}
		if again, err := CheckHost(got, extra); err != nil || again != got {
			t.Fatalf("the canonical %q of %q does not pass again: %q, %v", got, host, again, err)
		}
	})
}
