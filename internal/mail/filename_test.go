package mail_test

import (
	"strings"
	"testing"

	"recondesk/internal/mail"
)

func TestSafeFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Faulty bookings DE*VLT 2026-10 v2.xlsx": "Faulty bookings DE-VLT 2026-10 v2.xlsx",
		`a*b:c?d"e<f>g|h/i\j.xlsx`:               "a-b-c-d-e-f-g-h-i-j.xlsx",
		"line\r\nbreak\t.csv":                    "linebreak.csv",
		"trailing. . ":                           "trailing",
		"":                                       "file",
		"...":                                    "file",
		"con.xlsx":                               "_con.xlsx",
		"NUL":                                    "_NUL",
		"console.xlsx":                           "console.xlsx",
		"Prüfbericht März.xlsx":                  "Prüfbericht März.xlsx",
	} {
		got := mail.SafeFileName(in)
		if got != want {
			t.Errorf("SafeFileName(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(got, `*:?"<>|/\`) {
			t.Errorf("SafeFileName(%q) = %q keeps a character Windows refuses", in, got)
		}
	}
}
