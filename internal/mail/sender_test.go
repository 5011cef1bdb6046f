package mail_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"recondesk/internal/devstack"
	"recondesk/internal/mail"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// fixture is a real in-process SMTP server and a Sender pointed at it.
type fixture struct {
	server *devstack.SMTPServer
	sender *mail.Sender
}

type setupOpts struct {
	timeout time.Duration // Sender timeout; 5s when zero
}

func setup(t *testing.T, o setupOpts) fixture {
	t.Helper()
	srv, err := devstack.StartSMTP(devstack.SMTPOptions{})
	if err != nil {
		t.Fatalf("StartSMTP: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	snd, err := mail.NewSender(srv.URL(), mail.SenderOptions{Timeout: o.timeout, HELO: "test.local"})
	if err != nil {
		t.Fatalf("NewSender(%q): %v", srv.URL(), err)
	}
	return fixture{server: srv, sender: snd}
}

// binaryData returns n bytes covering every byte value, like a real .xlsx (zip) file.
func binaryData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

var threadTimes = []time.Time{
	time.Date(2026, 2, 16, 8, 0, 0, 0, time.UTC),
	time.Date(2026, 2, 21, 8, 0, 0, 0, time.UTC),
	time.Date(2026, 2, 25, 8, 0, 0, 0, time.UTC),
}

// threadMessage returns message seq (1-based) of the test batch's thread.
func threadMessage(t *testing.T, seq int) mail.Message {
	t.Helper()
	th, err := mail.ThreadHeaders(mail.ThreadParams{
		BatchID: testBatch, Seq: seq, Domain: "rd.example",
		PartnerName: "Müller Laden AG", PartyID: "DE*MLA", Period: "2026-01",
		Times: threadTimes[:seq],
	})
	if err != nil {
		t.Fatalf("ThreadHeaders: %v", err)
	}
	m := mail.Message{
		From: "Recondesk <noreply@rd.example>",
		To:   []string{"Billing <billing@partner.example>"},
		Cc:   []string{"escalation@partner.example"},
		Text: "Level: Reminder\nOpen bookings: 3\nDeadline: 2026-02-28\n",
		HTML: "<p>Level: <b>Reminder</b></p>\n<p>Open bookings: 3 – Müller</p>\n",
		Attachments: []mail.Attachment{
			{Name: "faulty-bookings-DE-MLA-2026-01-v2.xlsx", ContentType: xlsxType, Data: binaryData(5000)},
		},
		Date: threadTimes[seq-1],
	}
	m.SetThread(th)
	return m
}

// received parses every message the server kept.
func received(t *testing.T, srv *devstack.SMTPServer) []*mail.Parsed {
	t.Helper()
	var out []*mail.Parsed
	for _, r := range srv.Messages() {
		p, err := mail.Parse(r.Data)
		if err != nil {
			t.Fatalf("Parse received message: %v\n%s", err, r.Data)
		}
		out = append(out, p)
	}
	return out
}

func TestSend_DeliversExactHeadersBodiesAndAttachment(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	m := threadMessage(t, 2)

	reply, err := f.sender.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := mail.Classify(err); got != mail.Sent {
		t.Errorf("Classify(nil) = %v, want sent", got)
	}
	if reply != "250 2.0.0 OK: queued" {
		t.Errorf("reply = %q, want the server's final reply", reply)
	}

	msgs := f.server.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	if msgs[0].From != "noreply@rd.example" {
		t.Errorf("envelope from = %q", msgs[0].From)
	}
	if got := strings.Join(msgs[0].To, ","); got != "billing@partner.example,escalation@partner.example" {
		t.Errorf("envelope recipients = %q", got)
	}

	p := received(t, f.server)[0]
	checks := []struct{ name, got, want string }{
		{"Message-ID", p.MessageID, "<rd." + testBatch + ".2@rd.example>"},
		{"In-Reply-To", p.InReplyTo, "<rd." + testBatch + ".1@rd.example>"},
		{"References", p.References, "<rd." + testBatch + ".1@rd.example>"},
		{"Subject", p.Subject, "Re: [Faulty bookings] Müller Laden AG (DE*MLA) 2026-01"},
		{"Thread-Topic", p.ThreadTopic, "[Faulty bookings] Müller Laden AG (DE*MLA) 2026-01"},
		{"Thread-Index", p.ThreadIndex, m.ThreadIndex},
		{"Auto-Submitted", p.Header.Get("Auto-Submitted"), "auto-generated"},
		{"X-Auto-Response-Suppress", p.Header.Get("X-Auto-Response-Suppress"), "OOF, AutoReply"},
		{"From", p.From, "Recondesk <noreply@rd.example>"},
		{"To", strings.Join(p.To, ","), "Billing <billing@partner.example>"},
		{"Cc", strings.Join(p.Cc, ","), "escalation@partner.example"},
		{"Text", p.Text, m.Text},
		{"HTML", p.HTML, m.HTML},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if n := len(p.Header["Message-Id"]); n != 1 {
		t.Errorf("message has %d Message-ID headers, want exactly 1", n)
	}
	if ua := p.Header.Get("User-Agent"); ua != "" {
		t.Errorf("User-Agent = %q, want none", ua)
	}
	if !p.Date.Equal(threadTimes[1]) {
		t.Errorf("Date = %v, want %v", p.Date, threadTimes[1])
	}
	if len(p.Attachments) != 1 {
		t.Fatalf("attachments = %d, want 1", len(p.Attachments))
	}
	a := p.Attachments[0]
	if a.Name != m.Attachments[0].Name || a.ContentType != xlsxType {
		t.Errorf("attachment = %q (%s), want %q (%s)", a.Name, a.ContentType, m.Attachments[0].Name, xlsxType)
	}
	if !bytes.Equal(a.Data, m.Attachments[0].Data) {
		t.Errorf("attachment bytes differ: got %d bytes, want %d", len(a.Data), len(m.Attachments[0].Data))
	}
	if c := f.server.CountByMessageID(); c[m.MessageID] != 1 || len(c) != 1 {
		t.Errorf("CountByMessageID = %v, want only %s once", c, m.MessageID)
	}
}

func TestSend_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stage     devstack.Stage
		action    devstack.Action
		want      mail.Outcome
		wantCount int // copies the server holds after the failed attempt
	}{
		{"421 at MAIL", devstack.AtMail, devstack.Reply(421, "busy"), mail.Temporary, 0},
		{"550 at MAIL", devstack.AtMail, devstack.Reply(550, "sender rejected"), mail.Permanent, 0},
		{"451 at RCPT", devstack.AtRcpt, devstack.Reply(451, "greylisted"), mail.Temporary, 0},
		{"550 at RCPT", devstack.AtRcpt, devstack.Reply(550, "no such user"), mail.Permanent, 0},
		{"452 at DATA", devstack.AtData, devstack.Reply(452, "mailbox full"), mail.Temporary, 0},
		{"554 at DATA", devstack.AtData, devstack.Reply(554, "content rejected"), mail.Permanent, 0},
		{"drop at MAIL", devstack.AtMail, devstack.Drop(), mail.Temporary, 0},
		{"drop at RCPT", devstack.AtRcpt, devstack.Drop(), mail.Temporary, 0},
		{"drop after body", devstack.AtData, devstack.Drop(), mail.Unknown, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, setupOpts{})
			m := threadMessage(t, 1)
			f.server.Queue(tt.stage, tt.action)

			reply, err := f.sender.Send(context.Background(), m)
			if err == nil {
				t.Fatalf("Send succeeded with reply %q, want an error", reply)
			}
			if got := mail.Classify(err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tt.want)
			}
			if reply != "" {
				t.Errorf("reply = %q, want empty on error", reply)
			}
			if got := f.server.CountByMessageID()[m.MessageID]; got != tt.wantCount {
				t.Errorf("server holds %d copies, want %d", got, tt.wantCount)
			}

			// The queued fault was one-shot: the next attempt goes through.
			if _, err := f.sender.Send(context.Background(), m); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if got := f.server.CountByMessageID()[m.MessageID]; got != tt.wantCount+1 {
				t.Errorf("after retry the server holds %d copies, want %d", got, tt.wantCount+1)
			}
		})
	}
}

func TestSend_NoReplyAfterBodyIsUnknown(t *testing.T) {
	t.Parallel()

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		f := setup(t, setupOpts{timeout: 300 * time.Millisecond})
		f.server.Queue(devstack.AtData, devstack.Delayed(3*time.Second, devstack.Accept()))
		_, err := f.sender.Send(context.Background(), threadMessage(t, 1))
		if got := mail.Classify(err); got != mail.Unknown {
			t.Errorf("Classify(%v) = %v, want unknown", err, got)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		t.Parallel()
		f := setup(t, setupOpts{})
		f.server.Queue(devstack.AtData, devstack.Delayed(3*time.Second, devstack.Accept()))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.sender.Send(ctx, threadMessage(t, 1))
		if got := mail.Classify(err); got != mail.Unknown {
			t.Errorf("Classify(%v) = %v, want unknown", err, got)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send returned after %v, want soon after the context ended", d)
		}
	})
	t.Run("context cancelled before RCPT reply", func(t *testing.T) {
		t.Parallel()
		f := setup(t, setupOpts{})
		f.server.Queue(devstack.AtRcpt, devstack.Delayed(3*time.Second, devstack.Accept()))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := f.sender.Send(ctx, threadMessage(t, 1))
		if got := mail.Classify(err); got != mail.Temporary {
			t.Errorf("Classify(%v) = %v, want temporary", err, got)
		}
	})
}

func TestSend_ServerDown(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	if err := f.server.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := f.sender.Send(context.Background(), threadMessage(t, 1))
	if !errors.Is(err, mail.ErrConnect) {
		t.Errorf("err = %v, want ErrConnect", err)
	}
	if got := mail.Classify(err); got != mail.Temporary {
		t.Errorf("Classify(%v) = %v, want temporary", err, got)
	}
}

func TestSend_InvalidMessageIsPermanentAndNotSent(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	m := threadMessage(t, 1)
	m.To = []string{"not an address"}
	_, err := f.sender.Send(context.Background(), m)
	if !errors.Is(err, mail.ErrInvalidMessage) {
		t.Fatalf("err = %v, want ErrInvalidMessage", err)
	}
	if got := mail.Classify(err); got != mail.Permanent {
		t.Errorf("Classify = %v, want permanent", got)
	}
	if n := len(f.server.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSend_ThreeMessageThread(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	for seq := 1; seq <= 3; seq++ {
		if _, err := f.sender.Send(context.Background(), threadMessage(t, seq)); err != nil {
			t.Fatalf("Send message %d: %v", seq, err)
		}
	}
	got := received(t, f.server)
	if len(got) != 3 {
		t.Fatalf("server received %d messages, want 3", len(got))
	}

	first := got[0]
	if first.InReplyTo != "" || first.References != "" {
		t.Errorf("first message In-Reply-To %q, References %q, want both empty", first.InReplyTo, first.References)
	}
	if strings.HasPrefix(first.Subject, "Re: ") {
		t.Errorf("first subject %q starts with Re:", first.Subject)
	}
	var ids []string
	var guid [16]byte
	for i, p := range got {
		if want := mail.MessageID(testBatch, i+1, "rd.example"); p.MessageID != want {
			t.Errorf("message %d Message-ID = %q, want %q", i+1, p.MessageID, want)
		}
		if i > 0 {
			if p.InReplyTo != ids[i-1] {
				t.Errorf("message %d In-Reply-To = %q, want previous %q", i+1, p.InReplyTo, ids[i-1])
			}
			if want := strings.Join(ids, " "); p.References != want {
				t.Errorf("message %d References = %q, want %q", i+1, p.References, want)
			}
			if p.Subject != "Re: "+first.Subject {
				t.Errorf("message %d Subject = %q, want %q", i+1, p.Subject, "Re: "+first.Subject)
			}
		}
		if p.ThreadTopic != first.Subject {
			t.Errorf("message %d Thread-Topic = %q, want %q", i+1, p.ThreadTopic, first.Subject)
		}
		raw := decode(t, p.ThreadIndex)
		if want := 22 + 5*i; len(raw) != want {
			t.Errorf("message %d Thread-Index is %d bytes, want %d", i+1, len(raw), want)
		}
		info, err := mail.ParseThreadIndex(p.ThreadIndex)
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		if i == 0 {
			guid = info.GUID
		} else if info.GUID != guid {
			t.Errorf("message %d Thread-Index GUID %x, want the thread's %x", i+1, info.GUID, guid)
		}
		ids = append(ids, p.MessageID)
	}
	if guid != testGUID {
		t.Errorf("thread GUID = %x, want the batch uuid %x", guid, testGUID)
	}
}

func TestNewSender(t *testing.T) {
	t.Parallel()
	good := []struct {
		url, addr string
	}{
		{"smtp://127.0.0.1:2525", "127.0.0.1:2525"},
		{"smtp://mail.example.com", "mail.example.com:25"},
		{"smtps://user:p%40ss@mail.example.com", "mail.example.com:465"},
		{"smtp://user:secret@mail.example.com:587?starttls=mandatory&auth=login", "mail.example.com:587"},
		{"smtp://localhost:1025?starttls=none", "localhost:1025"},
		{"smtp://[::1]:2525?starttls=opportunistic", "[::1]:2525"},
	}
	for _, tt := range good {
		s, err := mail.NewSender(tt.url, mail.SenderOptions{})
		if err != nil {
			t.Errorf("NewSender(%q): %v", tt.url, err)
			continue
		}
		if s.Addr() != tt.addr {
			t.Errorf("NewSender(%q).Addr() = %q, want %q", tt.url, s.Addr(), tt.addr)
		}
	}

	bad := []struct{ url, want string }{
		{"http://mail.example.com", "scheme must be smtp or smtps"},
		{"smtp://", "host is missing"},
		{"smtp://mail.example.com:99999", "bad port"},
		{"smtp://mail.example.com/path", "unexpected path"},
		{"smtp://mail.example.com?starttls=yes", "starttls="},
		{"smtps://mail.example.com?starttls=mandatory", "does not apply to smtps"},
		{"smtp://u:topsecret@mail.example.com?auth=kerberos", "unsupported auth"},
		{"smtp://mail.example.com?auth=plain", "needs a user"},
		{"smtp://u:topsecret@mail.example.com?tls=1", "unknown parameter"},
		{"smtp://u:topsecret@mail.example.com:bad", "not a valid URL"},
	}
	for _, tt := range bad {
		_, err := mail.NewSender(tt.url, mail.SenderOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSender(%q) error = %v, want one containing %q", tt.url, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("NewSender(%q) error leaks the password: %v", tt.url, err)
		}
	}
}

func TestClassify_WithoutSMTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want mail.Outcome
	}{
		{nil, mail.Sent},
		{mail.ErrInvalidMessage, mail.Permanent},
		{errors.Join(errors.New("x"), mail.ErrConnect), mail.Temporary},
		{errors.New("something else"), mail.Unknown},
		{context.Canceled, mail.Unknown},
	}
	for _, tt := range tests {
		if got := mail.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got := mail.Outcome(0).String(); got != "unknown" {
		t.Errorf("zero Outcome = %q, want unknown", got)
	}
}
