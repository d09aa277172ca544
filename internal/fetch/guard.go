package fetch

import (
	"fmt"
	"net/netip"
	"syscall"
)

// blockedError is returned by the dial guard for an address that Config.BlockPrivateNetworks forbids.
type blockedError struct {
	addr  netip.Addr   // the address the socket was about to connect to
	via   netip.Addr   // the IPv4 address embedded in addr that was judged, if any
	match blockedRange // the range that matched
}

func (e *blockedError) Error() string {
	switch {
	case !e.addr.IsValid():
		return "dial refused: " + e.match.what
	case !e.match.prefix.IsValid():
		return fmt.Sprintf("address %s refused: %s", e.addr, e.match.what)
	case e.via.IsValid():
		return fmt.Sprintf("address %s (embedding %s) is in blocked network %s (%s, %s)",
			e.addr, e.via, e.match.prefix, e.match.what, e.match.source)
	default:
		return fmt.Sprintf("address %s is in blocked network %s (%s, %s)", e.addr, e.match.prefix, e.match.what, e.match.source)
	}
}

// blockedRange is one row of the guard's table.
type blockedRange struct {
	prefix netip.Prefix
	what   string // what the range is
	source string // the document that reserves it
}

// blockedRanges is every range the guard refuses, with the document that reserves it. It is the table in
// docs/security.md (a test keeps the two in step). It lists addresses that reach the crawling host itself, its
// private networks, cloud metadata services (169.254.169.254, fd00:ec2::254; the names metadata.google.internal and
// friends resolve into these ranges, and the check runs on the resolved address), and ranges that are never a
// public web server (documentation, benchmarking, multicast, reserved), where a hit can only be a trick or a mistake.
//
// Three IPv6 ranges carry an IPv4 address and are not in the table: the embedded address is judged instead (see
// embeddedIPv4), so ::ffff:127.0.0.1, 64:ff9b::10.0.0.1 and 2002:a00:1:: are refused while the same ranges with
// a public IPv4 address inside stay reachable.
var blockedRanges = []blockedRange{
	// IPv4.
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network"; 0.0.0.0 reaches the local host on Linux`, "RFC 1122 §3.2.1.3"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private", "RFC 1918"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT, often internal infrastructure", "RFC 6598"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback", "RFC 1122 §3.2.1.3"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, incl. cloud metadata 169.254.169.254", "RFC 3927"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private", "RFC 1918"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (DS-Lite, NAT64 discovery)", "RFC 6890"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)", "RFC 5737"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private", "RFC 1918"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking, used inside data centres", "RFC 2544"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)", "RFC 5737"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)", "RFC 5737"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast", "RFC 5771"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, incl. broadcast 255.255.255.255", "RFC 1112 §4, RFC 919"},
	// IPv6. ::/96 covers the unspecified address ::/128 and loopback ::1/128 (RFC 4291 §2.5.2, §2.5.3).
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated), incl. :: and ::1", "RFC 4291 §2.5.5.1"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64; the IPv4 position depends on the operator's prefix length", "RFC 8215"},
	{netip.MustParsePrefix("100::/64"), "discard-only", "RFC 6666"},
	{netip.MustParsePrefix("2001::/32"), "Teredo (deprecated); the client IPv4 inside is obfuscated", "RFC 4380"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation", "RFC 3849"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (private), incl. AWS metadata fd00:ec2::254", "RFC 4193"},
	{netip.MustParsePrefix("fe80::/10"), "link-local", "RFC 4291 §2.5.6"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)", "RFC 3879"},
	{netip.MustParsePrefix("ff00::/8"), "multicast", "RFC 4291 §2.7"},
}

// IPv6 ranges that embed an IPv4 address; embeddedIPv4 extracts it.
var (
	ipv4MappedPrefix = netip.MustParsePrefix("::ffff:0:0/96") // RFC 4291 §2.5.5.2: the IPv4 address in the last 32 bits
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052 §2.1: well-known NAT64, last 32 bits
	sixToFourPrefix  = netip.MustParsePrefix("2002::/16")     // RFC 3056 §2: 6to4, bits 16–47
)

// embeddedIPv4 returns the IPv4 address that an IPv4-mapped, well-known-prefix NAT64 or 6to4 address delivers to.
// Judging it, rather than blocking the range, keeps public sites reachable from IPv6-only hosts behind DNS64/NAT64,
// where every IPv4-only site resolves into 64:ff9b::/96.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case !addr.Is6():
		return netip.Addr{}, false
	case ipv4MappedPrefix.Contains(addr), nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFourPrefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// blockedBy returns the range that refuses a dial to addr, and via, the embedded IPv4 address judged in its place
// (invalid when addr was judged itself). An invalid address is refused under the zero range: the guard fails closed.
func blockedBy(addr netip.Addr) (match blockedRange, via netip.Addr, blocked bool) {
	// Prefix.Contains never matches an address with a zone, so fe80::1%eth0 would slip through with it.
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return blockedRange{what: "invalid address", source: "-"}, netip.Addr{}, true
	}
	if v4, ok := embeddedIPv4(addr); ok {
		addr, via = v4, v4
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(addr) {
			return r, via, true
		}
	}
	return blockedRange{}, netip.Addr{}, false
}

// guardControl is a net.Dialer.Control function. It runs after DNS resolution, on the exact address the socket is
// about to connect to, for every dial: the first request, each redirect hop (fetch follows redirects itself, each
// through the same transport) and each address Happy Eyeballs tries. So neither a DNS answer, a name that resolves
// public at one moment and private the next (DNS rebinding), nor a redirect to http://127.0.0.1/ gets past it.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{match: blockedRange{what: fmt.Sprintf("unparsable dial address %q", address), source: "-"}}
	}
	if r, via, blocked := blockedBy(ap.Addr()); blocked {
		return &blockedError{addr: ap.Addr(), via: via, match: r}
	}
	return nil
}
