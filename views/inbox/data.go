// Package inbox holds the pages of partner replies: the conversation, disputes
// and partner responses on the batch page, the Unmatched mail queue and the
// Disputes page.
package inbox

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"recondesk/internal/format"
	"recondesk/internal/store"
)

// Entry is one message of a batch's conversation: ours (Email) or theirs (Inbound).
type Entry struct {
	At      time.Time
	Email   *store.FaultyEmail
	Inbound *store.Inbound
}

// BatchData is the inbox part of the batch page.
type BatchData struct {
	BatchID      string
	Conversation []Entry
	Responses    []store.LatestResponse
	Disputes     []store.Dispute
	Failures     []store.RecipientFailure
	// PausedUntil is when the ladder's pause after a partner's reply ends (zero when none).
	PausedUntil time.Time
	// PendingNotes are rejected disputes' notes the next email carries.
	PendingNotes []string
	CanAct       bool
	Loc          *time.Location
}

// Conversation merges our emails and the partner's messages in time order.
func Conversation(emails []store.FaultyEmail, inbound []store.Inbound) []Entry {
	out := make([]Entry, 0, len(emails)+len(inbound))
	for i := range emails {
		e := &emails[i]
		at := e.PlannedAt
		if e.SentAt != nil {
			at = *e.SentAt
		}
		out = append(out, Entry{At: at, Email: e})
	}
	for i := range inbound {
		out = append(out, Entry{At: inbound[i].ReceivedAt, Inbound: &inbound[i]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// UnmatchedData is the Unmatched mail queue.
type UnmatchedData struct {
	Messages []store.Inbound
	// Batches are the choices of the attach form (latest periods first).
	Batches []BatchChoice
	CanAct  bool
	Loc     *time.Location
}

// BatchChoice is one batch a message can be attached to.
type BatchChoice struct {
	ID, Label string
}

// DisputesData is the Disputes page.
type DisputesData struct {
	Disputes []store.Dispute
	// State filters the list: open (default), accepted, rejected or all.
	State  string
	CanAct bool
	Loc    *time.Location
	// Count is how many disputes the state holds (exact, or about).
	Count store.Count
	// Older and Newer are the dispute ids the Next and Previous pages start
	// from (0: no such page); First says this is the newest page.
	Older, Newer int64
	First        bool
	// Back is where a decision returns to (this page; "/disputes" when empty).
	Back string
}

// pageURL is the Disputes page of the state from a cursor ("before" or
// "after" a dispute id; none is the newest page).
func (d DisputesData) pageURL(key string, id int64) templ.SafeURL {
	q := url.Values{"state": {d.State}}
	if key != "" {
		q.Set(key, strconv.FormatInt(id, 10))
	}
	return templ.SafeURL("/disputes?" + q.Encode())
}

func (d DisputesData) back() string {
	if d.Back == "" {
		return "/disputes"
	}
	return d.Back
}

// disputeCount is the size of the list for people: "1 dispute", "1,234
// disputes", "about 12,000 disputes".
func disputeCount(c store.Count) string {
	if c.Exact {
		return format.Count(c.N, "dispute", "disputes")
	}
	return "about " + format.Int(c.Rounded()) + " disputes"
}

func ts(loc *time.Location, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return format.TimeIn(t, loc)
}

// KindLabel names a message kind.
func KindLabel(kind string) string {
	switch kind {
	case "auto_reply":
		return "auto-reply"
	case "bounce":
		return "bounce"
	}
	return "reply"
}

func kindColor(kind string) string {
	switch kind {
	case "bounce":
		return "red"
	case "auto_reply":
		return ""
	}
	return "blue"
}

// ResponseLabel is a stored response as the drop-down shows it.
func ResponseLabel(r string) string {
	switch r {
	case "paid":
		return "Paid"
	case "credited":
		return "Credited"
	case "disputed":
		return "Disputed"
	case "will_pay":
		return "Will pay by date"
	}
	return "Other"
}

func attachmentURL(m *store.Inbound, a store.InboundAttachment) string {
	return fmt.Sprintf("/inbox/messages/%d/attachments/%d", m.ID, a.ID)
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
