package fetch

import (
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config and Request.
const (
	DialTimeoutDefault  = 10 * time.Second
	TimeoutDefault      = 20 * time.Second
	MaxBodyDefault      = 10 << 20 // 10 MiB
	MaxRedirectsDefault = 10
	// MaxHeaderBytesDefault caps a response's headers. Real sites send a few KiB; 1 MiB leaves room for enormous
	// cookies while a server that sends headers forever fails fast.
	MaxHeaderBytesDefault = 1 << 20
)

// Config tunes a Client. The zero value is ready to use: zero fields mean their defaults; a negative one is invalid
// (Validate).
type Config struct {
	// BlockPrivateNetworks refuses to connect to any address that is not a public unicast address: loopback,
	// private (RFC 1918, fc00::/7), link-local (incl. cloud metadata 169.254.169.254), CGNAT, unspecified,
	// multicast, reserved, documentation and benchmarking ranges, and IPv4-mapped, NAT64 and 6to4 IPv6 addresses
	// that embed one of those (the table, with sources, is blockedRanges and docs/security.md). The check runs in the
	// dialer on the resolved address the socket connects to, for every hop, so neither a DNS answer, DNS rebinding
	// nor a redirect bypasses it. Refused attempts fail with ClassBlocked, are not retried, and send nothing.
	// Default false: `trawl run` on a user's machine may crawl local sites; `trawl serve` sets it unless
	// --allow-private-networks is given.
	BlockPrivateNetworks bool
	// MaxConnsPerHost caps the transport's connections per host. Default 0: unlimited, because politeness is
	// enforced above fetch, by the frontier.
	MaxConnsPerHost int
	// DialTimeout bounds establishing one TCP connection and its TLS handshake. Default (zero) 10s.
	DialTimeout time.Duration
	// MaxHeaderBytes caps the size of a response's status line and headers, in bytes (for HTTP/2, the header list
	// size advertised to the server). A response over the cap, such as a server writing header lines forever, fails
	// with ClassTooLarge and is not retried. Default (zero) MaxHeaderBytesDefault, 1 MiB.
	MaxHeaderBytes int64
	// Now is the clock, used for Retry-After dates and Response.Duration. Default time.Now.
	Now func() time.Time
}

// Client performs fetch attempts over one shared transport. It is safe for concurrent use.
type Client struct {
	cfg       Config
	transport *http.Transport
	http      *http.Client
}

// Validate fills the defaults of c and reports a field out of its range as an EINVALID *trawl.Error naming the field
// and the range. New calls it; the composition root may call it first to report a bad setting to the user.
func (c *Config) Validate() error {
	switch {
	case c.MaxConnsPerHost < 0:
		return trawl.Errorf(trawl.EINVALID, "fetch config: MaxConnsPerHost must be 0 (unlimited) or more")
	case c.DialTimeout < 0:
		return trawl.Errorf(trawl.EINVALID, "fetch config: DialTimeout must be 0 (default %v) or more", DialTimeoutDefault)
	case c.MaxHeaderBytes < 0:
		return trawl.Errorf(trawl.EINVALID, "fetch config: MaxHeaderBytes must be 0 (default %d) or more", MaxHeaderBytesDefault)
	}
	c.DialTimeout = positiveOr(c.DialTimeout, DialTimeoutDefault)
	c.MaxHeaderBytes = positiveOr(c.MaxHeaderBytes, MaxHeaderBytesDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// New returns a Client with one shared keep-alive transport (HTTP/2 allowed) and no cookie jar. The transport ignores
// proxy environment variables: only cli reads the environment, and a proxy would bypass the private-network guard.
// cfg comes from code, not from a user: New panics when it is invalid (Config.Validate, which callers holding user
// settings call first).
func New(cfg Config) *Client {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	if cfg.BlockPrivateNetworks {
		dialer.Control = guardControl
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ExpectContinueTimeout: time.Second,
		// Without it net/http allows 10 MiB of headers, and the error it returns when they overflow would count as
		// a retryable network failure.
		MaxResponseHeaderBytes: cfg.MaxHeaderBytes,
		// Fetch asks for and decodes gzip and deflate itself, so that it can cap the decoded size and count wire bytes.
		DisableCompression: true,
	}
	return &Client{
		cfg:       cfg,
		transport: transport,
		http: &http.Client{
			Transport: transport,
			// Fetch follows redirects itself, one hop at a time, to enforce its loop, scope and scheme checks.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Close closes idle connections. The Client stays usable.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// Request describes one attempt. Only URL and UserAgent are required.
type Request struct {
	// URL is the absolute http or https URL to fetch.
	URL *url.URL
	// Method is the HTTP method. Default GET.
	Method string
	// UserAgent is the User-Agent header. Required.
	UserAgent string
	// Header holds extra request headers (may be nil). Accept-Encoding is always set by fetch.
	Header http.Header
	// Timeout bounds the whole attempt: every redirect hop and reading the body. Default (zero or negative) 20s.
	Timeout time.Duration
	// MaxBody caps the decoded body in bytes. Default (zero or negative) 10 MiB. A larger 2xx body fails with ClassTooLarge as soon as
	// the cap is crossed, unless Truncate is set.
	MaxBody int64
	// Truncate keeps the first MaxBody bytes of a larger body instead of failing; Response.Truncated reports it.
	// robots.txt uses it: the RFC asks crawlers to parse the first 500 KiB.
	Truncate bool
	// MaxRedirects caps the redirects followed. Default 10; a negative value means do not follow (the 3xx response
	// is returned as is). Exceeding the cap fails with ClassRedirect.
	MaxRedirects int
	// CheckRedirect, if set, is called with every redirect target before it is followed; an error vetoes the hop and
	// fails the attempt with ClassOutOfScope.
	CheckRedirect func(to *url.URL) error
}

// Response is the result of an attempt.
type Response struct {
	URL         *url.URL      // final URL after redirects
	Status      int           // HTTP status code
	Header      http.Header   // response headers of the final hop
	ContentType string        // media type only, lowercase ("text/html"); sniffed when the header is missing
	Charset     string        // charset the body was decoded from ("utf-8", "windows-1252"); "" for binary bodies
	Body        []byte        // text types decoded to UTF-8; other types raw
	Truncated   bool          // the body was cut at MaxBody (Truncate set, or an error response)
	Redirects   int           // redirects followed
	WireBytes   int64         // body bytes read from the connection, before decompression
	Duration    time.Duration // from the start of the attempt to the end of the body
}
