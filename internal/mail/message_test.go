package mail_test

import (
	"errors"
	"strings"
	"testing"

	"recondesk/internal/mail"
)

func TestMessage_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*mail.Message)
		want   []string // fragments the error must contain; none means valid
	}{
		{"valid", func(*mail.Message) {}, nil},
		{"valid without HTML, Cc or attachments", func(m *mail.Message) { m.HTML, m.Cc, m.Attachments = "", nil, nil }, nil},
		{"no from", func(m *mail.Message) { m.From = "" }, []string{"From is empty"}},
		{"bad from", func(m *mail.Message) { m.From = "noreply" }, []string{`From "noreply"`}},
		{"no to", func(m *mail.Message) { m.To = nil }, []string{"To has no recipient"}},
		{"bad to and cc", func(m *mail.Message) {
			m.To = []string{"ok@x.example", "a@"}
			m.Cc = []string{"two@@x"}
		}, []string{`To "a@"`, `Cc "two@@x"`}},
		{"no subject", func(m *mail.Message) { m.Subject = " " }, []string{"Subject is empty"}},
		{"subject line break", func(m *mail.Message) { m.Subject = "a\r\nBcc: x@y" }, []string{"Subject contains a line break"}},
		{"message id without brackets", func(m *mail.Message) { m.MessageID = "rd.1@x" }, []string{"Message-ID"}},
		{"message id without domain", func(m *mail.Message) { m.MessageID = "<rd.1>" }, []string{"Message-ID"}},
		{"bad in-reply-to", func(m *mail.Message) { m.InReplyTo = "<a b@x>" }, []string{"In-Reply-To"}},
		{"bad references", func(m *mail.Message) { m.References = "<a@x> b@x" }, []string{`References entry "b@x"`}},
		{"bad thread index", func(m *mail.Message) { m.ThreadIndex = "AAAA" }, []string{"Thread-Index"}},
		{"no text", func(m *mail.Message) { m.Text = "" }, []string{"Text body is empty"}},
		{"attachment name with slash", func(m *mail.Message) { m.Attachments[0].Name = "../x.xlsx" }, []string{"attachment 1"}},
		{"attachment content type", func(m *mail.Message) { m.Attachments[0].ContentType = "no/t/valid" }, []string{"content type"}},
	}
	for _, tt := range tests {
		m := threadMessage(t, 2)
		tt.modify(&m)
		err := m.Validate()
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, mail.ErrInvalidMessage) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidMessage", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Validate() = %q, want it to mention %q", tt.name, err, w)
			}
		}
	}
}
