package loopback

import "testing"

func TestLoopback(t *testing.T) {
	cases := []struct {
		in         string
		host, addr bool
		url        bool
	}{
		{in: "localhost", host: true},
		{in: "127.0.0.1", host: true},
		{in: "::1", host: true},
		{in: "10.0.0.1"},
		{in: "localhost.example.com"},
		{in: "127.0.0.1:8080", addr: true},
		{in: "[::1]:8080", addr: true},
		{in: "0.0.0.0:8080"},
		{in: ":8080"},
		{in: "http://127.0.0.1:8090", url: true},
		{in: "http://localhost", url: true},
		{in: "https://sandbox.belvo.com"},
		{in: "http://127.0.0.1.nip.io"},
		{in: "not a url"},
	}
	for _, c := range cases {
		if got := Host(c.in); got != c.host {
			t.Errorf("Host(%q) = %v, want %v", c.in, got, c.host)
		}
		if got := Addr(c.in); got != c.addr {
			t.Errorf("Addr(%q) = %v, want %v", c.in, got, c.addr)
		}
		if got := URL(c.in); got != c.url {
			t.Errorf("URL(%q) = %v, want %v", c.in, got, c.url)
		}
	}
}
