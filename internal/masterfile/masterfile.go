// Package masterfile writes the Excel master file of a faulty-bookings batch (DESIGN §4.4):
// the Bookings, Tracking and Summary sheets, with formula-injection escaping of every text cell.
// It is pure: the caller loads the batch and stores the bytes.
package masterfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names, in workbook order.
const (
	SheetBookings = "Bookings"
	SheetTracking = "Tracking"
	SheetSummary  = "Summary"
)

// BookingsHeader is the header row of the Bookings sheet.
var BookingsHeader = []string{
	"Sr No", "Authorization Reference", "CDR ID", "OCPI Session ID", "Station", "City", "Connector",
	"Start", "End", "Energy kWh", "Fault reasons", "Status", "First notified", "Last reminded", "Resolved at",
	ColPartnerResponse, ColPartnerNote,
}

// The columns a partner fills in and returns (DESIGN §4.7).
const (
	ColPartnerResponse = "Partner response"
	ColPartnerNote     = "Partner note"
)

// PartnerResponses are the choices of the "Partner response" drop-down.
var PartnerResponses = []string{"Paid", "Credited", "Disputed", "Will pay by date", "Other"}

// TrackingHeader is the header row of the Tracking sheet.
var TrackingHeader = []string{"Seq", "Level", "Message-ID", "State", "Sent at", "To", "Cc"}

// TimeLayout is how times read (wall clock in the batch's location).
const TimeLayout = "2006-01-02 15:04:05"

// DateNumFmt is the number format of every date cell: the same reading as TimeLayout, but the
// cell holds a real Excel date, so partners can sort, filter and compute with it.
const DateNumFmt = "yyyy-mm-dd hh:mm:ss"

// Batch is everything one master file shows.
type Batch struct {
	// ID is the batch's uuid.
	ID          string
	PartyID     string
	PartnerName string
	// Period is YYYY-MM.
	Period string
	// Version is the master file version being written (1 for the first).
	Version     int
	GeneratedAt time.Time
	// Location is EMSP_TZ, the zone times are written in; nil means UTC.
	Location *time.Location
	Items    []Item
	Emails   []Email
	// History is each booking's state changes, listed under the emails on the Tracking sheet
	// (grouped by booking, oldest first).
	History []Event
	// EachItem, when set, streams the bookings instead of Items: it calls yield for each in
	// sheet order and returns yield's first error. The Bookings sheet is written row by row as
	// they come, so a batch's items are never all in memory.
	EachItem func(yield func(Item) error) error
	// EachEvent, when set, streams the history instead of History, like EachItem.
	EachEvent func(yield func(Event) error) error
}

// Event is one state change in a booking's history (the Tracking sheet).
type Event struct {
	AuthRef string
	At      time.Time
	// Event names the change for people (EventLabel).
	Event string
	// From and To are the item states before and after ("" when the change kept the state).
	From, To string
	// By is who or what made the change (a user, the partner, the system).
	By   string
	Note string
}

// The history events the store reports (Event.Event is their EventLabel).
const (
	EventConfirmed       = "confirmed"
	EventCreated         = "created"
	EventDisputed        = "disputed"
	EventDisputeAccepted = "dispute_accepted"
	EventDisputeRejected = "dispute_rejected"
	EventReopened        = "reopened"
	EventResponse        = "response"
)

// EventLabel names a history event (an item event's "how", a resolution or one of the Event
// constants) for people.
func EventLabel(how string) string {
	switch how {
	case EventConfirmed:
		return "Confirmed faulty"
	case EventCreated:
		return "Created"
	case EventDisputed:
		return "Disputed by the partner"
	case EventDisputeAccepted:
		return "Dispute accepted"
	case EventDisputeRejected:
		return "Dispute rejected"
	case EventReopened:
		return "Reopened"
	case EventResponse:
		return "Partner response"
	case "disappeared", "no_longer_faulty", "manual":
		return Status("resolved", how, 0)
	}
	return how
}

// HistoryTitle heads the booking history on the Tracking sheet; HistoryHeader is its header row.
const HistoryTitle = "Booking history"

// HistoryHeader is the header row of the booking history on the Tracking sheet.
var HistoryHeader = []string{"Authorization Reference", "At", "Event", "From", "To", "By", "Note"}

// each calls yield for every item of b (streamed or listed).
func (b Batch) each(yield func(Item) error) error { return streamOrList(b.EachItem, b.Items, yield) }

// eachEvent calls yield for every history event of b (streamed or listed).
func (b Batch) eachEvent(yield func(Event) error) error {
	return streamOrList(b.EachEvent, b.History, yield)
}

// streamOrList calls yield for every value of stream when it is set, else
// of list.
func streamOrList[T any](stream func(func(T) error) error, list []T, yield func(T) error) error {
	if stream != nil {
		return stream(yield)
	}
	for _, v := range list {
		if err := yield(v); err != nil {
			return err
		}
	}
	return nil
}

// Item is one booking of the batch.
type Item struct {
	AuthRef       string
	CDRID         string
	OCPISessionID string
	StationName   string
	StationID     string
	City          string
	Connector     string
	Start, End    time.Time
	// EnergyWh is the energy in whole watt-hours.
	EnergyWh int64
	// FaultReasons are MongoDB's authoritative reasons.
	FaultReasons []string
	// State is "open" or "resolved"; Resolution says how a resolved item was resolved.
	State      string
	Resolution string
	Reopened   int
	// CreatedAt is when the item joined the batch; emails before it did not concern it.
	CreatedAt  time.Time
	ResolvedAt time.Time
}

// Email is one message of the batch's thread.
type Email struct {
	Seq       int
	Level     string
	MessageID string
	State     string
	// SentAt is zero until the message is sent.
	SentAt time.Time
	To, CC []string
}

// Levels counted as reminders in the "Last reminded" column.
var reminderLevels = map[string]bool{"reminder": true, "final_reminder": true, "re_escalation": true}

// Escape makes a text cell safe from formula injection: a value beginning with =, +, -, @, a tab
// or a carriage return gets a leading apostrophe.
func Escape(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Status is the text of the Status column for an item.
func Status(state, resolution string, reopened int) string {
	if state == "resolved" {
		switch resolution {
		case "disappeared":
			return "Resolved: no longer in the report"
		case "no_longer_faulty":
			return "Resolved: no longer faulty"
		case "manual":
			return "Resolved: manually"
		}
		return "Resolved"
	}
	if reopened > 0 {
		return fmt.Sprintf("Open (reopened %d×)", reopened)
	}
	return "Open"
}

// SHA256 returns the hex SHA-256 of data, as stored with each version.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Build writes the workbook of b and returns its bytes.
func Build(b Batch) ([]byte, error) {
	loc := b.Location
	if loc == nil {
		loc = time.UTC
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetBookings); err != nil {
		return nil, fmt.Errorf("masterfile: %w", err)
	}
	for _, name := range []string{SheetTracking, SheetSummary} {
		if _, err := f.NewSheet(name); err != nil {
			return nil, fmt.Errorf("masterfile: %w", err)
		}
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	// Bookings (the first sheet) is the active one. Set before the sheets are streamed:
	// afterwards excelize would parse every streamed sheet back to mark it.
	f.SetActiveSheet(0)
	counts, err := writeBookings(f, b, loc, st)
	if err != nil {
		return nil, err
	}
	if err := writeTracking(f, b, loc, st); err != nil {
		return nil, err
	}
	if err := writeSummary(f, b, counts, loc, st); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("masterfile: write: %w", err)
	}
	return buf.Bytes(), nil
}

// styles are the workbook's cell styles.
type styles struct{ bold, date int }

func newStyles(f *excelize.File) (styles, error) {
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return styles{}, fmt.Errorf("masterfile: %w", err)
	}
	date, err := NewDateStyle(f)
	if err != nil {
		return styles{}, err
	}
	return styles{bold: bold, date: date}, nil
}

// NewDateStyle adds the DateNumFmt style to f and returns its id.
func NewDateStyle(f *excelize.File) (int, error) {
	numFmt := DateNumFmt
	id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return 0, fmt.Errorf("masterfile: date style: %w", err)
	}
	return id, nil
}

// DateCell is t as a date cell showing the wall clock in loc; nil (an empty cell) for the zero time.
func DateCell(t time.Time, loc *time.Location, style int) any {
	if t.IsZero() {
		return nil
	}
	// excelize writes a time's wall clock in its own location.
	return excelize.Cell{StyleID: style, Value: t.In(loc)}
}

// TableLayout gives a streamed sheet its table layout: the given column widths (characters,
// from column A) and the header row frozen. Call it before the first SetRow.
func TableLayout(sw *excelize.StreamWriter, widths []float64) error {
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return fmt.Errorf("masterfile: width: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return fmt.Errorf("masterfile: panes: %w", err)
	}
	return nil
}

// AutoFilter puts an autofilter over the header and rows data rows (at least one) of the
// first cols columns of a streamed sheet. Call it before sw.Flush, which writes it.
func AutoFilter(f *excelize.File, sw *excelize.StreamWriter, cols, rows int) error {
	last, err := excelize.CoordinatesToCellName(cols, max(rows, 1)+1)
	if err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	if err := f.AutoFilter(sw.Sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("masterfile: autofilter: %w", err)
	}
	return nil
}

func text(vals ...string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = Escape(v)
	}
	return out
}

func header(sw *excelize.StreamWriter, cols []string, style int) error {
	row := make([]any, len(cols))
	for i, c := range cols {
		row[i] = excelize.Cell{StyleID: style, Value: c}
	}
	return sw.SetRow("A1", row)
}

// sentEmails returns the sent emails ordered by time.
func sentEmails(es []Email) []Email {
	var out []Email
	for _, e := range es {
		if e.State == "sent" && !e.SentAt.IsZero() {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SentAt.Before(out[j].SentAt) })
	return out
}

// bookingsWidths are the widths of the BookingsHeader columns.
var bookingsWidths = []float64{7, 28, 28, 28, 36, 16, 10, 20, 20, 11, 30, 30, 20, 20, 20, 18, 40}

// trackingWidths are the widths of the TrackingHeader columns.
var trackingWidths = []float64{26, 20, 50, 10, 20, 40, 40}

// bookingCounts are the Summary's figures, counted while the Bookings sheet is written.
type bookingCounts struct {
	items, open, resolved int
	energyOpen            int64
	byHow                 map[string]int
}

func writeBookings(f *excelize.File, b Batch, loc *time.Location, st styles) (bookingCounts, error) {
	c := bookingCounts{byHow: map[string]int{}}
	sw, err := f.NewStreamWriter(SheetBookings)
	if err != nil {
		return c, fmt.Errorf("masterfile: %w", err)
	}
	if err := TableLayout(sw, bookingsWidths); err != nil {
		return c, err
	}
	if err := header(sw, BookingsHeader, st.bold); err != nil {
		return c, fmt.Errorf("masterfile: %w", err)
	}
	sent := sentEmails(b.Emails)
	row := make([]any, 0, len(BookingsHeader))
	err = b.each(func(it Item) error {
		var first, last time.Time
		for _, e := range sent {
			if e.SentAt.Before(it.CreatedAt) {
				continue
			}
			if !it.ResolvedAt.IsZero() && it.State == "resolved" && e.SentAt.After(it.ResolvedAt) {
				break
			}
			if first.IsZero() {
				first = e.SentAt
			} else if reminderLevels[e.Level] {
				last = e.SentAt
			}
		}
		station := it.StationName
		if it.StationID != "" && it.StationID != it.StationName {
			if station == "" {
				station = it.StationID
			} else {
				station += " (" + it.StationID + ")"
			}
		}
		resolved := time.Time{}
		if it.State == "resolved" {
			resolved = it.ResolvedAt
			c.resolved++
			c.byHow[it.Resolution]++
		} else {
			c.open++
			c.energyOpen += it.EnergyWh
		}
		c.items++
		row = append(row[:0], c.items)
		row = append(row, text(it.AuthRef, it.CDRID, it.OCPISessionID, station, it.City, it.Connector)...)
		row = append(row, DateCell(it.Start, loc, st.date), DateCell(it.End, loc, st.date), float64(it.EnergyWh)/1000)
		row = append(row, text(strings.Join(it.FaultReasons, ", "), Status(it.State, it.Resolution, it.Reopened))...)
		row = append(row, DateCell(first, loc, st.date), DateCell(last, loc, st.date), DateCell(resolved, loc, st.date))
		cell, _ := excelize.CoordinatesToCellName(1, c.items+1)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("masterfile: bookings row %d: %w", c.items, err)
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	// The stream writer writes the autofilter and the data validations when it flushes.
	if err := AutoFilter(f, sw, len(BookingsHeader), c.items); err != nil {
		return c, err
	}
	if err := addResponseDropDown(f, c.items); err != nil {
		return c, err
	}
	if err := sw.Flush(); err != nil {
		return c, fmt.Errorf("masterfile: %w", err)
	}
	return c, nil
}

// addResponseDropDown puts the PartnerResponses drop-down on the "Partner
// response" cell of every booking row.
func addResponseDropDown(f *excelize.File, items int) error {
	col, _ := excelize.ColumnNumberToName(len(BookingsHeader) - 1)
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, max(items, 1)+1)
	if err := dv.SetDropList(PartnerResponses); err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, ColPartnerResponse, "Choose one of: "+strings.Join(PartnerResponses, ", "))
	if err := f.AddDataValidation(SheetBookings, dv); err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	return nil
}

// writeTracking writes the thread's emails (by Seq) and, under them, each booking's history.
func writeTracking(f *excelize.File, b Batch, loc *time.Location, st styles) error {
	sw, err := f.NewStreamWriter(SheetTracking)
	if err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	if err := TableLayout(sw, trackingWidths); err != nil {
		return err
	}
	if err := AutoFilter(f, sw, len(TrackingHeader), len(b.Emails)); err != nil {
		return err
	}
	if err := header(sw, TrackingHeader, st.bold); err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	es := append([]Email(nil), b.Emails...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
	line := 1
	for _, e := range es {
		row := []any{e.Seq}
		row = append(row, text(e.Level, e.MessageID, e.State)...)
		row = append(row, DateCell(e.SentAt, loc, st.date))
		row = append(row, text(strings.Join(e.To, ", "), strings.Join(e.CC, ", "))...)
		line++
		cell, _ := excelize.CoordinatesToCellName(1, line)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("masterfile: tracking row %d: %w", line, err)
		}
	}
	// The history follows after a blank row, under its own title and header.
	started := false
	row := make([]any, 0, len(HistoryHeader))
	err = b.eachEvent(func(e Event) error {
		if !started {
			started = true
			title, _ := excelize.CoordinatesToCellName(1, line+2)
			if err := sw.SetRow(title, []any{excelize.Cell{StyleID: st.bold, Value: HistoryTitle}}); err != nil {
				return fmt.Errorf("masterfile: %w", err)
			}
			hdr := make([]any, len(HistoryHeader))
			for i, h := range HistoryHeader {
				hdr[i] = excelize.Cell{StyleID: st.bold, Value: h}
			}
			line += 3
			cell, _ := excelize.CoordinatesToCellName(1, line)
			if err := sw.SetRow(cell, hdr); err != nil {
				return fmt.Errorf("masterfile: %w", err)
			}
		}
		row = append(row[:0], Escape(e.AuthRef), DateCell(e.At, loc, st.date))
		row = append(row, text(EventLabel(e.Event), e.From, e.To, e.By, e.Note)...)
		line++
		cell, _ := excelize.CoordinatesToCellName(1, line)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("masterfile: history row %d: %w", line, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	return nil
}

func writeSummary(f *excelize.File, b Batch, c bookingCounts, loc *time.Location, st styles) error {
	sw, err := f.NewStreamWriter(SheetSummary)
	if err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	_ = sw.SetColWidth(1, 1, 28)
	_ = sw.SetColWidth(2, 2, 48)
	open, resolved, energyOpen, byHow := c.open, c.resolved, c.energyOpen, c.byHow
	rows := [][]any{
		{excelize.Cell{StyleID: st.bold, Value: "Faulty bookings master file"}},
		text("Partner", b.PartnerName),
		text("Party ID", b.PartyID),
		text("Period", b.Period),
		text("Batch", b.ID),
		{"Version", b.Version},
		{"Generated at", DateCell(b.GeneratedAt, loc, st.date)},
		text("Time zone", loc.String()),
		{"Bookings", c.items},
		{"Open", open},
		{"Resolved", resolved},
		{"Resolved: no longer in the report", byHow["disappeared"]},
		{"Resolved: no longer faulty", byHow["no_longer_faulty"]},
		{"Resolved: manually", byHow["manual"]},
		{"Open energy kWh", float64(energyOpen) / 1000},
		{"Emails sent", len(sentEmails(b.Emails))},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			return fmt.Errorf("masterfile: summary: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("masterfile: %w", err)
	}
	return nil
}
