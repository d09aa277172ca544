package fetch

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// bodyResult is what readBody read.
type bodyResult struct {
	body      []byte
	wire      int64
	truncated bool
}

// readBody reads and decompresses hresp's body, never holding more than MaxBody+1 decoded bytes: a gzip bomb costs
// at most that much memory and the compressed bytes needed to inflate it. For a successful status an oversized body
// fails with ClassTooLarge unless req.Truncate is set; for an error status it is truncated silently.
func readBody(parent, attempt context.Context, req *Request, hresp *http.Response, success bool) (bodyResult, *Error) {
	maxBody := positiveOr(req.MaxBody, MaxBodyDefault)
	cutOK := req.Truncate || !success
	codings := contentCodings(hresp.Header)
	if len(codings) == 0 && hresp.ContentLength > maxBody && !cutOK {
		return bodyResult{}, &Error{Class: ClassTooLarge, Err: fmt.Errorf("content-length %d exceeds limit of %d bytes", hresp.ContentLength, maxBody)}
	}

	wire := &wireReader{r: hresp.Body}
	// An empty body is empty whatever its Content-Encoding claims (HEAD, 204 and 304 responses often say gzip).
	peek := bufio.NewReader(wire)
	if _, err := peek.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return bodyResult{wire: wire.n}, nil
		}
		return bodyResult{wire: wire.n}, &Error{Class: classify(parent, attempt, err), Err: fmt.Errorf("read body: %w", err)}
	}
	var r io.Reader = peek
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		if r, err = decoder(codings[i], r); err != nil {
			return bodyResult{wire: wire.n}, bodyError(parent, attempt, wire, err)
		}
	}

	var buf bytes.Buffer
	if len(codings) == 0 && hresp.ContentLength > 0 {
		buf.Grow(int(min(hresp.ContentLength, maxBody) + 1))
	}
	_, err := io.Copy(&buf, io.LimitReader(r, maxBody+1))
	res := bodyResult{body: buf.Bytes(), wire: wire.n}
	if int64(buf.Len()) > maxBody {
		if !cutOK {
			return bodyResult{wire: wire.n}, &Error{Class: ClassTooLarge, Err: fmt.Errorf("body exceeds limit of %d bytes", maxBody)}
		}
		res.body, res.truncated = res.body[:maxBody], true
		return res, nil
	}
	if err != nil {
		return res, bodyError(parent, attempt, wire, err)
	}
	return res, nil
}

// bodyError classifies a failure while reading a body: an error of the connection itself (timeout, reset) keeps its
// network class; anything else was raised by a decompressor and is ClassDecode.
func bodyError(parent, attempt context.Context, wire *wireReader, err error) *Error {
	if wire.err != nil || parent.Err() != nil || attempt.Err() != nil {
		return &Error{Class: classify(parent, attempt, cmp.Or(wire.err, err)), Err: fmt.Errorf("read body: %w", err)}
	}
	return &Error{Class: ClassDecode, Err: fmt.Errorf("decode body: %w", err)}
}

// contentCodings returns the Content-Encoding codings in the order they were applied, without identity.
func contentCodings(h http.Header) []string {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	return codings
}

// decoder returns a reader that undoes one content coding.
func decoder(coding string, r io.Reader) (io.Reader, error) {
	switch coding {
	case "gzip", "x-gzip":
		return gzip.NewReader(r)
	case "deflate":
		// RFC 9110 "deflate" is zlib-wrapped, but many servers send raw DEFLATE; tell them apart by the zlib header.
		br := bufio.NewReader(r)
		if h, err := br.Peek(2); err == nil && isZlibHeader(h) {
			return zlib.NewReader(br)
		}
		return flate.NewReader(br), nil
	default:
		return nil, fmt.Errorf("unsupported content encoding %q", coding)
	}
}

// isZlibHeader reports whether h starts a zlib stream (RFC 1950): compression method 8 and a valid header checksum.
func isZlibHeader(h []byte) bool {
	return h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0
}

// wireReader counts the bytes read from the connection and remembers the connection's own error, which tells
// network failures apart from decompression failures.
type wireReader struct {
	r   io.Reader
	n   int64
	err error
}

func (w *wireReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		w.err = err
	}
	return n, err
}
