package mail

import (
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
)

// Header values every Recondesk email carries so that auto-responders stay quiet.
const (
	// AutoSubmitted is the Auto-Submitted value (RFC 3834).
	AutoSubmitted = "auto-generated"
	// AutoResponseSuppress is the X-Auto-Response-Suppress value (Exchange/Outlook).
	AutoResponseSuppress = "OOF, AutoReply"
)

// Header names go-mail has no constant for.
const (
	headerAutoSubmitted = "Auto-Submitted"
	headerThreadTopic   = "Thread-Topic"
	headerThreadIndex   = "Thread-Index"
)

// ErrInvalidMessage is wrapped by every Message validation error.
var ErrInvalidMessage = errors.New("mail: invalid message")

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one email to send, independent of how its bodies were rendered.
type Message struct {
	From        string
	To          []string
	Cc          []string
	Subject     string
	MessageID   string // "<id@domain>", used exactly
	InReplyTo   string
	References  string
	ThreadTopic string
	ThreadIndex string
	Text        string
	HTML        string
	Attachments []Attachment
	// Date is the Date header; the send time when zero.
	Date time.Time
}

// SetThread copies the threading headers of th into m.
func (m *Message) SetThread(th Thread) {
	m.MessageID = th.MessageID
	m.InReplyTo = th.InReplyTo
	m.References = th.References
	m.Subject = th.Subject
	m.ThreadTopic = th.ThreadTopic
	m.ThreadIndex = th.ThreadIndex
}

// Validate reports every problem of m in one error wrapping ErrInvalidMessage.
func (m Message) Validate() error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	if m.From == "" {
		add("From is empty")
	} else if err := checkAddress(m.From); err != nil {
		add("From %q: %v", m.From, err)
	}
	if len(m.To) == 0 {
		add("To has no recipient")
	}
	for _, a := range m.To {
		if err := checkAddress(a); err != nil {
			add("To %q: %v", a, err)
		}
	}
	for _, a := range m.Cc {
		if err := checkAddress(a); err != nil {
			add("Cc %q: %v", a, err)
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		add("Subject is empty")
	}
	if !isMsgID(m.MessageID) {
		add("Message-ID %q is not of the form <local@domain>", m.MessageID)
	}
	if m.InReplyTo != "" && !isMsgID(m.InReplyTo) {
		add("In-Reply-To %q is not of the form <local@domain>", m.InReplyTo)
	}
	if m.References != "" {
		for _, id := range strings.Fields(m.References) {
			if !isMsgID(id) {
				add("References entry %q is not of the form <local@domain>", id)
			}
		}
	}
	for _, h := range [][2]string{
		{"Subject", m.Subject}, {"References", m.References}, {"Thread-Topic", m.ThreadTopic}, {"Thread-Index", m.ThreadIndex},
	} {
		if strings.ContainsAny(h[1], "\r\n") {
			add("%s contains a line break", h[0])
		}
	}
	if m.ThreadIndex != "" {
		if _, err := ParseThreadIndex(m.ThreadIndex); err != nil {
			add("Thread-Index: %v", err)
		}
	}
	if m.Text == "" {
		add("Text body is empty")
	}
	for i, a := range m.Attachments {
		if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "\r\n/\\") {
			add("attachment %d: name %q is empty or contains a line break or slash", i+1, a.Name)
		}
		if a.ContentType != "" {
			if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
				add("attachment %q: content type %q: %v", a.Name, a.ContentType, err)
			}
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidMessage, strings.Join(probs, "; "))
}

// checkAddress accepts one RFC 5322 address with an optional display name.
func checkAddress(s string) error {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return err
	}
	if i := strings.LastIndexByte(a.Address, '@'); i <= 0 || i == len(a.Address)-1 {
		return errors.New("address needs a local part and a domain")
	}
	return nil
}

// isMsgID reports whether s looks like "<left@right>" without spaces or nested brackets.
func isMsgID(s string) bool {
	if len(s) < 5 || s[0] != '<' || s[len(s)-1] != '>' {
		return false
	}
	inner := s[1 : len(s)-1]
	at := strings.LastIndexByte(inner, '@')
	return at > 0 && at < len(inner)-1 && !strings.ContainsAny(inner, "<> \t\r\n")
}
