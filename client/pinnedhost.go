package client

import "github.com/seskit/ses/tool"

// pinnedHost reports whether host is accepted only through Options.PinnedHosts:
// it is outside the Batch hosts and AllowHosts, and the caller asked for
// pinned hosts and gave a pin of its own.
func pinnedHost(host string, o Options) bool {
	if tool.AllowedHost(host, o.AllowHosts) {
		return false
	}
	return o.PinnedHosts && len(o.ExtraPins) > 0
}

// pinsFor returns the pins the verified chain of host must contain. For a
// host accepted through Options.PinnedHosts only the caller's ExtraPins
// count: the built-in pins name the CAs Azure buys from, and a chain from
// one of them says nothing about a host that is not a Batch host. Any other
// host gets Pins (the built-in pins when nil) and ExtraPins.
func pinsFor(host string, o Options) []tool.Pin {
	if pinnedHost(host, o) {
		return append([]tool.Pin{}, o.ExtraPins...)
	}
	pins := o.Pins
	if pins == nil {
		pins = tool.BuiltinPins()
	}
	return append(append([]tool.Pin{}, pins...), o.ExtraPins...)
}
