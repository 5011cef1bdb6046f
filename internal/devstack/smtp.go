package devstack

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Stage is the point of an SMTP transaction at which a scripted Action applies.
type Stage int

// The stages of an SMTP transaction that can be scripted.
const (
	// AtMail is the MAIL FROM command.
	AtMail Stage = iota + 1
	// AtRcpt is each RCPT TO command.
	AtRcpt
	// AtData is the end of the DATA phase: the body has been received, the reply not yet sent.
	AtData
)

// String returns the SMTP command name of the stage.
func (s Stage) String() string {
	switch s {
	case AtMail:
		return "MAIL"
	case AtRcpt:
		return "RCPT"
	case AtData:
		return "DATA"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Event describes the command a script is asked to answer.
type Event struct {
	// Stage is the command being answered.
	Stage Stage
	// From is the envelope sender (empty before MAIL).
	From string
	// To holds the recipients accepted so far in this transaction.
	To []string
	// Rcpt is the recipient of the RCPT command being answered (AtRcpt only).
	Rcpt string
	// Data is the received message (AtData only).
	Data []byte
}

// Action is how the server answers one scripted command; the zero value accepts.
type Action struct {
	// Code is the SMTP reply code; 0 or 2xx accepts, 4xx is a temporary and 5xx a permanent error.
	Code int
	// Message is the reply text for an error code.
	Message string
	// Drop closes the TCP connection instead of replying. At AtData the message counts as
	// received (as if the server queued it and the reply was lost).
	Drop bool
	// Delay is waited before the reply (or the drop); if the server closes meanwhile, the
	// connection is dropped instead.
	Delay time.Duration
}

// Accept returns the Action that accepts the command.
func Accept() Action { return Action{} }

// Reply returns an Action answering with the given SMTP code and text.
func Reply(code int, message string) Action { return Action{Code: code, Message: message} }

// Drop returns the Action that closes the connection without replying.
func Drop() Action { return Action{Drop: true} }

// Delayed returns a copy of a that waits d before answering.
func Delayed(d time.Duration, a Action) Action {
	a.Delay = d
	return a
}

// Received is one message accepted by the SMTP server.
type Received struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To holds the envelope recipients (RCPT TO).
	To []string
	// Data is the message as received (headers and body, CRLF line ends).
	Data []byte
	// At is when the body was received.
	At time.Time
	// TLS reports whether the message arrived over TLS (implicit or STARTTLS).
	TLS bool
}

// SMTPOptions configures StartSMTP; the zero value is a usable in-memory sink.
type SMTPOptions struct {
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// Domain is announced in the greeting; default "localhost".
	Domain string
	// OnMessage is called for every accepted message; an error answers 451 and drops the
	// message. It may be called from several connections at once. When nil, messages are
	// kept in memory (see Messages).
	OnMessage func(Received) error
	// KeepMessages keeps messages in memory even when OnMessage is set.
	KeepMessages bool
	// MaxMessageBytes limits a message's size; default 32 MiB.
	MaxMessageBytes int64
	// ErrorLog receives the server's connection errors; default discards them.
	ErrorLog *log.Logger
	// TLSConfig, when set, makes the server offer STARTTLS (or, with ImplicitTLS, speak
	// TLS from the first byte).
	TLSConfig *tls.Config
	// ImplicitTLS serves SMTP inside TLS (smtps); it needs TLSConfig.
	ImplicitTLS bool
}

// SMTPServer is an in-process SMTP server whose replies can be scripted per command.
type SMTPServer struct {
	srv      *smtp.Server
	ln       net.Listener
	opts     SMTPOptions
	done     chan struct{}
	closeErr error
	once     sync.Once

	mu       sync.Mutex
	messages []Received
	script   func(Event) Action
	queues   map[Stage][]Action
}

// StartSMTP starts an SMTP server listening on opts.Addr (default 127.0.0.1:0).
func StartSMTP(opts SMTPOptions) (*SMTPServer, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 32 << 20
	}
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	if opts.ImplicitTLS && opts.TLSConfig == nil {
		return nil, errors.New("devstack: smtp ImplicitTLS needs a TLSConfig")
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devstack: smtp listen on %s: %w", opts.Addr, err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, opts.TLSConfig)
	}
	s := &SMTPServer{
		ln:     ln,
		opts:   opts,
		done:   make(chan struct{}),
		queues: make(map[Stage][]Action),
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{server: s, conn: c}, nil
	}))
	srv.Domain = opts.Domain
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = opts.ErrorLog
	if opts.TLSConfig != nil && !opts.ImplicitTLS {
		srv.TLSConfig = opts.TLSConfig
	}
	s.srv = srv
	go func() {
		if err := srv.Serve(ln); err != nil {
			opts.ErrorLog.Printf("devstack: smtp serve: %v", err)
		}
	}()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *SMTPServer) Addr() string { return s.ln.Addr().String() }

// URL returns the server's URL: smtp://host:port, or smtps:// with ImplicitTLS. The
// server offers no AUTH.
func (s *SMTPServer) URL() string {
	if s.opts.ImplicitTLS {
		return "smtps://" + s.Addr()
	}
	return "smtp://" + s.Addr()
}

// Close stops the server and closes every open connection; it is safe to call twice.
func (s *SMTPServer) Close() error {
	s.once.Do(func() {
		close(s.done)
		// Close the listener ourselves too: go-smtp only knows it once Serve has started.
		for _, err := range []error{s.ln.Close(), s.srv.Close()} {
			if err != nil && !errors.Is(err, net.ErrClosed) && s.closeErr == nil {
				s.closeErr = err
			}
		}
	})
	return s.closeErr
}

// Messages returns a snapshot of the messages kept in memory, in arrival order.
func (s *SMTPServer) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	for i, m := range s.messages {
		out[i] = Received{
			From: m.From,
			To:   append([]string(nil), m.To...),
			Data: append([]byte(nil), m.Data...),
			At:   m.At,
			TLS:  m.TLS,
		}
	}
	return out
}

// CountByMessageID counts the messages kept in memory per Message-ID header value
// (angle brackets included, surrounding space trimmed); "" counts messages without one.
func (s *SMTPServer) CountByMessageID() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make(map[string]int)
	for _, m := range s.messages {
		id := ""
		if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
			id = strings.TrimSpace(msg.Header.Get("Message-Id"))
		}
		counts[id]++
	}
	return counts
}

// Script sets the function that answers every scripted command not covered by a queued
// Action; nil (the default) accepts everything.
func (s *SMTPServer) Script(fn func(Event) Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = fn
}

// Queue appends one-shot actions for a stage: each command at that stage consumes the next
// one, and once the queue is empty the Script (or accept) applies again.
func (s *SMTPServer) Queue(stage Stage, actions ...Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[stage] = append(s.queues[stage], actions...)
}

// ResetScript clears the script and every queued action.
func (s *SMTPServer) ResetScript() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = nil
	s.queues = make(map[Stage][]Action)
}

// next decides the action for ev: the stage's queue first, then the script, then accept.
func (s *SMTPServer) next(ev Event) Action {
	s.mu.Lock()
	if q := s.queues[ev.Stage]; len(q) > 0 {
		a := q[0]
		s.queues[ev.Stage] = q[1:]
		s.mu.Unlock()
		return a
	}
	fn := s.script
	s.mu.Unlock()
	if fn == nil {
		return Accept()
	}
	return fn(ev)
}

// deliver hands an accepted message to OnMessage and/or memory.
func (s *SMTPServer) deliver(r Received) error {
	var err error
	if s.opts.OnMessage != nil {
		err = s.opts.OnMessage(r)
	}
	if err == nil && (s.opts.OnMessage == nil || s.opts.KeepMessages) {
		s.mu.Lock()
		s.messages = append(s.messages, r)
		s.mu.Unlock()
	}
	return err
}

// wait sleeps for d; it returns false if the server closed first.
func (s *SMTPServer) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// errDropped is returned to go-smtp after the connection was closed on purpose; the reply
// it would cause cannot be written.
var errDropped = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "connection dropped"}

// session is one SMTP connection's transaction state.
type session struct {
	server *SMTPServer
	conn   *smtp.Conn
	from   string
	to     []string
}

// answer applies a: waits, drops the connection or turns the code into an SMTP error.
func (se *session) answer(a Action) error {
	if !se.server.wait(a.Delay) || a.Drop {
		_ = se.conn.Conn().Close()
		return errDropped
	}
	if a.Code == 0 || (a.Code >= 200 && a.Code < 300) {
		return nil
	}
	msg := a.Message
	if msg == "" {
		msg = fmt.Sprintf("scripted reply %d", a.Code)
	}
	return &smtp.SMTPError{Code: a.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

// Mail handles MAIL FROM.
func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	a := se.server.next(Event{Stage: AtMail, From: from})
	if err := se.answer(a); err != nil {
		return err
	}
	se.from = from
	return nil
}

// Rcpt handles RCPT TO.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	a := se.server.next(Event{Stage: AtRcpt, From: se.from, To: append([]string(nil), se.to...), Rcpt: to})
	if err := se.answer(a); err != nil {
		return err
	}
	se.to = append(se.to, to)
	return nil
}

// Data reads the whole body, then answers as scripted.
func (se *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := se.conn.TLSConnectionState()
	rec := Received{From: se.from, To: append([]string(nil), se.to...), Data: body, At: time.Now(), TLS: isTLS}
	a := se.server.next(Event{Stage: AtData, From: rec.From, To: rec.To, Data: body})
	if a.Drop {
		// The body arrived: keep it as a real server would, then lose the reply.
		if se.server.wait(a.Delay) {
			_ = se.server.deliver(rec)
		}
		a.Delay = 0
		return se.answer(a)
	}
	if err := se.answer(a); err != nil {
		return err
	}
	if err := se.server.deliver(rec); err != nil {
		se.server.opts.ErrorLog.Printf("devstack: smtp OnMessage: %v", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not store message"}
	}
	return nil
}

// Reset clears the transaction.
func (se *session) Reset() {
	se.from = ""
	se.to = nil
}

// Logout ends the session.
func (se *session) Logout() error { return nil }
