// Package fetch is trawl's safe HTTP client: it performs one bounded attempt to fetch a URL and returns the decoded
// response or a classified *Error.
//
// Every outbound request trawl makes is built here. An attempt is bounded in every dimension a hostile server could
// stretch: a timeout covers the whole attempt including a slowly trickled body; the decoded body is capped, so a
// gzip bomb fails as [ClassTooLarge] after reading at most the cap; redirects are capped and loops detected; and with
// [Config.BlockPrivateNetworks] the dialer refuses every non-public address (loopback, private, link-local and cloud
// metadata, reserved; docs/security.md has the table) after DNS resolution, on each hop, so neither DNS rebinding nor
// a redirect can reach internal services.
//
// # Retries
//
// [Client.Fetch] makes exactly one attempt. The crawl engine owns retries: it asks [Error.Retryable] and waits
// [Backoff] before re-queueing, which honours the server's Retry-After.
//
// # Bodies
//
// Text bodies (text/*, HTML, XML and JSON types) are decoded to UTF-8. The charset is taken, in order, from a byte
// order mark, the Content-Type charset parameter, a <meta> declaration in the first 1024 bytes of HTML (an XML
// declaration for XML), and otherwise assumed to be UTF-8, with invalid sequences replaced by U+FFFD. The BOM comes
// first, as in the WHATWG encoding sniffing algorithm browsers use: a BOM is unambiguous, a header often is not.
// Other types are returned as raw bytes.
package fetch
