package mail_test

import (
	"testing"
	"time"

	"recondesk/internal/mail"
)

func TestBatchToken(t *testing.T) {
	t.Parallel()
	if got := mail.BatchToken("2026-11", "DE*VLT"); got != "[RD-2026-11-DE*VLT]" {
		t.Errorf("BatchToken = %q", got)
	}
	tests := []struct {
		subject, period, party string
		ok                     bool
	}{
		{"Re: [Faulty bookings] Volt (DE*VLT) 2026-11 [RD-2026-11-DE*VLT]", "2026-11", "DE*VLT", true},
		{"AW: WG: [RD-2026-01-NL*ABC] question", "2026-01", "NL*ABC", true},
		{"[RD-2026-13-X] bad month", "", "", false},
		{"[Faulty bookings] Volt (DE*VLT) 2026-11", "", "", false},
		{"[RD-2026-01-A] then [RD-2026-02-B]", "2026-02", "B", true},
	}
	for _, tt := range tests {
		period, party, ok := mail.ParseBatchToken(tt.subject)
		if period != tt.period || party != tt.party || ok != tt.ok {
			t.Errorf("ParseBatchToken(%q) = %q %q %t", tt.subject, period, party, ok)
		}
	}
	th, err := mail.ThreadHeaders(mail.ThreadParams{BatchID: "0b7a1c3e-0000-4000-8000-000000000001", Seq: 1, Domain: "d", PartnerName: "Volt",
		PartyID: "DE*VLT", Period: "2026-11", Times: make([]time.Time, 1), Tagged: true})
	if err != nil || th.Subject != "[Faulty bookings] Volt (DE*VLT) 2026-11 [RD-2026-11-DE*VLT]" || th.ThreadTopic != th.Subject {
		t.Errorf("tagged thread = %+v, %v", th, err)
	}
}
