package client

import "github.com/seskit/ses/tool"

// pinnedHost reports whether host is accepted only through
// Options.PinnedHosts: the caller asked for pinned hosts and gave a pin of
// its own, and host is well formed by the same rules as a host AllowHosts
// names exactly (a DNS name of LDH labels, or an IP address). It returns the
// host as those rules read it.
func pinnedHost(host string, o Options) (string, bool) {
	if !o.PinnedHosts || len(o.ExtraPins) == 0 {
		return "", false
	}
	name, err := tool.CheckHost(host, []string{host})
	return name, err == nil
}

// pinsFor returns the pins the verified chain of host must contain. For a
// host accepted through Options.PinnedHosts only the caller's ExtraPins
// count: the built-in pins name the CAs Azure buys from, and a chain from
// one of them says nothing about a host that is not a Batch host. Any other
// host gets Pins (the built-in pins when nil) and ExtraPins.
func pinsFor(host string, o Options) []tool.Pin {
	if _, ok := pinnedHost(host, o); ok && !tool.AllowedHost(host, o.AllowHosts) {
		return append([]tool.Pin{}, o.ExtraPins...)
	}
	pins := o.Pins
	if pins == nil {
		pins = tool.BuiltinPins()
	}
	return append(append([]tool.Pin{}, pins...), o.ExtraPins...)
}
