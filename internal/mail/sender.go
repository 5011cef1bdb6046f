package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ErrConnect is wrapped by Send errors that happened before the SMTP transaction started
// (dial, greeting, EHLO, STARTTLS, AUTH): nothing was sent.
var ErrConnect = errors.New("mail: cannot connect to SMTP server")

// DefaultTimeout bounds each SMTP step (dial and handshake, then the whole transaction).
const DefaultTimeout = 60 * time.Second

// SenderOptions tunes a Sender; the zero value uses the defaults.
type SenderOptions struct {
	// Timeout bounds the connection and the transaction; DefaultTimeout when zero.
	Timeout time.Duration
	// HELO is the name sent in EHLO; the host name when empty.
	HELO string
	// TLSConfig is used for smtps:// and STARTTLS; system roots and TLS 1.2+ when nil.
	// An empty ServerName is set to the URL's host.
	TLSConfig *tls.Config
}

// Sender sends Messages to one SMTP server; it is safe for concurrent use.
type Sender struct {
	host        string
	port        int
	implicitTLS bool
	tlsPolicy   gomail.TLSPolicy
	user, pass  string
	auth        gomail.SMTPAuthType
	timeout     time.Duration
	helo        string
	tlsConfig   *tls.Config
	addr        string
}

// NewSender returns a Sender for smtpURL:
//
//	smtp://[user:pass@]host[:port][?starttls=opportunistic|mandatory|none][&auth=MECH]
//	smtps://[user:pass@]host[:port][?auth=MECH]
//
// smtp:// defaults to port 25 and opportunistic STARTTLS (used when the server offers it,
// so the local sink works in plain text); starttls=mandatory refuses servers without it
// and starttls=none never upgrades. smtps:// is implicit TLS, default port 465. With a
// user in the URL, AUTH is done with auth=plain (default; needs TLS), login, cram-md5,
// scram-sha-1, scram-sha-256, xoauth2, autodiscover, or plain-noenc/login-noenc (allowed
// without TLS). User and password are URL-decoded.
func NewSender(smtpURL string, opts SenderOptions) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		// The url error repeats the input, password included: do not wrap it.
		return nil, errors.New("mail: SMTP URL is not a valid URL")
	}
	s := &Sender{timeout: opts.Timeout, helo: opts.HELO}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	switch u.Scheme {
	case "smtp":
		s.port = 25
		s.tlsPolicy = gomail.TLSOpportunistic
	case "smtps":
		s.port = 465
		s.implicitTLS = true
		s.tlsPolicy = gomail.NoTLS // already TLS: never STARTTLS inside it
	default:
		return nil, fmt.Errorf("mail: SMTP URL %s: scheme must be smtp or smtps", u.Redacted())
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("mail: SMTP URL %s: host is missing", u.Redacted())
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: SMTP URL %s: bad port %q", u.Redacted(), p)
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("mail: SMTP URL %s: unexpected path %q", u.Redacted(), u.Path)
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.auth = gomail.SMTPAuthPlain
	}
	for key, vals := range u.Query() {
		if len(vals) != 1 {
			return nil, fmt.Errorf("mail: SMTP URL %s: %s given %d times", u.Redacted(), key, len(vals))
		}
		v := strings.ToLower(vals[0])
		switch key {
		case "starttls":
			if s.implicitTLS {
				return nil, fmt.Errorf("mail: SMTP URL %s: starttls does not apply to smtps", u.Redacted())
			}
			switch v {
			case "opportunistic":
				s.tlsPolicy = gomail.TLSOpportunistic
			case "mandatory":
				s.tlsPolicy = gomail.TLSMandatory
			case "none":
				s.tlsPolicy = gomail.NoTLS
			default:
				return nil, fmt.Errorf("mail: SMTP URL %s: starttls=%q, want opportunistic, mandatory or none", u.Redacted(), v)
			}
		case "auth":
			mech, ok := authMechs[v]
			if !ok {
				return nil, fmt.Errorf("mail: SMTP URL %s: unsupported auth=%q", u.Redacted(), v)
			}
			if u.User == nil {
				return nil, fmt.Errorf("mail: SMTP URL %s: auth=%s needs a user", u.Redacted(), v)
			}
			s.auth = mech
		default:
			return nil, fmt.Errorf("mail: SMTP URL %s: unknown parameter %q", u.Redacted(), key)
		}
	}
	if opts.TLSConfig != nil {
		s.tlsConfig = opts.TLSConfig.Clone()
		if s.tlsConfig.ServerName == "" {
			s.tlsConfig.ServerName = s.host
		}
	} else {
		s.tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	s.addr = net.JoinHostPort(s.host, strconv.Itoa(s.port))
	// Surface option errors now rather than on the first send.
	if _, err := s.client(nil); err != nil {
		return nil, fmt.Errorf("mail: SMTP URL %s: %w", u.Redacted(), err)
	}
	return s, nil
}

// authMechs maps the auth= URL parameter to go-mail's mechanisms.
var authMechs = map[string]gomail.SMTPAuthType{
	"plain":         gomail.SMTPAuthPlain,
	"plain-noenc":   gomail.SMTPAuthPlainNoEnc,
	"login":         gomail.SMTPAuthLogin,
	"login-noenc":   gomail.SMTPAuthLoginNoEnc,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
	"xoauth2":       gomail.SMTPAuthXOAUTH2,
	"autodiscover":  gomail.SMTPAuthAutoDiscover,
}

// Addr returns the host:port the Sender connects to.
func (s *Sender) Addr() string { return s.addr }

// client returns a go-mail client whose connections are dialled by dial (nil: a plain
// dialer, used only to validate options).
func (s *Sender) client(dial gomail.DialContextFunc) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSPolicy(s.tlsPolicy),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	if dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(dial))
	}
	if s.helo != "" {
		opts = append(opts, gomail.WithHELO(s.helo))
	}
	if s.auth != "" {
		opts = append(opts, gomail.WithSMTPAuth(s.auth), gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	return gomail.NewClient(s.host, opts...)
}

// Send delivers m in one SMTP transaction on a new connection and returns the server's
// final reply (e.g. "250 2.0.0 OK: queued"). Classify tells what an error means for the
// outbox. Cancelling ctx closes the connection: if that happens after the body was sent,
// the outcome is Unknown.
func (s *Sender) Send(ctx context.Context, m Message) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	msg, err := buildMsg(m, time.Now())
	if err != nil {
		return "", err
	}

	var conn net.Conn
	stop := func() bool { return false }
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if s.implicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			c, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		return c, nil
	}
	defer func() { stop() }()

	client, err := s.client(dial)
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", ErrConnect, s.addr, err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			_ = conn.Close()
		}
		return "", fmt.Errorf("%w %s: %w", ErrConnect, s.addr, err)
	}
	sendErr := client.SendWithSMTPClient(sc, msg)
	// QUIT; a failure here does not change what happened to the message.
	_ = client.CloseWithSMTPClient(sc)
	_ = conn.Close()

	if msg.IsDelivered() {
		return "250 " + msg.ServerResponse(), nil
	}
	if sendErr == nil {
		// go-mail reports no error but did not mark the message delivered: be conservative.
		return "", fmt.Errorf("mail: send %s to %s: no delivery confirmation", m.MessageID, s.addr)
	}
	return "", fmt.Errorf("mail: send %s to %s: %w", m.MessageID, s.addr, sendErr)
}

// Render returns m as the RFC 5322 bytes Send would transmit, with now as the Date when
// m.Date is zero.
func Render(m Message, now time.Time) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	msg, err := buildMsg(m, now)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mail: render %s: %w", m.MessageID, err)
	}
	return buf.Bytes(), nil
}

// buildMsg turns a validated Message into a go-mail message.
func buildMsg(m Message, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	invalid := func(what string, err error) error {
		return fmt.Errorf("%w: %s: %v", ErrInvalidMessage, what, err)
	}
	if err := msg.From(m.From); err != nil {
		return nil, invalid("From", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, invalid("To", err)
	}
	if len(m.Cc) > 0 {
		if err := msg.Cc(m.Cc...); err != nil {
			return nil, invalid("Cc", err)
		}
	}
	msg.Subject(m.Subject)
	// go-mail adds the angle brackets; without this it would generate its own id.
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	date := m.Date
	if date.IsZero() {
		date = now
	}
	msg.SetDateWithValue(date)
	if m.InReplyTo != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, m.InReplyTo)
	}
	if m.References != "" {
		msg.SetGenHeader(gomail.HeaderReferences, m.References)
	}
	if m.ThreadTopic != "" {
		msg.SetGenHeader(headerThreadTopic, m.ThreadTopic)
	}
	if m.ThreadIndex != "" {
		msg.SetGenHeader(headerThreadIndex, m.ThreadIndex)
	}
	msg.SetGenHeader(headerAutoSubmitted, AutoSubmitted)
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, AutoResponseSuppress)

	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct)))
	}
	return msg, nil
}
