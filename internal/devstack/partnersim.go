package devstack

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	rdmail "recondesk/internal/mail"
	"recondesk/internal/masterfile"
)

// ReplyKind is how a simulated partner answers.
type ReplyKind int

// The simulated answers.
const (
	ReplyAuto         ReplyKind = iota + 1 // an out-of-office auto-reply
	ReplyHuman                             // a person acknowledges
	ReplyReturnedFile                      // the master file comes back with responses filled in
	ReplyBounce                            // the partner's mail server rejects the recipient
)

// String names the kind.
func (k ReplyKind) String() string {
	return map[ReplyKind]string{ReplyAuto: "auto-reply", ReplyHuman: "human", ReplyReturnedFile: "returned file", ReplyBounce: "bounce"}[k]
}

// ReturnedRow is one booking response a returned file carries.
type ReturnedRow struct {
	AuthRef, Response, Note string
}

// ReplyOptions shape a simulated reply.
type ReplyOptions struct {
	// From is the partner's address (default: the original's first To).
	From string
	// Date is the reply's date (default now).
	Date time.Time
	// Text is the body (a default fits the kind).
	Text string
	// Rows replace the returned file's responses: each row's response and note
	// is written on the row with its reference, or appended when the file has
	// none (unknown and foreign references). Nil fills a mixed set in.
	Rows []ReturnedRow
	// NoThreadHeaders drops In-Reply-To and References, so only the subject's
	// batch token can match the reply.
	NoThreadHeaders bool
	// MessageID overrides the reply's Message-ID.
	MessageID string
}

// BuildReply returns a partner's raw reply to one of our raw messages.
func BuildReply(kind ReplyKind, original []byte, o ReplyOptions) ([]byte, error) {
	orig, err := rdmail.Parse(original)
	if err != nil {
		return nil, err
	}
	to := ""
	if len(orig.To) > 0 {
		to = orig.To[0]
	}
	if o.From == "" {
		o.From = to
	}
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	if o.MessageID == "" {
		o.MessageID = fmt.Sprintf("<sim.%d.%d@partner.example>", o.Date.UnixNano(), kind)
	}
	subject := orig.Subject
	if !strings.HasPrefix(subject, rdmail.ReplyPrefix) {
		subject = rdmail.ReplyPrefix + subject
	}
	var h strings.Builder
	header := func(k, v string) { fmt.Fprintf(&h, "%s: %s\r\n", k, v) }
	header("Date", o.Date.Format(time.RFC1123Z))
	header("Message-ID", o.MessageID)
	// A bounce carries the original's headers in its report, not in its own.
	if !o.NoThreadHeaders && kind != ReplyBounce {
		header("In-Reply-To", orig.MessageID)
		header("References", strings.TrimSpace(orig.References+" "+orig.MessageID))
	}
	header("MIME-Version", "1.0")
	const boundary = "rd-sim-boundary-7f3a"
	switch kind {
	case ReplyAuto:
		header("From", o.From)
		header("To", orig.From)
		header("Subject", mime.QEncoding.Encode("utf-8", "Automatic reply: "+orig.Subject))
		header("Auto-Submitted", "auto-replied")
		header("X-Autoreply", "yes")
		header("Content-Type", "text/plain; charset=utf-8")
		return []byte(h.String() + "\r\n" + orDefault(o.Text, "I am out of the office until Monday and will answer then.") + "\r\n"), nil
	case ReplyHuman:
		header("From", o.From)
		header("To", orig.From)
		header("Subject", mime.QEncoding.Encode("utf-8", subject))
		header("Content-Type", "text/plain; charset=utf-8")
		return []byte(h.String() + "\r\n" + orDefault(o.Text, "Thanks, we received the list and are checking these bookings.") + "\r\n"), nil
	case ReplyReturnedFile:
		var file []byte
		for _, a := range orig.Attachments {
			if strings.HasSuffix(strings.ToLower(a.Name), ".xlsx") {
				file = a.Data
			}
		}
		if file == nil {
			return nil, fmt.Errorf("devstack: the original carries no master file")
		}
		filled, err := fillReturnedFile(file, o.Rows)
		if err != nil {
			return nil, err
		}
		header("From", o.From)
		header("To", orig.From)
		header("Subject", mime.QEncoding.Encode("utf-8", subject))
		header("Content-Type", "multipart/mixed; boundary="+boundary)
		var b strings.Builder
		b.WriteString(h.String() + "\r\n")
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", boundary,
			orDefault(o.Text, "Please find our answers in the attached file."))
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"+
			"Content-Disposition: attachment; filename=\"returned.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n",
			boundary, wrap76(base64.StdEncoding.EncodeToString(filled)), boundary)
		return []byte(b.String()), nil
	case ReplyBounce:
		domain := "partner.example"
		if a, err := mail.ParseAddress(to); err == nil {
			if _, d, ok := strings.Cut(a.Address, "@"); ok {
				domain = d
			}
		}
		rcpt := to
		if a, err := mail.ParseAddress(to); err == nil {
			rcpt = a.Address
		}
		header("From", "Mail Delivery System <MAILER-DAEMON@"+domain+">")
		header("To", orig.From)
		header("Subject", "Undelivered Mail Returned to Sender")
		header("Auto-Submitted", "auto-replied")
		header("Content-Type", "multipart/report; report-type=delivery-status; boundary="+boundary)
		var origHeaders strings.Builder
		for _, k := range []string{"From", "To", "Subject", "Message-Id", "In-Reply-To", "References", "Date"} {
			if v := orig.Header.Get(k); v != "" {
				fmt.Fprintf(&origHeaders, "%s: %s\r\n", k, v)
			}
		}
		var b strings.Builder
		b.WriteString(h.String() + "\r\n")
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nYour message could not be delivered to %s.\r\n", boundary, rcpt)
		fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.%s\r\n\r\n"+
			"Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <%s>: user unknown\r\n\r\n",
			boundary, domain, rcpt, rcpt)
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n%s\r\n--%s--\r\n", boundary, origHeaders.String(), boundary)
		return []byte(b.String()), nil
	}
	return nil, fmt.Errorf("devstack: unknown reply kind %d", kind)
}

// mixedResponses is what the demo partner answers, booking by booking.
var mixedResponses = []ReturnedRow{
	{Response: "Paid", Note: "paid on 3 Dec, ref 88121"},
	{Response: "Disputed", Note: "the session ended normally on our side"},
	{Response: "Credited", Note: "credit note CN-4411"},
	{Response: "Will pay by date", Note: "by 20 Dec"},
}

// fillReturnedFile writes responses into a master file's Bookings sheet.
func fillReturnedFile(data []byte, rows []ReturnedRow) ([]byte, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sheet := masterfile.SheetBookings
	all, err := f.GetRows(sheet)
	if err != nil || len(all) == 0 {
		return nil, fmt.Errorf("devstack: no Bookings sheet: %v", err)
	}
	refCol, respCol, noteCol := -1, -1, -1
	for i, c := range all[0] {
		switch c {
		case "Authorization Reference":
			refCol = i
		case masterfile.ColPartnerResponse:
			respCol = i
		case masterfile.ColPartnerNote:
			noteCol = i
		}
	}
	if refCol < 0 || respCol < 0 || noteCol < 0 {
		return nil, fmt.Errorf("devstack: the master file has no response columns")
	}
	if rows == nil {
		for i, r := range all[1:] {
			if refCol < len(r) && i < len(mixedResponses) {
				row := mixedResponses[i]
				row.AuthRef = r[refCol]
				rows = append(rows, row)
			}
		}
		rows = append(rows, ReturnedRow{AuthRef: "NOT-OUR-BOOKING-1", Response: "Paid", Note: "already settled"})
	}
	set := func(rowNum int, r ReturnedRow) {
		c1, _ := excelize.CoordinatesToCellName(respCol+1, rowNum)
		c2, _ := excelize.CoordinatesToCellName(noteCol+1, rowNum)
		_ = f.SetCellStr(sheet, c1, r.Response)
		_ = f.SetCellStr(sheet, c2, r.Note)
	}
	next := len(all) + 1
	for _, r := range rows {
		found := false
		for i, line := range all[1:] {
			if refCol < len(line) && line[refCol] == r.AuthRef {
				set(i+2, r)
				found = true
			}
		}
		if !found {
			c, _ := excelize.CoordinatesToCellName(refCol+1, next)
			_ = f.SetCellStr(sheet, c, r.AuthRef)
			set(next, r)
			next++
		}
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// PartnerSim answers the first message of some batch threads, for the demo:
// the first thread gets an auto-reply, the second a human acknowledgement,
// the third its master file back with mixed responses, the fourth a bounce.
type PartnerSim struct {
	// Deliver puts a reply into the finance mailbox (IMAPServer.Deliver).
	Deliver func(raw []byte) error
	// Delay is waited before a reply is delivered (default none).
	Delay time.Duration

	mu      sync.Mutex
	threads int
}

// OnSent is called with every message Recondesk sends (the SMTP sink).
func (p *PartnerSim) OnSent(raw []byte) error {
	m, err := rdmail.Parse(raw)
	if err != nil || m.InReplyTo != "" || !strings.HasPrefix(m.Subject, rdmail.SubjectPrefix) {
		return nil
	}
	p.mu.Lock()
	p.threads++
	n := p.threads
	p.mu.Unlock()
	kinds := []ReplyKind{ReplyAuto, ReplyHuman, ReplyReturnedFile, ReplyBounce}
	if n > len(kinds) {
		return nil
	}
	reply, err := BuildReply(kinds[n-1], raw, ReplyOptions{})
	if err != nil && kinds[n-1] == ReplyReturnedFile { // no master file attached yet
		reply, err = BuildReply(ReplyHuman, raw, ReplyOptions{})
	}
	if err != nil {
		return err
	}
	if p.Delay > 0 {
		time.AfterFunc(p.Delay, func() { _ = p.Deliver(reply) })
		return nil
	}
	return p.Deliver(reply)
}
