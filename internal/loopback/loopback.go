// Package loopback tells whether an address stays on this machine. The
// product's guards use it: a published default secret is refused as soon as
// a listener or a peer is reachable from elsewhere.
package loopback

import (
	"net"
	"net/url"
)

// Host reports whether host (a name or an IP, without port) is this
// machine: "localhost" or a loopback IP. Any other name is not, whatever it
// resolves to now: names move.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr reports whether a host:port address is this machine's; an address
// that does not parse is not.
func Addr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && Host(host)
}

// URL reports whether a URL's host is this machine; a URL that does not
// parse is not.
func URL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && Host(u.Hostname())
}
