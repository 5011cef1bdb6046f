package faulty

import (
	"fmt"
	"github.com/a-h/templ"
	"net/url"
	"recondesk/internal/format"
	"time"

	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// Cell is one batch in the overview grid.
type Cell struct {
	BatchID  string
	Open     int
	Resolved int
	State    faulty.BatchStatus
	// Late names the steps past their deadline (shown in red).
	Late []string
}

// OverviewPartner is one row of the overview grid.
type OverviewPartner struct {
	ID      int64
	PartyID string
	Name    string
}

// OverviewData is the periods × partners grid.
type OverviewData struct {
	Periods  []string
	Partners []OverviewPartner
	// Cells maps CellKey(period, partner id) to the batch.
	Cells map[string]Cell
	// Period is the period filter ("" for all).
	Period string
}

// CellKey keys a cell of the overview grid.
func CellKey(period string, partnerID int64) string { return fmt.Sprintf("%s/%d", period, partnerID) }

func (d OverviewData) cell(period string, partnerID int64) (Cell, bool) {
	c, ok := d.Cells[CellKey(period, partnerID)]
	return c, ok
}

// ItemsPerPage is how many bookings the batch page shows at once.
const ItemsPerPage = 100

// BatchData is what the batch page shows.
type BatchData struct {
	Batch    store.LadderBatch
	State    faulty.BatchStatus
	Timeline []faulty.StepView
	Items    []store.LadderItem
	// Page is the keyset page the items come from, with the filter's counts.
	Page        store.LadderItemPage
	Filter      store.LadderItemFilter
	Reasons     []string
	Emails      []store.FaultyEmail
	MasterFiles []store.LadderMasterFile
	// CanAct shows the finance actions.
	CanAct bool
	Loc    *time.Location
	// Next is the next step of the ladder, for "Run now" ("" when none).
	Next string
	// Inbox is the partner-replies part of the page (views/inbox), nil for none.
	Inbox templ.Component
}

// PanelData is the faulty-bookings summary on Home.
type PanelData struct {
	Period   string
	Partners []string
	Open     []int64
	ByState  []StateCount
	Late     []LateStep
}

// StateCount is the number of batches in one state.
type StateCount struct {
	State faulty.BatchStatus
	Count int
}

// LateStep is one step past its deadline.
type LateStep struct {
	BatchID string
	Partner string
	Period  string
	Step    string
}

// StepLabel names a timeline step for people.
func StepLabel(v faulty.StepView) string {
	if v.Level != "" {
		return LevelLabel(v.Level, 0)
	}
	switch v.Phase {
	case faulty.PhaseIngestion:
		return "Ingestion"
	case faulty.PhaseValidation:
		return "Validation"
	case faulty.PhaseTracking:
		return "Master file"
	case faulty.PhaseMonitoring:
		return "Monitoring"
	case faulty.PhasePartnerResponded:
		return "Partner responded"
	}
	return string(v.Phase)
}

// StateColor is the badge colour of a batch state.
func StateColor(s faulty.BatchStatus) string {
	switch s {
	case faulty.BatchNotified:
		return "blue"
	case faulty.BatchReminded:
		return "amber"
	case faulty.BatchEscalated:
		return "purple"
	case faulty.BatchOverdue:
		return "red"
	case faulty.BatchResolved:
		return "green"
	}
	return ""
}

// EmailColor is the badge colour of an outbox state.
func EmailColor(state string) string {
	switch state {
	case store.EmailSent:
		return "green"
	case store.EmailFailed:
		return "red"
	case store.EmailUnknown:
		return "amber"
	case store.EmailSending:
		return "blue"
	}
	return ""
}

func emailStateTitle(e store.FaultyEmail) string {
	switch e.State {
	case store.EmailUnknown:
		return "The server may or may not have accepted it; it is not resent automatically. Check with the partner, then mark it sent or resend it."
	case store.EmailFailed:
		return e.LastError
	case store.EmailPending:
		if e.LastError != "" {
			return "Will retry: " + e.LastError
		}
		return "Queued for sending"
	}
	return e.ServerReply
}

func stepColor(s faulty.State) string {
	switch s {
	case faulty.StateDone:
		return "#15803d"
	case faulty.StateDue:
		return "#0369a1"
	case faulty.StateLate:
		return "#b91c1c"
	case faulty.StateSkipped:
		return "#cbd5e1"
	case faulty.StatePaused:
		return "#b45309"
	}
	return "#94a3b8"
}

func (d BatchData) ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return format.TimeIn(t, d.Loc)
}

func (d BatchData) tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return d.ts(*t)
}

func (d BatchData) day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(d.Loc).Format("Jan 2")
}

func (d BatchData) levelLabel(e store.FaultyEmail) string {
	n := 0
	if faulty.Level(e.Level) == faulty.LevelReEscalation {
		fmt.Sscanf(e.StepKey, "re_escalation:%d", &n)
	}
	return LevelLabel(faulty.Level(e.Level), n)
}

// filterQuery is the items filter as query values (without a cursor).
func (d BatchData) filterQuery() url.Values {
	q := url.Values{}
	if d.Filter.State != "" {
		q.Set("state", d.Filter.State)
	}
	if d.Filter.Reason != "" {
		q.Set("reason", d.Filter.Reason)
	}
	if d.Filter.Search != "" {
		q.Set("q", d.Filter.Search)
	}
	return q
}

func (d BatchData) itemsURL() string {
	return "/faulty/batches/" + d.Batch.ID + "/items?" + d.filterQuery().Encode()
}

// pageURL is the batch page (items = true: its items fragment) at the page
// after (cursor "after") or before (cursor "before") the item id.
func (d BatchData) pageURL(items bool, cursor string, id int64) string {
	q := d.filterQuery()
	q.Set(cursor, fmt.Sprint(id))
	u := "/faulty/batches/" + d.Batch.ID
	if items {
		u += "/items"
	}
	return u + "?" + q.Encode()
}

// pageOpen lists the open items shown on this page.
func (d BatchData) pageOpen() []store.LadderItem {
	var out []store.LadderItem
	for _, it := range d.Items {
		if it.State == store.ItemOpen {
			out = append(out, it)
		}
	}
	return out
}

func (d BatchData) openCount() int { return d.Batch.Facts.Open }

func kwh(e *faulty.Energy) string {
	if e == nil {
		return ""
	}
	return e.KWh()
}
