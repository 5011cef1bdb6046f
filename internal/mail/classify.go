package mail

import (
	"errors"

	gomail "github.com/wneessen/go-mail"
)

// Outcome is what a Send result means for the outbox row (DESIGN §4.6).
type Outcome int

// Outcomes of a send. The zero value is Unknown, the one that never resends.
const (
	// Unknown: the body may have been accepted but no final reply arrived (connection lost or
	// timed out after the body was sent). Must not be resent automatically.
	Unknown Outcome = iota
	// Sent: the server accepted the message.
	Sent
	// Temporary: the server did not take the message and a later attempt may work (4xx
	// reply, or a connection failure before the body was complete). Safe to retry.
	Temporary
	// Permanent: the server rejected the message with a 5xx reply, or the message itself is
	// invalid. Resending the same message will not help.
	Permanent
)

// String returns the outcome's lower-case name.
func (o Outcome) String() string {
	switch o {
	case Unknown:
		return "unknown"
	case Sent:
		return "sent"
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	}
	return "invalid"
}

// Classify maps an error returned by Sender.Send to an Outcome:
//
//   - nil → Sent
//   - an invalid Message (ErrInvalidMessage) → Permanent
//   - no SMTP transaction (ErrConnect: dial, EHLO, STARTTLS, AUTH) → Temporary
//   - MAIL FROM, RCPT TO, DATA command, or the pre-send NOOP: 5xx → Permanent, 4xx or a
//     broken connection → Temporary (the body was not sent)
//   - writing the body fails → Temporary (the terminating "." was never sent, so the server
//     cannot have accepted it)
//   - final reply after the body: 5xx → Permanent, 4xx → Temporary, no reply (connection
//     dropped, timeout, cancelled ctx) → Unknown
//   - RSET after an accepted message → Sent
//   - anything else → Unknown
func Classify(err error) Outcome {
	if err == nil {
		return Sent
	}
	if errors.Is(err, ErrInvalidMessage) {
		return Permanent
	}
	if errors.Is(err, ErrConnect) {
		return Temporary
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return Unknown
	}
	if m := se.Msg(); m != nil && m.IsDelivered() {
		return Sent
	}
	code := se.ErrorCode()
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return Permanent
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrConnCheck:
		if code >= 500 && code < 600 {
			return Permanent
		}
		return Temporary
	case gomail.ErrWriteContent:
		return Temporary
	case gomail.ErrSMTPDataClose:
		switch {
		case code >= 500 && code < 600:
			return Permanent
		case code >= 400 && code < 500:
			return Temporary
		}
		return Unknown
	case gomail.ErrSMTPReset:
		return Sent
	}
	return Unknown
}
