package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Errors of a backend's HTTP/1.1 response on the fast path (all answered 502).
var (
	errBadResponse   = errors.New("malformed backend response")
	errBigResponse   = errors.New("backend response headers too large")
	errBadChunk      = errors.New("malformed chunked encoding from backend")
	errUnsupportedTE = errors.New("unsupported transfer encoding from backend")
)

// maxResponseHead bounds a backend's response head, as http.Transport's default does.
const maxResponseHead = 1 << 20

// respHead is a backend's response head, copied out of the backend connection's buffer (a
// header named by Connection may come after others, so the head is kept whole before any of
// it is written).
type respHead struct {
	raw           []byte // the head as read; the slices below point into it
	proto         []byte // HTTP/1.x
	status        int
	reason        []byte // the status line after the code, leading space included
	fields        []headerField
	contentLength int64 // -1: none
	chunked       bool
	close         bool // the backend closes after this response
}

// read reads one response head from br.
func (h *respHead) read(br *bufio.Reader) error {
	raw, fields := h.raw[:0], h.fields[:0]
	*h = respHead{contentLength: -1}
	lineStart := 0
	for {
		line, err := br.ReadSlice('\n')
		raw = append(raw, line...)
		if len(raw) > maxResponseHead {
			h.raw = raw
			return errBigResponse
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			h.raw = raw
			return err
		}
		l := raw[lineStart:]
		lineStart = len(raw)
		if len(bytes.TrimRight(l, "\r\n")) == 0 && len(raw) > len(l) {
			break
		}
	}
	h.raw = raw
	lines := raw
	var tokens [][]byte
	for first := true; ; first = false {
		var line []byte
		line, lines, _ = bytes.Cut(lines, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		if first {
			if err := h.statusLine(line); err != nil {
				return err
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return fmt.Errorf("%w: header line %q", errBadResponse, line)
		}
		f := headerField{name: line[:colon], value: bytes.Trim(line[colon+1:], " \t")}
		switch responseHeaderKind(f.name) {
		case hdrContentLength:
			n, err := strconv.ParseInt(string(f.value), 10, 64)
			if err != nil || n < 0 || (h.contentLength >= 0 && n != h.contentLength) {
				return fmt.Errorf("%w: Content-Length %q", errBadResponse, f.value)
			}
			h.contentLength = n
		case hdrTransferEncoding:
			if h.chunked || !bytes.EqualFold(f.value, []byte("chunked")) {
				return fmt.Errorf("%w: %q", errUnsupportedTE, f.value)
			}
			h.chunked, f.drop = true, true // written again, as the framing is kept
		case hdrConnection:
			f.drop = true
			for tok := range bytes.SplitSeq(f.value, []byte{','}) {
				tok = bytes.Trim(tok, " \t")
				if bytes.EqualFold(tok, []byte("close")) {
					h.close = true
				} else if len(tok) > 0 {
					tokens = append(tokens, tok)
				}
			}
		case hdrHop:
			f.drop = true
		}
		fields = append(fields, f)
	}
	for _, tok := range tokens {
		for i := range fields {
			if bytes.EqualFold(fields[i].name, tok) && responseHeaderKind(tok) == hdrOther {
				fields[i].drop = true
			}
		}
	}
	if h.status == 0 {
		return fmt.Errorf("%w: no status line", errBadResponse)
	}
	if h.chunked {
		h.contentLength = -1
	}
	h.fields = fields
	return nil
}

func (h *respHead) statusLine(line []byte) error {
	proto, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(proto) != 8 {
		return fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 100 || code > 999 || (len(rest) > 3 && rest[3] != ' ') {
		return fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	h.proto, h.status, h.reason = proto, code, rest[3:]
	if proto[7] == '0' {
		h.close = true // HTTP/1.0: kept alive only if asked for; tenbin never asks
	}
	return nil
}

// responseHeaderKind classifies what the proxy removes from a response: the hop-by-hop
// headers httputil.ReverseProxy removes, and the framing it writes itself.
func responseHeaderKind(name []byte) int {
	switch k := requestHeaderKind(name); k {
	case hdrContentLength, hdrConnection, hdrHop:
		return k
	case hdrTE:
		return hdrHop
	case hdrUnusual:
		if len(name) == len("transfer-encoding") {
			return hdrTransferEncoding
		}
		if len(name) == len("upgrade") {
			return hdrHop
		}
	}
	return hdrOther
}

// hdrTransferEncoding is only told apart in responses; in requests it is hdrUnusual.
const hdrTransferEncoding = hdrUnusual + 1

// bodyless reports whether a response to method with this status has no body (RFC 9112 6.3).
func (h *respHead) bodyless(method []byte) bool {
	return string(method) == "HEAD" || h.status < 200 || h.status == 204 || h.status == 304
}

// flushingReader reads at most n bytes from r and, before any read that would wait for the
// network, flushes w: a response that is already here leaves in one write with its head,
// while a streamed one reaches the client as the backend sends it.
type flushingReader struct {
	r     *bufio.Reader
	w     *bufio.Writer
	n     int64
	toEOF bool // the body ends when the backend closes
}

func (f *flushingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	if f.r.Buffered() == 0 && f.w.Buffered() > 0 {
		if err := f.w.Flush(); err != nil {
			return 0, &writeError{err}
		}
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	if errors.Is(err, io.EOF) && !f.toEOF && f.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// untilEOF is copyBody's n for a body that ends when the backend closes.
const untilEOF = 1<<63 - 1

// writeError marks a failure to write to the peer being copied to (so a copy error can be
// told to be the reader's or the writer's).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// errWriter is a bufio.Writer without ReadFrom (so io.CopyBuffer uses the pooled buffer and
// flushingReader decides when to flush) whose errors are writeErrors.
type errWriter struct{ w *bufio.Writer }

func (w errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// copyBody copies n bytes (or untilEOF) from r to w with a pooled buffer.
func copyBody(w *bufio.Writer, r *bufio.Reader, n int64) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	return io.CopyBuffer(errWriter{w}, &flushingReader{r: r, w: w, n: n, toEOF: n == untilEOF}, *bp)
}

// copyChunked forwards a chunked body as it is framed, trailers included, and returns the
// payload bytes. Parsing the framing is what tells where the response ends, so the backend
// connection can be used again.
func copyChunked(w *bufio.Writer, r *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := readLineFlushing(w, r)
		if err != nil {
			return total, err
		}
		size, err := chunkSize(line)
		if err != nil {
			return total, err
		}
		if _, err := w.Write(line); err != nil {
			return total, &writeError{err}
		}
		if size == 0 {
			for { // trailer fields, then the blank line
				line, err := readLineFlushing(w, r)
				if err != nil {
					return total, err
				}
				if _, err := w.Write(line); err != nil {
					return total, &writeError{err}
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return total, nil
				}
			}
		}
		n, err := copyBody(w, r, size)
		total += n
		if err != nil {
			return total, err
		}
		line, err = readLineFlushing(w, r)
		if err != nil {
			return total, err
		}
		if len(bytes.TrimRight(line, "\r\n")) != 0 {
			return total, errBadChunk
		}
		if _, err := w.Write(crlf); err != nil {
			return total, &writeError{err}
		}
	}
}

// readLineFlushing reads one line from r, first flushing w if the line is not all here yet.
func readLineFlushing(w *bufio.Writer, r *bufio.Reader) ([]byte, error) {
	if w.Buffered() > 0 {
		if b, _ := r.Peek(r.Buffered()); bytes.IndexByte(b, '\n') < 0 {
			if err := w.Flush(); err != nil {
				return nil, &writeError{err}
			}
		}
	}
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errBadChunk
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return line, err
}

// chunkSize parses a chunk-size line (extensions allowed and ignored).
func chunkSize(line []byte) (int64, error) {
	hex := bytes.TrimRight(line, "\r\n")
	if i := bytes.IndexByte(hex, ';'); i >= 0 {
		hex = hex[:i]
	}
	hex = bytes.Trim(hex, " \t")
	if len(hex) == 0 || len(hex) > 15 {
		return 0, errBadChunk
	}
	var n int64
	for _, c := range hex {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, errBadChunk
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}
