package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// maxPartDepth bounds multipart nesting in Parse.
const maxPartDepth = 16

// Parsed is a received message split into headers, bodies and attachments.
type Parsed struct {
	// Header holds every top-level header field, unfolded and not decoded.
	Header netmail.Header
	// From, To and Cc are the addresses as "Name <addr>" or "addr", names decoded.
	From string
	To   []string
	Cc   []string
	// Subject and ThreadTopic are decoded (RFC 2047).
	Subject     string
	ThreadTopic string
	// MessageID, InReplyTo, References and ThreadIndex are the header values with runs of
	// whitespace collapsed to one space.
	MessageID   string
	InReplyTo   string
	References  string
	ThreadIndex string
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time
	// Text and HTML are the first text/plain and text/html parts that are not attachments,
	// decoded to UTF-8 with LF line endings.
	Text string
	HTML string
	// Attachments lists every other leaf part in order; ContentType is the media type
	// without parameters.
	Attachments []Attachment
}

// ErrParse is wrapped by Parse errors.
var ErrParse = errors.New("mail: cannot parse message")

// wordDecoder decodes RFC 2047 words in UTF-8, US-ASCII, ISO-8859-1 and Windows-1252.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	s, ok := toUTF8(charset, b)
	if !ok {
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	return strings.NewReader(s), nil
}}

// Parse splits a raw RFC 5322 message into headers, text and HTML bodies and attachments.
// Parts whose transfer encoding cannot be decoded are kept as they are.
func Parse(raw []byte) (*Parsed, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	h := msg.Header
	p := &Parsed{
		Header:      h,
		Subject:     decodeWords(h.Get("Subject")),
		ThreadTopic: decodeWords(h.Get("Thread-Topic")),
		MessageID:   oneLine(h.Get("Message-Id")),
		InReplyTo:   oneLine(h.Get("In-Reply-To")),
		References:  oneLine(h.Get("References")),
		ThreadIndex: oneLine(h.Get("Thread-Index")),
	}
	if d, err := h.Date(); err == nil {
		p.Date = d
	}
	if from := addresses(h, "From"); len(from) > 0 {
		p.From = from[0]
	}
	p.To = addresses(h, "To")
	p.Cc = addresses(h, "Cc")
	if err := p.walk(textproto.MIMEHeader(h), body, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// walk adds one MIME entity (recursively for multiparts) to p.
func (p *Parsed) walk(h textproto.MIMEHeader, body []byte, depth int) error {
	if depth > maxPartDepth {
		return fmt.Errorf("%w: multipart nesting deeper than %d", ErrParse, maxPartDepth)
	}
	mediaType, params := "text/plain", map[string]string{}
	if ct := h.Get("Content-Type"); ct != "" {
		mt, ps, err := mime.ParseMediaType(ct)
		if err != nil {
			mt, ps = "application/octet-stream", map[string]string{}
		}
		mediaType, params = mt, ps
	}
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)

	if strings.HasPrefix(mediaType, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%w: %s without boundary", ErrParse, mediaType)
		}
		mr := multipart.NewReader(bytes.NewReader(data), boundary)
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrParse, mediaType, err)
			}
			partBody, err := io.ReadAll(part)
			if err != nil {
				return fmt.Errorf("%w: %s part: %v", ErrParse, mediaType, err)
			}
			if err := p.walk(part.Header, partBody, depth+1); err != nil {
				return err
			}
		}
	}

	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWords(name)
	isBody := (mediaType == "text/plain" || mediaType == "text/html") && disposition != "attachment" && name == ""
	if isBody {
		text, ok := toUTF8(params["charset"], data)
		if !ok {
			text = string(data)
		}
		text = strings.ReplaceAll(text, "\r\n", "\n")
		switch {
		case mediaType == "text/plain" && p.Text == "":
			p.Text = text
			return nil
		case mediaType == "text/html" && p.HTML == "":
			p.HTML = text
			return nil
		}
	}
	p.Attachments = append(p.Attachments, Attachment{Name: name, ContentType: mediaType, Data: data})
	return nil
}

// decodeTransfer undoes a Content-Transfer-Encoding; unknown or broken encodings give body.
func decodeTransfer(cte string, body []byte) []byte {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Map(func(c rune) rune {
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				return -1
			}
			return c
		}, body)))
	case "quoted-printable":
		r = quotedprintable.NewReader(bytes.NewReader(body))
	default:
		return body
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return body
	}
	return out
}

// toUTF8 converts b from charset to UTF-8; ok is false for charsets it does not know.
func toUTF8(charset string, b []byte) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return string(b), true
	case "iso-8859-1", "latin1", "iso_8859-1", "windows-1252", "cp1252":
		// Windows-1252 is read as Latin-1: only 0x80–0x9F differ, and those are rare here.
		var sb strings.Builder
		sb.Grow(len(b))
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return sb.String(), true
	}
	return "", false
}

// decodeWords decodes RFC 2047 encoded words, returning s unchanged when it cannot.
func decodeWords(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil || !utf8.ValidString(d) {
		return s
	}
	return d
}

// addresses returns the addresses of header key as "Name <addr>" or "addr"; an
// unparsable header is returned as one raw entry.
func addresses(h netmail.Header, key string) []string {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, err := (&netmail.AddressParser{WordDecoder: wordDecoder}).ParseList(v)
	if err != nil {
		return []string{decodeWords(v)}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		if a.Name != "" {
			out = append(out, a.Name+" <"+a.Address+">")
		} else {
			out = append(out, a.Address)
		}
	}
	return out
}
