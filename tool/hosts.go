package tool

import "strings"

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

// HostMatches reports whether host falls under pattern: a pattern with a
// leading dot matches hosts below it; one without matches itself and the
// hosts below it. Case is ignored, as is a trailing dot on host.
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

// AllowedHost reports whether host is a Batch host or matches one of the
// extra patterns.
func AllowedHost(host string, extra []string) bool {
	for _, b := range BatchHosts {
		if HostMatches(host, b.Suffix) {
			return true
		}
	}
	for _, p := range extra {
		if HostMatches(host, p) {
			return true
		}
	}
	return false
}
