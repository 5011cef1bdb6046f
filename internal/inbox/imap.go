// Package inbox reads partner replies: it fetches new messages from the
// finance mailbox over IMAP by UID (with UIDVALIDITY), classifies each one
// (auto-reply, bounce, human), finds the batch it answers and reads a
// returned master file. It knows nothing about the database: the
// application layer stores what it finds.
package inbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// DefaultMaxMessageBytes is the largest message read; bigger ones are
// recorded without their body.
const DefaultMaxMessageBytes = 25 << 20

// fetchChunk is how many messages one UID FETCH of bodies asks for.
const fetchChunk = 50

// Mailbox is where partner replies arrive, parsed from IMAP_URL.
type Mailbox struct {
	// TLS is true for imaps:// (implicit TLS); imap:// is plain (dev and tests only).
	TLS bool
	// Addr is host:port.
	Addr string
	// User and Password log in; never logged.
	User, Password string
	// Name is the mailbox (default INBOX).
	Name string
	// MoveTo names the folder processed messages are moved to; "" leaves them.
	MoveTo string
	// TLSConfig overrides the TLS configuration (tests).
	TLSConfig *tls.Config
	// MaxMessageBytes caps a message's size (default DefaultMaxMessageBytes).
	MaxMessageBytes int64
	// BeforeMove, when set, runs after every message was handled and before
	// any is moved to MoveTo (the caller makes its records durable).
	BeforeMove func(ctx context.Context, uidValidity, lastUID uint32) error
}

// ParseURL reads an IMAP_URL: imap[s]://user:pass@host[:port][/MAILBOX].
func ParseURL(raw, moveTo string) (Mailbox, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Hostname() == "" {
		return Mailbox{}, errors.New("inbox: IMAP_URL must look like imaps://user:pass@host/INBOX")
	}
	m := Mailbox{TLS: u.Scheme == "imaps", Name: strings.Trim(u.Path, "/"), MoveTo: strings.TrimSpace(moveTo)}
	if m.Name == "" {
		m.Name = "INBOX"
	}
	port := u.Port()
	if port == "" {
		port = "143"
		if m.TLS {
			port = "993"
		}
	}
	m.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		m.User = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	return m, nil
}

// Key names the mailbox in the UID state: user@host:port/MAILBOX.
func (m Mailbox) Key() string { return m.User + "@" + m.Addr + "/" + m.Name }

// Fetched is one new message of the mailbox.
type Fetched struct {
	UIDValidity uint32
	UID         uint32
	// InternalDate is when the server received it.
	InternalDate time.Time
	Size         int64
	// Raw is the whole message; nil when it is bigger than MaxMessageBytes.
	Raw []byte
}

// PollStats sums up one poll.
type PollStats struct {
	UIDValidity uint32
	// Seen is how many new UIDs the poll found; Handled how many handle accepted.
	Seen, Handled int
	Moved         int
}

// StateFunc returns the last UID already processed for a UIDVALIDITY (0 when none).
type StateFunc func(ctx context.Context, uidValidity uint32) (lastUID uint32, err error)

// HandleFunc processes one message, in UID order; it must record the UID as
// processed in the same transaction that stores the message.
type HandleFunc func(ctx context.Context, m Fetched) error

// Poll connects, selects the mailbox, asks state for the last UID processed
// under the mailbox's current UIDVALIDITY, and hands every newer message to
// handle in UID order. The mailbox is opened read-only unless MoveTo is set;
// messages are never deleted, only moved to MoveTo after handle succeeded.
func (m Mailbox) Poll(ctx context.Context, state StateFunc, handle HandleFunc) (PollStats, error) {
	var st PollStats
	c, err := m.dial(ctx)
	if err != nil {
		return st, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(m.User, m.Password).Wait(); err != nil {
		return st, fmt.Errorf("inbox: login to %s: %w", m.Addr, err)
	}
	sel, err := c.Select(m.Name, &imap.SelectOptions{ReadOnly: m.MoveTo == ""}).Wait()
	if err != nil {
		return st, fmt.Errorf("inbox: select %q: %w", m.Name, err)
	}
	st.UIDValidity = sel.UIDValidity
	last, err := state(ctx, sel.UIDValidity)
	if err != nil {
		return st, err
	}
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && uint32(sel.UIDNext) <= last+1) {
		return st, c.Logout().Wait()
	}
	// Which UIDs are new, and how big they are ("last+1:*" also returns the
	// highest message when nothing is newer, so filter).
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	metas, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}).Collect()
	if err != nil {
		return st, fmt.Errorf("inbox: fetch UIDs: %w", err)
	}
	sort.Slice(metas, func(i, j int) bool { return metas[i].UID < metas[j].UID })
	var todo []*imapclient.FetchMessageBuffer
	for _, md := range metas {
		if uint32(md.UID) > last {
			todo = append(todo, md)
		}
	}
	st.Seen = len(todo)
	maxBytes := m.MaxMessageBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var moved imap.UIDSet
	for start := 0; start < len(todo); start += fetchChunk {
		chunk := todo[start:min(start+fetchChunk, len(todo))]
		var want imap.UIDSet
		for _, md := range chunk {
			if md.RFC822Size <= maxBytes {
				want.AddNum(md.UID)
			}
		}
		bodies := map[imap.UID][]byte{}
		if len(want) > 0 {
			bufs, err := c.Fetch(want, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
			if err != nil {
				return st, fmt.Errorf("inbox: fetch bodies: %w", err)
			}
			for _, b := range bufs {
				bodies[b.UID] = b.FindBodySection(section)
			}
		}
		for _, md := range chunk {
			f := Fetched{UIDValidity: sel.UIDValidity, UID: uint32(md.UID), InternalDate: md.InternalDate, Size: md.RFC822Size, Raw: bodies[md.UID]}
			if err := handle(ctx, f); err != nil {
				return st, err
			}
			st.Handled++
			moved.AddNum(md.UID)
		}
	}
	if m.MoveTo != "" && len(moved) > 0 {
		if m.BeforeMove != nil {
			if err := m.BeforeMove(ctx, sel.UIDValidity, uint32(todo[len(todo)-1].UID)); err != nil {
				return st, err
			}
		}
		if _, err := c.Move(moved, m.MoveTo).Wait(); err != nil {
			return st, fmt.Errorf("inbox: move to %q: %w", m.MoveTo, err)
		}
		st.Moved = st.Handled
	}
	return st, c.Logout().Wait()
}

func (m Mailbox) dial(ctx context.Context) (*imapclient.Client, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return nil, fmt.Errorf("inbox: connect to %s: %w", m.Addr, err)
	}
	if m.TLS {
		cfg := m.TLSConfig
		if cfg == nil {
			host, _, _ := net.SplitHostPort(m.Addr)
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("inbox: TLS with %s: %w", m.Addr, err)
		}
		conn = tc
	}
	return imapclient.New(conn, nil), nil
}
