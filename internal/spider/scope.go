package spider

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Allows reports whether u may be fetched: its scheme is http or https, its
// host matches one of Hosts, no Deny pattern matches its path and query, and,
// when Allow is non-empty, one Allow pattern does. An empty Hosts allows no
// URL at all.
func (s *Scope) Allows(u *url.URL) bool {
	if u == nil || u.Host == "" {
		return false
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return false
	}
	if !s.hostAllowed(u) {
		return false
	}
	pq := pathQuery(u)
	for _, re := range s.Deny {
		if re.MatchString(pq) {
			return false
		}
	}
	if len(s.Allow) == 0 {
		return true
	}
	for _, re := range s.Allow {
		if re.MatchString(pq) {
			return true
		}
	}
	return false
}

// Reason says why Allows refuses u, naming the part of the scope that
// does; it returns "" when Allows accepts u. It is slower than Allows and
// meant for people (trawl try), not for every link of a crawl.
func (s *Scope) Reason(u *url.URL) string {
	switch {
	case u == nil || u.Host == "":
		return "the URL has no host"
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		return "scheme " + u.Scheme + " is not http or https"
	case !s.hostAllowed(u):
		return "host " + u.Host + " is not in scope.hosts"
	}
	pq := pathQuery(u)
	for i, re := range s.Deny {
		if re.MatchString(pq) {
			return "matches scope.deny[" + strconv.Itoa(i) + "] (" + re.String() + ")"
		}
	}
	if len(s.Allow) == 0 {
		return ""
	}
	for _, re := range s.Allow {
		if re.MatchString(pq) {
			return ""
		}
	}
	return "matches no pattern of scope.allow"
}

// hostIndex splits a scope's host patterns once: exact ones by "host:port"
// (port "" for any port), wildcards kept as patterns. Allows runs for every
// link of every page, against scopes of hundreds of hosts.
type hostIndex struct {
	exact     map[string]bool
	wildcards []string
}

func newHostIndex(patterns []string) *hostIndex {
	ix := &hostIndex{exact: make(map[string]bool, len(patterns))}
	for _, p := range patterns {
		h, port := splitHostPattern(p)
		if strings.HasPrefix(h, "*.") {
			ix.wildcards = append(ix.wildcards, p)
			continue
		}
		ix.exact[h+":"+port] = true
	}
	return ix
}

func (s *Scope) hostAllowed(u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	patterns := s.Hosts
	if s.index != nil {
		if s.index.exact[host+":"+port] || s.index.exact[host+":"] {
			return true
		}
		patterns = s.index.wildcards
	}
	for _, pattern := range patterns {
		ph, pp := splitHostPattern(pattern)
		if pp != "" && pp != port {
			continue
		}
		if domain, ok := strings.CutPrefix(ph, "*."); ok {
			if host == domain || strings.HasSuffix(host, "."+domain) {
				return true
			}
		} else if host == ph {
			return true
		}
	}
	return false
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// pathQuery is what Allow, Deny and the rules' URLs patterns match: the
// escaped path ("/" when empty), then "?" and the raw query if there is one.
func pathQuery(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// splitHostPattern splits "host", "host:port", "[v6]:port" or "*.domain:port"
// into host (without brackets) and port ("" for any port).
func splitHostPattern(p string) (host, port string) {
	if rest, ok := strings.CutPrefix(p, "["); ok {
		h, after, found := strings.Cut(rest, "]")
		if !found {
			return p, ""
		}
		return h, strings.TrimPrefix(after, ":")
	}
	if strings.Count(p, ":") == 1 {
		h, port, _ := strings.Cut(p, ":")
		return h, port
	}
	return p, ""
}

var errHostPattern = errors.New(`use host, host:port or *.domain, without scheme or path, like "example.com", "127.0.0.1:8300" or "*.example.com"`)

// checkHostPattern validates a lowercase scope host pattern.
func checkHostPattern(p string) error {
	host, port := splitHostPattern(p)
	if port != "" || strings.HasSuffix(p, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return errHostPattern
		}
	}
	if strings.HasPrefix(p, "[") {
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return errHostPattern
		}
		return nil
	}
	domain := strings.TrimPrefix(host, "*.")
	if domain == "" || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return errHostPattern
	}
	for _, r := range domain {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r > 127
		if !ok {
			return errHostPattern
		}
	}
	return nil
}
