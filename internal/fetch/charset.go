package fetch

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// prescanLen is how far into a body an in-document charset declaration is looked for, as in the WHATWG prescan.
const prescanLen = 1024

// decodeText returns the media type of a body, the charset it was decoded from and the body itself: decoded to UTF-8
// for text types, unchanged (with charset "") for others. A missing Content-Type is sniffed from the body.
func decodeText(contentType string, body []byte) (mediaType, charsetName string, out []byte) {
	mediaType, params := parseContentType(contentType)
	if mediaType == "" {
		// Only the sniffed media type is used: the sniffer's charset is a guess that would override a <meta>.
		mediaType, _ = parseContentType(http.DetectContentType(body))
	}
	if !isText(mediaType) {
		return mediaType, "", body
	}
	label, body := sniffCharset(mediaType, params["charset"], body)
	enc, name := charset.Lookup(label)
	if enc == nil || name == "utf-8" {
		return mediaType, "utf-8", validUTF8(body)
	}
	decoded, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		// The WHATWG decoders replace bad input instead of failing; fall back to UTF-8 should one ever fail.
		return mediaType, "utf-8", validUTF8(body)
	}
	decoded = bytes.TrimPrefix(decoded, []byte("\uFEFF"))
	return mediaType, name, validUTF8(decoded)
}

func parseContentType(v string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		// Keep the media type of a header with a malformed parameter ("text/html; charset").
		mt, _, _ = strings.Cut(v, ";")
		return strings.ToLower(strings.TrimSpace(mt)), nil
	}
	return mt, params
}

// isText reports whether bodies of media type mt are text to decode to UTF-8.
func isText(mt string) bool {
	return strings.HasPrefix(mt, "text/") || strings.Contains(mt, "json") || strings.Contains(mt, "xml") ||
		strings.Contains(mt, "html")
}

// sniffCharset returns the charset label of a text body and the body without its byte order mark: the BOM, then
// the Content-Type parameter, then an in-document declaration, then UTF-8. Unknown labels are skipped.
func sniffCharset(mediaType, headerLabel string, body []byte) (string, []byte) {
	for _, bom := range []struct {
		prefix string
		label  string
	}{{"\xEF\xBB\xBF", "utf-8"}, {"\xFE\xFF", "utf-16be"}, {"\xFF\xFE", "utf-16le"}} {
		if rest, ok := bytes.CutPrefix(body, []byte(bom.prefix)); ok {
			return bom.label, rest
		}
	}
	if enc, _ := charset.Lookup(headerLabel); enc != nil {
		return headerLabel, body
	}
	var label string
	switch {
	case strings.Contains(mediaType, "html"):
		label = metaCharset(body)
	case strings.Contains(mediaType, "xml"):
		label = xmlEncoding(body)
	}
	if enc, name := charset.Lookup(label); enc != nil {
		// A document cannot declare itself UTF-16 in ASCII-compatible bytes: WHATWG says read it as UTF-8.
		if strings.HasPrefix(name, "utf-16") {
			return "utf-8", body
		}
		return label, body
	}
	return "utf-8", body
}

// metaCharset returns the charset declared by a <meta charset> or <meta http-equiv="content-type"> element within
// the first 1024 bytes of an HTML document, or "".
func metaCharset(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body[:min(len(body), prescanLen)]))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" {
				continue
			}
			var cs, httpEquiv, content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "charset":
					cs = string(v)
				case "http-equiv":
					httpEquiv = string(v)
				case "content":
					content = string(v)
				}
			}
			if cs = strings.TrimSpace(cs); cs != "" {
				return cs
			}
			if strings.EqualFold(strings.TrimSpace(httpEquiv), "content-type") {
				if _, params := parseContentType(content); params["charset"] != "" {
					return params["charset"]
				}
			}
		}
	}
}

// xmlEncoding returns the encoding named by an XML declaration (<?xml version="1.0" encoding="..."?>) or "".
func xmlEncoding(body []byte) string {
	head := body[:min(len(body), prescanLen)]
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(head[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	val, _, ok := strings.Cut(rest[1:], rest[:1])
	if !ok {
		return ""
	}
	return val
}

// validUTF8 replaces invalid UTF-8 sequences with U+FFFD. Valid input, the
// common case, is returned as is: checking is much cheaper than copying.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}
