package mail_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"recondesk/internal/mail"
)

// crlf turns the LF line ends of a literal message into CRLF.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParse_ForeignMessage(t *testing.T) {
	t.Parallel()
	raw := crlf(`From: =?ISO-8859-1?Q?J=F6rg_K=E4fer?= <joerg@partner.example>
To: a@rd.example, "B, Person" <b@rd.example>
Subject: =?utf-8?b?UmU6IFtGYXVsdHkgYm9va2luZ3NdIE3DvGxsZXI=?=
Message-ID:  <reply-1@partner.example>
In-Reply-To: <rd.x.1@rd.example>
References: <rd.x.1@rd.example>
	<rd.x.2@rd.example>
Date: Mon, 02 Mar 2026 10:15:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe,=20
die Buchungen sind gepr=FCft.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+R3LDvMOfZTwvcD4=
--inner--
--outer
Content-Type: text/csv
Content-Disposition: attachment; filename*=UTF-8''Buchungen%20M%C3%A4rz.csv

ref;kwh
A1;12.5
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?R=C3=BCckmeldung.pdf?="
Content-Transfer-Encoding: base64

JVBERi0x
LjQK
--outer--
`)
	p, err := mail.Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"From", p.From, "Jörg Käfer <joerg@partner.example>"},
		{"To", strings.Join(p.To, "|"), "a@rd.example|B, Person <b@rd.example>"},
		{"Cc", strings.Join(p.Cc, "|"), ""},
		{"Subject", p.Subject, "Re: [Faulty bookings] Müller"},
		{"Message-ID", p.MessageID, "<reply-1@partner.example>"},
		{"In-Reply-To", p.InReplyTo, "<rd.x.1@rd.example>"},
		{"References", p.References, "<rd.x.1@rd.example> <rd.x.2@rd.example>"},
		{"Text", p.Text, "Grüße, \ndie Buchungen sind geprüft."}, // the CRLF before a boundary belongs to it
		{"HTML", p.HTML, "<p>Grüße</p>"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if want := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC); !p.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", p.Date, want)
	}
	want := []mail.Attachment{
		{Name: "Buchungen März.csv", ContentType: "text/csv", Data: []byte("ref;kwh\r\nA1;12.5")},
		{Name: "Rückmeldung.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n")},
	}
	if len(p.Attachments) != len(want) {
		t.Fatalf("attachments = %+v, want %d", p.Attachments, len(want))
	}
	for i, w := range want {
		a := p.Attachments[i]
		if a.Name != w.Name || a.ContentType != w.ContentType || !bytes.Equal(a.Data, w.Data) {
			t.Errorf("attachment %d = {%q %q %q}, want {%q %q %q}", i, a.Name, a.ContentType, a.Data, w.Name, w.ContentType, w.Data)
		}
	}
}

func TestParse_SinglePart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, text, html string
	}{
		{"no content type", "Subject: x\n\nplain body\n", "plain body\n", ""},
		{"html only", "Content-Type: text/html; charset=utf-8\n\n<b>hi</b>", "", "<b>hi</b>"},
		{"broken base64 kept raw", "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!", "!!!", ""},
	}
	for _, tt := range tests {
		p, err := mail.Parse(crlf(tt.raw))
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		if p.Text != tt.text || p.HTML != tt.html || len(p.Attachments) != 0 {
			t.Errorf("%s: Text %q HTML %q attachments %d, want %q %q 0", tt.name, p.Text, p.HTML, len(p.Attachments), tt.text, tt.html)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"",
		"not a header line\n\nbody",
		"Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n",
		"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nunterminated",
	} {
		if _, err := mail.Parse(crlf(raw)); !errors.Is(err, mail.ErrParse) {
			t.Errorf("Parse(%q) error = %v, want ErrParse", raw, err)
		}
	}
}

func TestRender_RoundTripsThroughParse(t *testing.T) {
	t.Parallel()
	m := threadMessage(t, 3)
	now := time.Date(2026, 2, 25, 8, 0, 1, 0, time.UTC)
	m.Date = time.Time{}
	raw, err := mail.Render(m, now)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	p, err := mail.Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p.MessageID != m.MessageID || p.References != m.References || p.Subject != m.Subject ||
		p.Text != m.Text || p.HTML != m.HTML || !p.Date.Equal(now) {
		t.Errorf("round trip changed the message:\n got %+v", p)
	}
	if len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0].Data, m.Attachments[0].Data) {
		t.Errorf("round trip changed the attachment")
	}

	m.From = ""
	if _, err := mail.Render(m, now); !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("Render of an invalid message: error = %v, want ErrInvalidMessage", err)
	}
}
