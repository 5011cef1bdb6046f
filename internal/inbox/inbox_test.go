package inbox_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/devstack"
	"recondesk/internal/inbox"
	"recondesk/internal/masterfile"
)

const ours = "<rd.0b7a1c3e-0000-4000-8000-000000000001.1@recondesk.local>"

func TestReadClassifies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		kind      inbox.Kind
		refs      []string
		period    string
		failed    string
	}{
		{"human reply", "From: a@p.test\r\nSubject: Re: [Faulty bookings] P (DE*P) 2026-01 [RD-2026-01-DE*P]\r\nIn-Reply-To: " + ours + "\r\nReferences: <x@y> " + ours + "\r\nMessage-ID: <1@p.test>\r\n\r\nok\r\n",
			inbox.KindHuman, []string{ours, "<x@y>"}, "2026-01", ""},
		{"Auto-Submitted", "From: a@p.test\r\nAuto-Submitted: auto-replied\r\nSubject: Re: x\r\n\r\naway\r\n", inbox.KindAutoReply, nil, "", ""},
		{"Auto-Submitted no is human", "From: a@p.test\r\nAuto-Submitted: no\r\nSubject: Re: x\r\n\r\nhi\r\n", inbox.KindHuman, nil, "", ""},
		{"X-Autoreply", "From: a@p.test\r\nX-Autoreply: yes\r\nSubject: x\r\n\r\naway\r\n", inbox.KindAutoReply, nil, "", ""},
		{"Precedence auto_reply", "From: a@p.test\r\nPrecedence: auto_reply\r\nSubject: x\r\n\r\naway\r\n", inbox.KindAutoReply, nil, "", ""},
		{"out-of-office subject", "From: a@p.test\r\nSubject: Out of Office: [Faulty bookings]\r\n\r\naway\r\n", inbox.KindAutoReply, nil, "", ""},
		{"DSN", "From: MAILER-DAEMON@p.test\r\nSubject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; Ops@P.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n" +
			"Final-Recipient: rfc822; ok@p.test\r\nAction: delayed\r\nStatus: 4.0.0\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id: " + ours + "\r\nSubject: [Faulty bookings] P (DE*P) 2026-01 [RD-2026-01-DE*P]\r\n\r\n--b--\r\n",
			inbox.KindBounce, []string{ours}, "2026-01", "ops@p.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := inbox.Read([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != tt.kind || fmt.Sprint(m.Refs) != fmt.Sprint(tt.refs) || m.Period != tt.period {
				t.Errorf("kind %s refs %v period %q; want %s %v %q", m.Kind, m.Refs, m.Period, tt.kind, tt.refs, tt.period)
			}
			var failed []string
			for _, f := range m.Failed {
				failed = append(failed, f.Address)
			}
			if strings.Join(failed, ",") != tt.failed {
				t.Errorf("failed = %v, want %q", failed, tt.failed)
			}
		})
	}
}

func TestReadDedupeKey(t *testing.T) {
	t.Parallel()
	a, _ := inbox.Read([]byte("Subject: x\r\nMessage-ID: <ABC@p.test>\r\n\r\nbody\r\n"))
	b, _ := inbox.Read([]byte("Subject: x\r\n\r\nbody\r\n"))
	if a.DedupeKey != "mid:<abc@p.test>" || !strings.HasPrefix(b.DedupeKey, "sha256:") || len(b.DedupeKey) != 7+64 {
		t.Errorf("dedupe keys %q, %q", a.DedupeKey, b.DedupeKey)
	}
}

func TestAddBusinessDays(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{time.Date(2026, 2, 17, 10, 0, 0, 0, time.UTC), 5, time.Date(2026, 2, 24, 10, 0, 0, 0, time.UTC)}, // Tue → Tue
		{time.Date(2026, 2, 20, 18, 0, 0, 0, time.UTC), 1, time.Date(2026, 2, 23, 18, 0, 0, 0, time.UTC)}, // Fri → Mon
		{time.Date(2026, 2, 21, 12, 0, 0, 0, time.UTC), 5, time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)}, // Sat → Fri
		{time.Date(2026, 3, 27, 23, 30, 0, 0, time.UTC), 1, time.Date(2026, 3, 30, 0, 30, 0, 0, berlin)},  // Sat 00:30 in Berlin → Mon 00:30, over the DST change
	}
	for _, tt := range tests {
		loc := time.UTC
		if tt.from.Month() == 3 {
			loc = berlin
		}
		if got := inbox.AddBusinessDays(tt.from, tt.n, loc); !got.Equal(tt.want) {
			t.Errorf("AddBusinessDays(%v, %d) = %v, want %v", tt.from, tt.n, got, tt.want)
		}
	}
}

func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	_ = f.SetSheetName("Sheet1", masterfile.SheetBookings)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow(masterfile.SheetBookings, cell, &r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadReturned(t *testing.T) {
	t.Parallel()
	data := workbook(t, [][]any{
		{"Sr No", "Authorization Reference", "Status", "Partner response", "Partner note"},
		{1, "ref-1", "Open", "Paid", "paid 3 Dec"},
		{2, "ref-2", "Open", " disputed ", "not ours"},
		{3, "ref-3", "Open", "", ""},
		{4, "ref-4", "Open", "Maybe", "x"},
		{5, "", "", "Paid", ""},
		{6, "'ref-6", "Open", "", "only a note"},
	})
	got, err := inbox.ReadReturned(data)
	if err != nil {
		t.Fatal(err)
	}
	want := "2:ref-1:paid:paid 3 Dec 3:ref-2:disputed:not ours 7:ref-6:other:only a note"
	var rows []string
	for _, r := range got.Rows {
		rows = append(rows, fmt.Sprintf("%d:%s:%s:%s", r.Row, r.AuthRef, r.Response, r.Note))
	}
	if strings.Join(rows, " ") != want {
		t.Errorf("rows = %q\nwant %q", strings.Join(rows, " "), want)
	}
	if len(got.Problems) != 2 || !strings.Contains(got.Problems[0], `row 5 (ref-4): "Maybe" is not one of Paid, Credited, Disputed, Will pay by date, Other`) ||
		!strings.Contains(got.Problems[1], "row 6: a response without an Authorization Reference") {
		t.Errorf("problems = %q", got.Problems)
	}
	if _, err := inbox.ReadReturned([]byte("not a zip")); err == nil || !strings.Contains(err.Error(), "not a readable .xlsx") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := inbox.ReadReturned(workbook(t, [][]any{{"Authorization Reference", "Status"}})); err != inbox.ErrNotReturnedFile {
		t.Errorf("no response column: %v", err)
	}
}

// TestPollMovesOnlyWithMoveTo: without IMAP_MOVE_TO the mailbox is read-only;
// with it, handled messages move to the folder. Nothing is ever deleted.
func TestPollMovesOnlyWithMoveTo(t *testing.T) {
	t.Parallel()
	srv, err := devstack.StartIMAP(devstack.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.CreateMailbox("Processed"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_ = srv.Deliver([]byte(fmt.Sprintf("Subject: m%d\r\nMessage-ID: <m%d@p>\r\n\r\nx\r\n", i, i)))
	}
	last := uint32(0)
	state := func(context.Context, uint32) (uint32, error) { return last, nil }
	var got []uint32
	handle := func(_ context.Context, f inbox.Fetched) error {
		got = append(got, f.UID)
		last = f.UID
		return nil
	}
	mb, err := inbox.ParseURL(srv.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := mb.Poll(context.Background(), state, handle)
	if err != nil || st.Handled != 3 || st.Moved != 0 || fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("read-only poll = %+v %v, UIDs %v", st, err, got)
	}
	if n, _ := srv.Count("INBOX"); n != 3 {
		t.Errorf("INBOX holds %d messages after a read-only poll, want 3", n)
	}
	_ = srv.Deliver([]byte("Subject: m3\r\nMessage-ID: <m3@p>\r\n\r\nx\r\n"))
	mb.MoveTo = "Processed"
	st, err = mb.Poll(context.Background(), state, handle)
	if err != nil || st.Handled != 1 || st.Moved != 1 || last != 4 {
		t.Fatalf("moving poll = %+v %v, last %d", st, err, last)
	}
	in, _ := srv.Count("INBOX")
	moved, _ := srv.Count("Processed")
	if in != 3 || moved != 1 {
		t.Errorf("INBOX %d, Processed %d; want 3 and 1", in, moved)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	m, err := inbox.ParseURL("imaps://fin%40x.test:s3cret@mail.x.test/Partner%20replies", "Done")
	if err != nil || !m.TLS || m.Addr != "mail.x.test:993" || m.User != "fin@x.test" || m.Password != "s3cret" || m.Name != "Partner replies" || m.MoveTo != "Done" {
		t.Errorf("ParseURL = %+v, %v", m, err)
	}
	for _, bad := range []string{"http://x", "imap://", "x"} {
		if _, err := inbox.ParseURL(bad, ""); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

func ExampleRead() {
	m, _ := inbox.Read([]byte("From: ops@partner.test\r\nSubject: Re: [Faulty bookings] Volt (DE*VLT) 2026-11 [RD-2026-11-DE*VLT]\r\n" +
		"In-Reply-To: <rd.0b7a1c3e-0000-4000-8000-000000000001.1@recondesk.local>\r\n\r\nWe paid.\r\n"))
	fmt.Println(m.Kind, m.Refs[0], m.Period, m.PartyID)
	// Output: human <rd.0b7a1c3e-0000-4000-8000-000000000001.1@recondesk.local> 2026-11 DE*VLT
}
