package devstack

import (
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// startSMTP starts a server with opts and closes it when the test ends.
func startSMTP(t *testing.T, opts SMTPOptions) *SMTPServer {
	t.Helper()
	s, err := StartSMTP(opts)
	if err != nil {
		t.Fatalf("StartSMTP: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testMessage returns a small RFC 5322 message with the given Message-ID.
func testMessage(id string) string {
	return "From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: " + id +
		"\r\nSubject: hi\r\n\r\nhello\r\n"
}

// stage names the command that failed in sendRaw.
type failure struct {
	stage string
	err   error
}

func (f *failure) Error() string { return f.stage + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// sendRaw runs one SMTP transaction with net/smtp and reports where it failed.
func sendRaw(addr, from string, to []string, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return &failure{"dial", err}
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return &failure{"MAIL", err}
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return &failure{"RCPT", err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return &failure{"DATA", err}
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return &failure{"body", err}
	}
	if err := w.Close(); err != nil {
		return &failure{"end of data", err}
	}
	_ = c.Quit()
	return nil
}

// replyCode returns the SMTP code of err and the stage it failed at (0 and "" if none).
func replyCode(err error) (int, string) {
	var f *failure
	if !errors.As(err, &f) {
		return 0, ""
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code, f.stage
	}
	return 0, f.stage
}

func TestSMTPServer_AcceptsAndKeepsMessages(t *testing.T) {
	t.Parallel()
	s := startSMTP(t, SMTPOptions{})

	if got, want := s.URL(), "smtp://"+s.Addr(); got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", s.Addr())
	}
	before := time.Now()
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com", "c@example.com"}, testMessage("<m1@x>")); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<m1@x>")); err != nil {
		t.Fatalf("send again: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("len(Messages()) = %d, want 2", len(msgs))
	}
	m := msgs[0]
	if m.From != "a@example.com" {
		t.Errorf("From = %q", m.From)
	}
	if got := strings.Join(m.To, ","); got != "b@example.com,c@example.com" {
		t.Errorf("To = %q", got)
	}
	if got, want := string(m.Data), testMessage("<m1@x>"); got != want {
		t.Errorf("Data = %q, want %q", got, want)
	}
	if m.At.Before(before) {
		t.Errorf("At = %v, before the send started (%v)", m.At, before)
	}
	counts := s.CountByMessageID()
	if len(counts) != 1 || counts["<m1@x>"] != 2 {
		t.Errorf("CountByMessageID() = %v, want map[<m1@x>:2]", counts)
	}

	// The snapshot is a copy.
	msgs[0].Data[0] = 'X'
	if s.Messages()[0].Data[0] != 'F' {
		t.Error("Messages() shares memory with the server")
	}
}

func TestSMTPServer_Queue(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		stage     Stage
		action    Action
		wantCode  int
		wantStage string
		wantKept  int // messages kept by the failing attempt
	}{
		{"451 at MAIL", AtMail, Reply(451, "try later"), 451, "MAIL", 0},
		{"550 at MAIL", AtMail, Reply(550, "no"), 550, "MAIL", 0},
		{"451 at RCPT", AtRcpt, Reply(451, "greylisted"), 451, "RCPT", 0},
		{"550 at RCPT", AtRcpt, Reply(550, "no such user"), 550, "RCPT", 0},
		{"452 at DATA", AtData, Reply(452, "full"), 452, "end of data", 0},
		{"554 at DATA", AtData, Reply(554, "rejected"), 554, "end of data", 0},
		{"drop at MAIL", AtMail, Drop(), 0, "MAIL", 0},
		{"drop at RCPT", AtRcpt, Drop(), 0, "RCPT", 0},
		{"drop after body", AtData, Drop(), 0, "end of data", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSMTP(t, SMTPOptions{})
			s.Queue(tt.stage, tt.action)

			err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<q@x>"))
			code, stage := replyCode(err)
			if err == nil || code != tt.wantCode || stage != tt.wantStage {
				t.Fatalf("first send: err = %v (code %d at %q), want code %d at %q", err, code, stage, tt.wantCode, tt.wantStage)
			}
			if got := len(s.Messages()); got != tt.wantKept {
				t.Fatalf("after the failed attempt len(Messages()) = %d, want %d", got, tt.wantKept)
			}

			// The queued action was consumed: the next attempt is accepted.
			if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<q@x>")); err != nil {
				t.Fatalf("second send: %v", err)
			}
			if got := s.CountByMessageID()["<q@x>"]; got != tt.wantKept+1 {
				t.Errorf("CountByMessageID()[<q@x>] = %d, want %d", got, tt.wantKept+1)
			}
		})
	}
}

func TestSMTPServer_ScriptSeesEvents(t *testing.T) {
	t.Parallel()
	s := startSMTP(t, SMTPOptions{})

	var mu sync.Mutex
	var seen []string
	s.Script(func(ev Event) Action {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf("%s from=%s to=%v rcpt=%s body=%t", ev.Stage, ev.From, ev.To, ev.Rcpt, len(ev.Data) > 0))
		if ev.Rcpt == "bad@example.com" {
			return Reply(550, "unknown user")
		}
		return Accept()
	})

	err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com", "bad@example.com"}, testMessage("<s@x>"))
	if code, stage := replyCode(err); code != 550 || stage != "RCPT" {
		t.Fatalf("err = %v, want 550 at RCPT", err)
	}
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<s@x>")); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := []string{
		"MAIL from=a@example.com to=[] rcpt= body=false",
		"RCPT from=a@example.com to=[] rcpt=b@example.com body=false",
		"RCPT from=a@example.com to=[b@example.com] rcpt=bad@example.com body=false",
		"MAIL from=a@example.com to=[] rcpt= body=false",
		"RCPT from=a@example.com to=[] rcpt=b@example.com body=false",
		"DATA from=a@example.com to=[b@example.com] rcpt= body=true",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}

	// Queued actions win over the script; ResetScript clears both.
	s.Queue(AtMail, Reply(421, "busy"))
	s.ResetScript()
	if err := sendRaw(s.Addr(), "a@example.com", []string{"bad@example.com"}, testMessage("<s@x>")); err != nil {
		t.Fatalf("after ResetScript: %v", err)
	}
}

func TestSMTPServer_Delay(t *testing.T) {
	t.Parallel()
	s := startSMTP(t, SMTPOptions{})
	s.Queue(AtData, Delayed(150*time.Millisecond, Accept()))

	start := time.Now()
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<d@x>")); err != nil {
		t.Fatalf("send: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("send took %v, want at least 150ms", elapsed)
	}
}

func TestSMTPServer_OnMessage(t *testing.T) {
	t.Parallel()

	var mu sync.Mutex
	var stored []Received
	fail := true
	s := startSMTP(t, SMTPOptions{OnMessage: func(r Received) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("database down")
		}
		stored = append(stored, r)
		return nil
	}})

	err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<o@x>"))
	if code, stage := replyCode(err); code != 451 || stage != "end of data" {
		t.Fatalf("err = %v, want 451 at end of data when OnMessage fails", err)
	}
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<o@x>")); err != nil {
		t.Fatalf("send: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != 1 || stored[0].From != "a@example.com" || string(stored[0].Data) != testMessage("<o@x>") {
		t.Errorf("stored = %+v, want the one message", stored)
	}
	if got := len(s.Messages()); got != 0 {
		t.Errorf("len(Messages()) = %d, want 0 when OnMessage is set", got)
	}
}

func TestSMTPServer_Close(t *testing.T) {
	t.Parallel()
	s, err := StartSMTP(SMTPOptions{})
	if err != nil {
		t.Fatalf("StartSMTP: %v", err)
	}
	// A delayed reply must not hold Close up.
	s.Queue(AtMail, Delayed(time.Hour, Accept()))
	errc := make(chan error, 1)
	go func() { errc <- sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<c@x>")) }()
	time.Sleep(50 * time.Millisecond)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Error("send during Close succeeded, want an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("send still blocked 5s after Close")
	}
	if err := sendRaw(s.Addr(), "a@example.com", []string{"b@example.com"}, testMessage("<c@x>")); err == nil {
		t.Error("send after Close succeeded, want a dial error")
	}
}

func TestStartSMTP_ImplicitTLSNeedsConfig(t *testing.T) {
	t.Parallel()
	if s, err := StartSMTP(SMTPOptions{ImplicitTLS: true}); err == nil {
		_ = s.Close()
		t.Fatal("StartSMTP with ImplicitTLS and no TLSConfig succeeded, want an error")
	}
}
