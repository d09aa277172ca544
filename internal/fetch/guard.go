package fetch

import (
	"fmt"
	"net/netip"
	"syscall"
)

// blockedError is returned by the dial guard for an address that Config.BlockPrivateNetworks forbids.
type blockedError struct {
	addr netip.Addr
}

func (e *blockedError) Error() string {
	return fmt.Sprintf("address %s is in a blocked network", e.addr)
}

// blockedPrefixes are the ranges that netip.Addr has no predicate for.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network": 0.x.x.x reaches the local host on Linux
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT (RFC 6598), often internal infrastructure
	netip.MustParsePrefix("255.255.255.255/32"),
}

// isBlocked reports whether a dial to addr must be refused: loopback, private (RFC 1918, fc00::/7), link-local,
// unspecified, CGNAT, "this network", multicast and broadcast addresses. IPv4-mapped IPv6 addresses are judged as
// the IPv4 address they carry.
func isBlocked(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsUnspecified() ||
		addr.IsMulticast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// guardControl is a net.Dialer.Control function. It runs after DNS resolution, on the exact address about to be
// dialled, so a name that resolves to a public address at check time and a private one at dial time (DNS rebinding)
// is still refused.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("parse dial address %q: %w", address, err)
	}
	if isBlocked(ap.Addr()) {
		return &blockedError{addr: ap.Addr()}
	}
	return nil
}
