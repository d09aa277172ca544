package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// TestBlockedByRange checks every range of the guard with addresses inside it (first, last, notable) and public
// neighbours just outside it.
func TestBlockedByRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		blocked []string
		allowed []string
	}{
		{"0.0.0.0/8 this network", []string{"0.0.0.0", "0.1.2.3", "0.255.255.255"}, []string{"1.0.0.1"}},
		{"10.0.0.0/8 private", []string{"10.0.0.0", "10.1.2.3", "10.255.255.255"}, []string{"9.255.255.255", "11.0.0.0"}},
		{"100.64.0.0/10 CGNAT", []string{"100.64.0.0", "100.64.0.1", "100.127.255.255"}, []string{"100.63.255.255", "100.128.0.0"}},
		{"127.0.0.0/8 loopback", []string{"127.0.0.1", "127.0.0.0", "127.255.0.9", "127.255.255.255"}, []string{"126.255.255.255", "128.0.0.0"}},
		{"169.254.0.0/16 link-local and metadata", []string{"169.254.0.0", "169.254.169.254", "169.254.170.2", "169.254.255.255"}, []string{"169.253.255.255", "169.255.0.0"}},
		{"172.16.0.0/12 private", []string{"172.16.0.0", "172.16.0.1", "172.31.255.255"}, []string{"172.15.255.255", "172.32.0.0"}},
		{"192.0.0.0/24 IETF protocol assignments", []string{"192.0.0.0", "192.0.0.8", "192.0.0.170", "192.0.0.255"}, []string{"191.255.255.255", "192.0.1.0"}},
		{"192.0.2.0/24 TEST-NET-1", []string{"192.0.2.0", "192.0.2.1", "192.0.2.255"}, []string{"192.0.3.0"}},
		{"192.168.0.0/16 private", []string{"192.168.0.0", "192.168.1.1", "192.168.255.255"}, []string{"192.167.255.255", "192.169.0.0"}},
		{"198.18.0.0/15 benchmarking", []string{"198.18.0.0", "198.18.0.1", "198.19.255.255"}, []string{"198.17.255.255", "198.20.0.0"}},
		{"198.51.100.0/24 TEST-NET-2", []string{"198.51.100.0", "198.51.100.7", "198.51.100.255"}, []string{"198.51.99.255", "198.51.101.0"}},
		{"203.0.113.0/24 TEST-NET-3", []string{"203.0.113.0", "203.0.113.9", "203.0.113.255"}, []string{"203.0.112.255", "203.0.114.0"}},
		{"224.0.0.0/4 multicast", []string{"224.0.0.0", "224.0.0.1", "239.255.255.255"}, []string{"223.255.255.255"}},
		{"240.0.0.0/4 reserved and broadcast", []string{"240.0.0.0", "250.1.2.3", "255.255.255.254", "255.255.255.255"}, nil},
		{"::/96 IPv4-compatible, unspecified and loopback", []string{"::", "::1", "::2", "::127.0.0.1", "::8.8.8.8", "::ffff:ffff"}, []string{"::1:0:0:0"}},
		{"::ffff:0:0/96 IPv4-mapped judged by the IPv4", []string{"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::ffff:192.0.0.1"}, []string{"::ffff:8.8.8.8", "::ffff:93.184.216.34"}},
		{"64:ff9b::/96 NAT64 judged by the IPv4", []string{"64:ff9b::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::169.254.169.254", "64:ff9b::c612:1"}, []string{"64:ff9b::8.8.8.8", "64:ff9b::5db8:d822"}},
		{"64:ff9b:1::/48 local-use NAT64", []string{"64:ff9b:1::", "64:ff9b:1::8.8.8.8", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"}, []string{"64:ff9b:2::8.8.8.8"}},
		{"2002::/16 6to4 judged by the IPv4", []string{"2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101:1::1", "2002::"}, []string{"2002:808:808::1", "2002:5db8:d822::1"}},
		{"100::/64 discard-only", []string{"100::", "100::ffff:ffff:ffff:ffff"}, []string{"100:0:0:1::"}},
		{"2001::/32 Teredo", []string{"2001::", "2001:0:4136:e378:8000:63bf:3fff:fdd2"}, []string{"2001:4860:4860::8888"}},
		{"2001:db8::/32 documentation", []string{"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}, []string{"2001:db9::1", "2001:db7:ffff::1"}},
		{"fc00::/7 unique local", []string{"fc00::", "fc00::1", "fd12:3456::1", "fd00:ec2::254", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, []string{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::1"}},
		{"fe80::/10 link-local", []string{"fe80::", "fe80::1", "fe80::1%eth0", "febf:ffff::1"}, []string{"fe7f:ffff::1"}},
		{"fec0::/10 site-local", []string{"fec0::", "fec0::1", "feff:ffff::1"}, nil},
		{"ff00::/8 multicast", []string{"ff00::", "ff01::1", "ff02::1", "ff05::2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, nil},
		{"public", nil, []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:2800:220:1::1", "2a00:1450:4001::200e", "2600::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range tt.blocked {
				if _, _, blocked := blockedBy(netip.MustParseAddr(s)); !blocked {
					t.Errorf("blockedBy(%s) = allowed, want blocked", s)
				}
			}
			for _, s := range tt.allowed {
				if r, via, blocked := blockedBy(netip.MustParseAddr(s)); blocked {
					t.Errorf("blockedBy(%s) = blocked by %s (via %v), want allowed", s, r.prefix, via)
				}
			}
		})
	}
}

func TestBlockedByInvalidAddress(t *testing.T) {
	t.Parallel()
	if _, _, blocked := blockedBy(netip.Addr{}); !blocked {
		t.Error("blockedBy(zero Addr) = allowed, want blocked: the guard fails closed")
	}
}

// TestGuardControl calls the dialer's Control function the way net.Dialer does: with the resolved address and port
// of each connection, whether it is the first request, a redirect hop or the answer of a rebinding DNS server.
func TestGuardControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		network, address string
		wantErr          string // substring of the error; "" means allowed
	}{
		{"tcp4", "127.0.0.1:80", "127.0.0.0/8"},
		{"tcp4", "169.254.169.254:80", "169.254.0.0/16"},
		{"tcp4", "0.0.0.0:8080", "0.0.0.0/8"},
		{"tcp4", "10.0.0.5:443", "10.0.0.0/8"},
		{"tcp6", "[::1]:80", "::/96"},
		{"tcp6", "[::]:80", "::/96"},
		{"tcp6", "[::ffff:127.0.0.1]:80", "embedding 127.0.0.1"},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:80", "embedding 169.254.169.254"},
		{"tcp6", "[2002:c0a8:1::1]:80", "embedding 192.168.0.1"},
		{"tcp6", "[fe80::1%lo]:80", "fe80::/10"},
		{"tcp6", "[fd00:ec2::254]:80", "fc00::/7"},
		{"tcp6", "[fec0::1]:80", "fec0::/10"},
		{"tcp4", "not-an-address", "unparsable"},
		{"tcp4", "93.184.216.34:80", ""},
		{"tcp6", "[2606:2800:220:1::1]:443", ""},
		{"tcp6", "[64:ff9b::808:808]:443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			t.Parallel()
			err := guardControl(tt.network, tt.address, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("guardControl(%s) = %v, want nil", tt.address, err)
				}
				return
			}
			var be *blockedError
			if !errors.As(err, &be) {
				t.Fatalf("guardControl(%s) = %v (%T), want a *blockedError", tt.address, err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("guardControl(%s) = %q, want it to mention %q", tt.address, err, tt.wantErr)
			}
		})
	}
}

// TestGuardChecksDNSAnswers dials host names through a real net.Dialer with the guard and a resolver that asks a
// DNS server on loopback, as an attacker's name server would answer: the guard judges the answer, not the name.
// The cloud metadata names are among them; the addresses they resolve to are refused before a packet is sent.
func TestGuardChecksDNSAnswers(t *testing.T) {
	t.Parallel()
	var accepted atomic.Int64
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	dns := startDNS(t, map[string]netip.Addr{
		"rebind.example.":             netip.MustParseAddr("127.0.0.1"),
		"metadata.google.internal.":   netip.MustParseAddr("169.254.169.254"),
		"instance-data.ec2.internal.": netip.MustParseAddr("169.254.169.254"),
		"aws-v6.example.":             netip.MustParseAddr("fd00:ec2::254"),
		"mapped.example.":             netip.MustParseAddr("::ffff:127.0.0.1"),
		"nat64.example.":              netip.MustParseAddr("64:ff9b::7f00:1"),
		"intranet.example.":           netip.MustParseAddr("10.20.30.40"),
	})
	dialer := &net.Dialer{Control: guardControl, Resolver: dns}
	for _, host := range []string{"rebind.example", "metadata.google.internal", "instance-data.ec2.internal",
		"aws-v6.example", "mapped.example", "nat64.example", "intranet.example"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			conn, err := dialer.DialContext(t.Context(), "tcp", net.JoinHostPort(host, port))
			if err == nil {
				_ = conn.Close()
				t.Fatalf("dial %s: connected, want refused", host)
			}
			var be *blockedError
			if !errors.As(err, &be) {
				t.Fatalf("dial %s = %v, want a *blockedError", host, err)
			}
		})
	}
	t.Cleanup(func() {
		if n := accepted.Load(); n != 0 {
			t.Errorf("listener accepted %d connections, want 0", n)
		}
	})
}

// TestClientBlocksRedirectToPrivate follows a redirect from a host the guard allows to private targets with the
// whole client. The allowed host is simulated in the test alone: its name is dialled straight to a loopback server,
// every other dial goes through the client's own guarded dialer, as in production.
func TestClientBlocksRedirectToPrivate(t *testing.T) {
	t.Parallel()
	var victimHits atomic.Int64
	victim := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { victimHits.Add(1) }))
	t.Cleanup(victim.Close)
	_, victimPort, _ := net.SplitHostPort(victim.Listener.Addr().String())

	targets := []string{
		victim.URL + "/admin",
		"http://localhost:" + victimPort + "/",
		"http://[::ffff:127.0.0.1]:" + victimPort + "/",
		"http://[64:ff9b::7f00:1]:" + victimPort + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0:" + victimPort + "/",
	}
	var publicHits atomic.Int64
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicHits.Add(1)
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	t.Cleanup(public.Close)

	c := New(Config{BlockPrivateNetworks: true})
	t.Cleanup(c.Close)
	guarded := c.transport.DialContext
	c.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "public.example:80" {
			var d net.Dialer
			return d.DialContext(ctx, network, public.Listener.Addr().String())
		}
		return guarded(ctx, network, addr)
	}

	for _, to := range targets {
		t.Run(to, func(t *testing.T) {
			u := &url.URL{Scheme: "http", Host: "public.example", Path: "/", RawQuery: url.Values{"to": {to}}.Encode()}
			_, err := c.Fetch(t.Context(), &Request{URL: u, UserAgent: "trawl-test/1.0"})
			var fe *Error
			if !errors.As(err, &fe) || fe.Class != ClassBlocked {
				t.Fatalf("Fetch via redirect to %s = %v, want class %s", to, err, ClassBlocked)
			}
			if fe.URL != to {
				t.Errorf("Error.URL = %s, want the redirect target %s", fe.URL, to)
			}
		})
	}
	if got, want := publicHits.Load(), int64(len(targets)); got != want {
		t.Errorf("allowed host got %d requests, want %d", got, want)
	}
	if n := victimHits.Load(); n != 0 {
		t.Errorf("private server got %d requests, want 0", n)
	}
}

// TestSecurityDocListsEveryRange keeps docs/security.md in step with the guard's table.
func TestSecurityDocListsEveryRange(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[netip.Prefix]bool{}
	for i, part := range strings.Split(string(doc), "`") {
		if p, err := netip.ParsePrefix(part); err == nil && i%2 == 1 {
			listed[p] = true
		}
	}
	prefixes := []netip.Prefix{ipv4MappedPrefix, nat64Prefix, sixToFourPrefix}
	for _, r := range blockedRanges {
		prefixes = append(prefixes, r.prefix)
	}
	for _, p := range prefixes {
		if !listed[p] {
			t.Errorf("docs/security.md does not list `%s`", p)
		}
	}
}

// startDNS serves A and AAAA answers from records on a loopback UDP socket and returns a resolver that asks only
// it. Unknown names get NXDOMAIN.
func startDNS(t *testing.T, records map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, err := dnsAnswer(buf[:n], records); err == nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp4", pc.LocalAddr().String())
		},
	}
}

// dnsAnswer builds the response to one query.
func dnsAnswer(query []byte, records map[string]netip.Addr) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	addr, known := records[strings.ToLower(q.Name.String())]
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type, Class: dnsmessage.ClassINET, TTL: 0}
	switch {
	case q.Type == dnsmessage.TypeA && addr.Is4():
		err = b.AResource(rh, dnsmessage.AResource{A: addr.As4()})
	case q.Type == dnsmessage.TypeAAAA && addr.Is6():
		err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: addr.As16()})
	}
	if err != nil {
		return nil, fmt.Errorf("answer %s: %w", q.Name, err)
	}
	return b.Finish()
}
