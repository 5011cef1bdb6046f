package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"recondesk/internal/auth"
	"recondesk/internal/mail"
	"recondesk/internal/store"
)

func TestMailboxShowsMessageAttachmentAndThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	topic := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	var ids []string
	for seq := 1; seq <= 2; seq++ {
		th, err := mail.ThreadHeaders(mail.ThreadParams{
			BatchID: "7a0f3b5e-8f7a-4b1c-9a55-2f4d8c1e6b90", Seq: seq, Domain: "recondesk.test",
			PartnerName: "Ionity", PartyID: "DE*ION", Period: "2026-10",
			Times: []time.Time{topic, topic.AddDate(0, 0, 5)}[:seq],
		})
		if err != nil {
			t.Fatal(err)
		}
		m := mail.Message{From: "finance@recondesk.test", To: []string{"ops@ionity.example"}, Text: "Level: Notification", HTML: "<p>Level</p>",
			Date: topic, Attachments: []mail.Attachment{{Name: "master-v1.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: []byte("PK-bytes")}}}
		m.SetThread(th)
		raw, err := mail.Render(m, topic)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, th.MessageID)
		if _, err := store.InsertMailboxMessage(ctx, b.db.Pool, store.MailboxMessage{From: m.From, To: m.To, MessageID: th.MessageID, Subject: th.Subject, Raw: raw}); err != nil {
			t.Fatal(err)
		}
	}
	admin := b.login(t, auth.Admin)
	_, list := b.get(t, admin, "/admin/mailbox")
	if n := strings.Count(list, `data-testid="mailbox-row"`); n != 2 {
		t.Fatalf("mailbox rows = %d", n)
	}
	var first int64
	_ = b.db.Pool.QueryRow(ctx, `SELECT min(id) FROM mailbox_messages`).Scan(&first)
	resp, page := b.get(t, admin, "/admin/mailbox/"+itoa(first))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("message page: %d", resp.StatusCode)
	}
	mustContain(t, page, "[Faulty bookings] Ionity (DE*ION) 2026-10", html.EscapeString(ids[0]), "Level: Notification", "master-v1.xlsx", "auto-generated")
	// The thread of the first message includes the reply that references it.
	if n := strings.Count(page, `data-testid="mailbox-row"`); n != 2 {
		t.Fatalf("thread rows = %d; want 2", n)
	}
	resp2, err := admin.Get(b.srv.URL + "/admin/mailbox/" + itoa(first) + "/attachments/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	body, _ := io.ReadAll(resp2.Body)
	if string(body) != "PK-bytes" || !strings.Contains(resp2.Header.Get("Content-Disposition"), "master-v1.xlsx") {
		t.Fatalf("attachment: %q %q", body, resp2.Header.Get("Content-Disposition"))
	}
	if r, _ := b.get(t, admin, "/admin/mailbox/"+itoa(first)+"/attachments/5"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("missing attachment: %d", r.StatusCode)
	}
}
