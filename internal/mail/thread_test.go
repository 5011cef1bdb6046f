package mail_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"recondesk/internal/mail"
)

const testBatch = "3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012"

var testGUID = [16]byte{0x3f, 0x2a, 0x9c, 0x1e, 0x8b, 0x7d, 0x4e, 0x2f, 0x9a, 0x10, 0x5c, 0x6d, 0x7e, 0x8f, 0x90, 0x12}

func TestMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		batch  string
		seq    int
		domain string
		want   string
	}{
		{testBatch, 1, "recondesk.example", "<rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.1@recondesk.example>"},
		{testBatch, 12, "mail.example.org", "<rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.12@mail.example.org>"},
		{" 3F2A9C1E-8B7D-4E2F-9A10-5C6D7E8F9012 ", 2, " x.example ", "<rd.3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f9012.2@x.example>"},
	}
	for _, tt := range tests {
		if got := mail.MessageID(tt.batch, tt.seq, tt.domain); got != tt.want {
			t.Errorf("MessageID(%q, %d, %q) = %q, want %q", tt.batch, tt.seq, tt.domain, got, tt.want)
		}
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		partner, party, period string
		reply                  bool
		want                   string
	}{
		{"Ionity GmbH", "DE*ION", "2026-01", false, "[Faulty bookings] Ionity GmbH (DE*ION) 2026-01"},
		{"Ionity GmbH", "DE*ION", "2026-01", true, "Re: [Faulty bookings] Ionity GmbH (DE*ION) 2026-01"},
		{"  Müller\r\nLaden  AG ", " DE*MLA", "2026-02 ", false, "[Faulty bookings] Müller Laden AG (DE*MLA) 2026-02"},
	}
	for _, tt := range tests {
		if got := mail.Subject(tt.partner, tt.party, tt.period, tt.reply); got != tt.want {
			t.Errorf("Subject(%q, %q, %q, %t) = %q, want %q", tt.partner, tt.party, tt.period, tt.reply, got, tt.want)
		}
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prev []string
		want string
	}{
		{nil, ""},
		{[]string{"<a@x>"}, "<a@x>"},
		{[]string{"<a@x>", "<b@x>", "<c@x>"}, "<a@x> <b@x> <c@x>"},
	}
	for _, tt := range tests {
		if got := mail.References(tt.prev); got != tt.want {
			t.Errorf("References(%q) = %q, want %q", tt.prev, got, tt.want)
		}
	}
}

func TestThreadGUID(t *testing.T) {
	t.Parallel()
	g, err := mail.ThreadGUID(testBatch)
	if err != nil {
		t.Fatalf("ThreadGUID: %v", err)
	}
	if g != testGUID {
		t.Errorf("ThreadGUID = %x, want %x", g, testGUID)
	}
	for _, bad := range []string{"", "3f2a9c1e8b7d4e2f9a105c6d7e8f9012", "3f2a9c1e-8b7d-4e2f-9a10-5c6d7e8f901z", "3f2a9c1e-8b7d-4e2f-9a10_5c6d7e8f9012"} {
		if _, err := mail.ThreadGUID(bad); err == nil {
			t.Errorf("ThreadGUID(%q) succeeded, want an error", bad)
		}
	}
}

func decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("Thread-Index %q is not base64: %v", s, err)
	}
	return b
}

func TestThreadIndex_GoldenValues(t *testing.T) {
	t.Parallel()
	// Golden values computed independently (Python) from the [MS-OXOMSG] layout.
	topic := time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)
	replies := []time.Time{time.Date(2026, 2, 21, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 25, 9, 0, 0, 0, time.UTC)}

	if got, want := mail.ThreadIndex(topic, testGUID, nil), "AdyfIqFpPyqcHot9Ti+aEFxtfo+QEg=="; got != want {
		t.Errorf("ThreadIndex(topic) = %q, want %q", got, want)
	}
	if got, want := mail.ThreadIndex(topic, testGUID, replies), "AdyfIqFpPyqcHot9Ti+aEFxtfo+QEgD7dQQxAcSfbSI="; got != want {
		t.Errorf("ThreadIndex(topic, 2 replies) = %q, want %q", got, want)
	}

	// 2000-01-01 is FILETIME 0x01BF53EB256D4000: the header keeps its 6 high bytes.
	b := decode(t, mail.ThreadIndex(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), testGUID, nil))
	if want := []byte{0x01, 0xbf, 0x53, 0xeb, 0x25, 0x6d}; !bytes.Equal(b[:6], want) {
		t.Errorf("FILETIME bytes = % x, want % x", b[:6], want)
	}
	if !bytes.Equal(b[6:22], testGUID[:]) {
		t.Errorf("GUID bytes = % x, want % x", b[6:22], testGUID)
	}
}

func TestThreadIndex_GrowsByFiveBytesPerReply(t *testing.T) {
	t.Parallel()
	topic := time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)
	var replies []time.Time
	var prev []byte
	for n := 0; n <= 6; n++ {
		b := decode(t, mail.ThreadIndex(topic, testGUID, replies))
		if want := 22 + 5*n; len(b) != want {
			t.Fatalf("%d replies: %d bytes, want %d", n, len(b), want)
		}
		// Each message's index extends its parent's, as Outlook expects.
		if prev != nil && !bytes.Equal(b[:len(prev)], prev) {
			t.Fatalf("%d replies: index does not start with the parent's index", n)
		}
		prev = b
		replies = append(replies, topic.Add(time.Duration(n+1)*96*time.Hour))
	}

	info, err := mail.ParseThreadIndex(mail.ThreadIndex(topic, testGUID, replies[:6]))
	if err != nil {
		t.Fatalf("ParseThreadIndex: %v", err)
	}
	// The header keeps FILETIME >> 16: units of 2^16 × 100 ns (≈6.6 ms).
	if d := topic.Sub(info.Topic); d < 0 || d >= 7*time.Millisecond {
		t.Errorf("Topic = %v, want %v (within 6.6ms below)", info.Topic, topic)
	}
	if info.GUID != testGUID {
		t.Errorf("GUID = %x, want %x", info.GUID, testGUID)
	}
	if len(info.Replies) != 6 {
		t.Fatalf("len(Replies) = %d, want 6", len(info.Replies))
	}
	for i, got := range info.Replies {
		// Delta code 0 keeps the difference in units of 2^18 × 100 ns (≈26 ms).
		if d := replies[i].Sub(got); d < 0 || d >= 27*time.Millisecond {
			t.Errorf("reply %d decoded as %v, want %v (within 26ms below)", i+1, got, replies[i])
		}
	}
}

func TestThreadIndex_LongGapUsesDeltaCode1(t *testing.T) {
	t.Parallel()
	topic := time.Date(2024, 1, 10, 8, 30, 0, 0, time.UTC)
	reply := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // > 1.7 years later
	b := decode(t, mail.ThreadIndex(topic, testGUID, []time.Time{reply}))
	if b[22]&0x80 == 0 {
		t.Errorf("delta code bit is 0 for a gap over 1.7 years")
	}
	info, err := mail.ParseThreadIndex(base64.StdEncoding.EncodeToString(b))
	if err != nil {
		t.Fatalf("ParseThreadIndex: %v", err)
	}
	if d := reply.Sub(info.Replies[0]); d < 0 || d >= 840*time.Millisecond {
		t.Errorf("reply decoded as %v, want %v (within 0.84s below)", info.Replies[0], reply)
	}

	short := decode(t, mail.ThreadIndex(topic, testGUID, []time.Time{topic.Add(24 * time.Hour)}))
	if short[22]&0x80 != 0 {
		t.Errorf("delta code bit is 1 for a one-day gap")
	}
}

func TestThreadIndex_Deterministic(t *testing.T) {
	t.Parallel()
	topic := time.Date(2026, 2, 16, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	replies := []time.Time{topic.Add(120 * time.Hour)}
	a := mail.ThreadIndex(topic, testGUID, replies)
	if b := mail.ThreadIndex(topic.UTC(), testGUID, replies); a != b {
		t.Errorf("same instant in another zone gave %q and %q", a, b)
	}
	other := testGUID
	other[0] ^= 0xff
	if b := mail.ThreadIndex(topic, other, replies); a == b {
		t.Errorf("different GUIDs gave the same Thread-Index %q", a)
	}
}

func TestParseThreadIndex_Errors(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"not base64!",
		base64.StdEncoding.EncodeToString(make([]byte, 21)),
		base64.StdEncoding.EncodeToString(make([]byte, 25)),
	} {
		if _, err := mail.ParseThreadIndex(s); !errors.Is(err, mail.ErrThreadIndex) {
			t.Errorf("ParseThreadIndex(%q) error = %v, want ErrThreadIndex", s, err)
		}
	}
}

func TestThreadHeaders(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Date(2026, 2, 16, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 21, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 25, 8, 0, 0, 0, time.UTC),
	}
	p := mail.ThreadParams{
		BatchID: testBatch, Domain: "rd.example",
		PartnerName: "Ionity GmbH", PartyID: "DE*ION", Period: "2026-01",
	}
	id := func(n int) string { return mail.MessageID(testBatch, n, "rd.example") }

	tests := []struct {
		seq  int
		want mail.Thread
	}{
		{1, mail.Thread{
			MessageID: id(1), Subject: "[Faulty bookings] Ionity GmbH (DE*ION) 2026-01",
			ThreadTopic: "[Faulty bookings] Ionity GmbH (DE*ION) 2026-01",
			ThreadIndex: mail.ThreadIndex(times[0], testGUID, nil),
		}},
		{3, mail.Thread{
			MessageID: id(3), InReplyTo: id(2), References: id(1) + " " + id(2),
			Subject:     "Re: [Faulty bookings] Ionity GmbH (DE*ION) 2026-01",
			ThreadTopic: "[Faulty bookings] Ionity GmbH (DE*ION) 2026-01",
			ThreadIndex: mail.ThreadIndex(times[0], testGUID, times[1:3]),
		}},
	}
	for _, tt := range tests {
		p := p
		p.Seq = tt.seq
		p.Times = times[:tt.seq]
		got, err := mail.ThreadHeaders(p)
		if err != nil {
			t.Fatalf("seq %d: %v", tt.seq, err)
		}
		if got != tt.want {
			t.Errorf("seq %d:\n got %+v\nwant %+v", tt.seq, got, tt.want)
		}
	}

	bad := []struct {
		name   string
		modify func(*mail.ThreadParams)
		want   string
	}{
		{"not a uuid", func(p *mail.ThreadParams) { p.BatchID = "batch-1" }, "not a UUID"},
		{"seq 0", func(p *mail.ThreadParams) { p.Seq, p.Times = 0, nil }, "want 1 or more"},
		{"times missing", func(p *mail.ThreadParams) { p.Times = times[:1] }, "needs 2 message times"},
		{"no domain", func(p *mail.ThreadParams) { p.Domain = " " }, "domain is empty"},
	}
	for _, tt := range bad {
		q := p
		q.Seq, q.Times = 2, times[:2]
		tt.modify(&q)
		_, err := mail.ThreadHeaders(q)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}
