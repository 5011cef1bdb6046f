package devstack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPOptions configure the in-process IMAP server.
type IMAPOptions struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// User and Password log in (defaults finance / finance).
	User, Password string
	// Mailbox is created at start (default INBOX).
	Mailbox string
	// ErrorLog receives server errors; nil discards them.
	ErrorLog *log.Logger
}

// IMAPServer is an in-memory IMAP server (go-imap's imapmemserver) for `dev`
// and tests: the finance mailbox partner replies arrive in.
type IMAPServer struct {
	opts   IMAPOptions
	ln     net.Listener
	srv    *imapserver.Server
	user   *imapmemserver.User
	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

// StartIMAP starts the server and returns once it listens.
func StartIMAP(opts IMAPOptions) (*IMAPServer, error) {
	if opts.User == "" {
		opts.User, opts.Password = "finance", "finance"
	}
	if opts.Mailbox == "" {
		opts.Mailbox = "INBOX"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(opts.User, opts.Password)
	if err := user.Create(opts.Mailbox, nil); err != nil {
		return nil, err
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, dev and tests
		Logger:       opts.ErrorLog,
	})
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devstack: IMAP listen: %w", err)
	}
	s := &IMAPServer{opts: opts, ln: ln, srv: srv, user: user, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); err != nil && !s.isClosed() {
			opts.ErrorLog.Printf("devstack: IMAP server: %v", err)
		}
	}()
	return s, nil
}

func (s *IMAPServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// URL is the IMAP_URL of the server's mailbox.
func (s *IMAPServer) URL() string {
	u := url.URL{Scheme: "imap", User: url.UserPassword(s.opts.User, s.opts.Password), Host: s.ln.Addr().String(), Path: "/" + s.opts.Mailbox}
	return u.String()
}

// Deliver appends a raw message to the mailbox, as a mail server would.
func (s *IMAPServer) Deliver(raw []byte) error {
	return s.DeliverTo(s.opts.Mailbox, raw)
}

// DeliverTo appends a raw message to a named mailbox.
func (s *IMAPServer) DeliverTo(mailbox string, raw []byte) error {
	return s.DeliverAt(mailbox, raw, time.Now())
}

// DeliverAt appends a raw message to a named mailbox with its arrival time
// (the IMAP INTERNALDATE).
func (s *IMAPServer) DeliverAt(mailbox string, raw []byte, at time.Time) error {
	_, err := s.user.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: at})
	return err
}

// Mailbox is the name of the server's mailbox.
func (s *IMAPServer) Mailbox() string { return s.opts.Mailbox }

// CreateMailbox adds a folder (e.g. the IMAP_MOVE_TO target).
func (s *IMAPServer) CreateMailbox(name string) error { return s.user.Create(name, nil) }

// RecreateMailbox deletes and re-creates the mailbox empty: its UIDVALIDITY
// changes, as when a mail server rebuilds a folder.
func (s *IMAPServer) RecreateMailbox() error {
	if err := s.user.Delete(s.opts.Mailbox); err != nil {
		return err
	}
	return s.user.Create(s.opts.Mailbox, nil)
}

// Count returns the number of messages in a mailbox.
func (s *IMAPServer) Count(mailbox string) (int, error) {
	st, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return 0, err
	}
	if st.NumMessages == nil {
		return 0, errors.New("devstack: no message count")
	}
	return int(*st.NumMessages), nil
}

// Close stops the server.
func (s *IMAPServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	<-s.done
	return err
}

// literal is a message as imap.LiteralReader.
type literal struct{ *bytes.Reader }

// Addr is the listen address (host:port).
func (s *IMAPServer) Addr() string { return s.ln.Addr().String() }
