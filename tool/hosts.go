package tool

import (
	"fmt"
	"net/netip"
	"strings"
)

// BatchHost is a host suffix of Batch account endpoints in one cloud.
type BatchHost struct {
	Suffix string
	Cloud  string
}

// BatchHosts are the Batch account host suffixes a client may talk to: the
// public, US Government and China clouds. (The German cloud closed in 2021.)
var BatchHosts = []BatchHost{
	{Suffix: ".batch.azure.com", Cloud: "public"},
	{Suffix: ".batch.usgovcloudapi.net", Cloud: "US Government"},
	{Suffix: ".batch.chinacloudapi.cn", Cloud: "China"},
}

// The rules for a host a client may send a token to. A host is one of:
//
//   - a DNS name: labels of ASCII letters, digits and hyphens (LDH), each 1
//     to 63 long and neither beginning nor ending with a hyphen, at most 253
//     in all, the last label not a number (which resolvers would read as an
//     IPv4 address); letters are compared lowercased and one trailing dot
//     is dropped;
//   - an IP address: dotted-quad IPv4 or IPv6, without a zone.
//
// Anything else (a zone, brackets, a colon outside an IPv6 address, a
// percent sign, a short or hexadecimal IPv4 form) is no host at all. A DNS
// name is allowed when it is under a Batch suffix or an extra pattern; an
// IP address only when an extra pattern is that exact address.

// HostError says why a host is refused.
type HostError struct {
	// Host is the host as given.
	Host string
	// Why completes "host HOST ...".
	Why string
	// NotListed is set when Host is a well-formed name or address that
	// is neither a Batch host nor allowed by the extra patterns: allowing
	// it would make it acceptable.
	NotListed bool
}

func (e *HostError) Error() string { return "host " + Printable(e.Host) + " " + e.Why }

// CanonicalHost returns host (as url.URL.Hostname gives it) in the form the
// rules compare: a DNS name lowercased without a trailing dot, an IP
// address in its standard form. A host that is neither is a *HostError.
func CanonicalHost(host string) (string, error) {
	name, addr, err := parseHost(host)
	if err != nil {
		return "", err
	}
	if addr.IsValid() {
		return addr.String(), nil
	}
	return name, nil
}

// parseHost reads host as a DNS name or an IP address: exactly one of the
// results is set, or the error is.
func parseHost(host string) (string, netip.Addr, error) {
	refuse := func(why string) (string, netip.Addr, error) {
		return "", netip.Addr{}, &HostError{Host: host, Why: why}
	}
	if host == "" {
		return refuse("is empty")
	}
	if strings.ContainsAny(host, ":%") {
		addr, err := netip.ParseAddr(host)
		switch {
		case err != nil && strings.Contains(host, "%"):
			return refuse("has a percent sign: a host is a DNS name or an IP address without a zone")
		case err != nil:
			return refuse("has a colon but is not an IPv6 address")
		case addr.Zone() != "":
			return refuse("is an IPv6 address with a zone: a host is a DNS name or an IP address without a zone")
		}
		return "", addr, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return "", addr, nil
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return refuse("is not a DNS name of at most 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return refuse("has an empty label or one longer than 63 characters")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return refuse(fmt.Sprintf("has %q: a DNS name is ASCII letters, digits, hyphens and dots", Printable(string(rune(c)))))
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return refuse("has a label that begins or ends with a hyphen")
		}
	}
	if numeric(labels[len(labels)-1]) {
		return refuse("ends in a number: an IPv4 address is written as four decimal numbers")
	}
	return strings.ToLower(name), netip.Addr{}, nil
}

// numeric reports whether a label reads as a number to an IPv4 parser:
// decimal digits, or 0x and hexadecimal digits.
func numeric(label string) bool {
	digits := "0123456789"
	if rest, ok := strings.CutPrefix(strings.ToLower(label), "0x"); ok {
		label, digits = rest, "0123456789abcdef"
	}
	for i := 0; i < len(label); i++ {
		if strings.IndexByte(digits, label[i]) < 0 {
			return false
		}
	}
	return true
}

// parsePattern reads an extra host pattern: an IP address (bracketed or
// not), or a DNS name with an optional leading "." or "*.". A pattern with
// a leading dot matches the names below it only; one without matches
// itself and the names below it.
func parsePattern(p string) (name string, below bool, addr netip.Addr, err error) {
	s := strings.TrimSpace(p)
	if inner, ok := strings.CutPrefix(s, "["); ok {
		s, _ = strings.CutSuffix(inner, "]")
	}
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		s, below = "."+rest, true
	}
	if rest, ok := strings.CutPrefix(s, "."); ok {
		s, below = rest, true
	}
	name, addr, err = parseHost(s)
	if err != nil || below && addr.IsValid() {
		return "", false, netip.Addr{}, fmt.Errorf("allowed host %q is not a DNS name, .SUFFIX or IP address", Printable(p))
	}
	return name, below, addr, nil
}

// CheckHostPatterns reports the first pattern of extra that is not a DNS
// name, .SUFFIX or IP address.
func CheckHostPatterns(extra []string) error {
	for _, p := range extra {
		if _, _, _, err := parsePattern(p); err != nil {
			return err
		}
	}
	return nil
}

// HostMatches reports whether the DNS name host falls under pattern: a
// pattern with a leading dot matches names below it; one without matches
// itself and the names below it. Case is ignored, as is a trailing dot on
// host. It knows nothing of IP addresses: CheckHost compares those whole.
func HostMatches(host, pattern string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	pattern = strings.ToLower(pattern)
	if pattern == "" {
		return false
	}
	if strings.HasPrefix(pattern, ".") {
		return strings.HasSuffix(host, pattern) && len(host) > len(pattern)
	}
	return host == pattern || strings.HasSuffix(host, "."+pattern)
}

// IsBatchHost reports whether host is a DNS name under one of BatchHosts.
func IsBatchHost(host string) bool {
	name, _, err := parseHost(host)
	if err != nil || name == "" {
		return false
	}
	for _, b := range BatchHosts {
		if HostMatches(name, b.Suffix) {
			return true
		}
	}
	return false
}

// CheckHost applies the host rules: host must be a DNS name under a Batch
// suffix or an extra pattern, or an IP address that an extra pattern names
// exactly. It returns the host in canonical form (CanonicalHost), or a
// *HostError; a malformed pattern in extra is an error too.
func CheckHost(host string, extra []string) (string, error) {
	name, addr, err := parseHost(host)
	if err != nil {
		return "", err
	}
	if name != "" && IsBatchHost(name) {
		return name, nil
	}
	for _, p := range extra {
		pname, below, paddr, err := parsePattern(p)
		if below {
			pname = "." + pname
		}
		switch {
		case err != nil:
			return "", err
		case addr.IsValid() && paddr == addr:
			return addr.String(), nil
		case name != "" && !paddr.IsValid() && HostMatches(name, pname):
			return name, nil
		}
	}
	suffixes := make([]string, len(BatchHosts))
	for i, h := range BatchHosts {
		suffixes[i] = "*" + h.Suffix
	}
	why := fmt.Sprintf("is not a Batch account host (%s) nor an allowed host", strings.Join(suffixes, ", "))
	if addr.IsValid() {
		why += ": an IP address is allowed only by its exact address"
	}
	return "", &HostError{Host: host, Why: why, NotListed: true}
}

// AllowedHost reports whether CheckHost accepts host.
func AllowedHost(host string, extra []string) bool {
	_, err := CheckHost(host, extra)
	return err == nil
}
