// Package chargecloudsim is a faithful simulator of ChargeCloud's faulty-booking report API
// (DESIGN §4.1), serving a deterministic, seeded data set and injecting faults on demand.
package chargecloudsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/faulty"
)

// ReportPath is the report endpoint's path.
const ReportPath = "/v1/report/emspFaultyBookings"

// Options configures a simulator; zero fields get defaults.
type Options struct {
	// Seed makes the data set; the same seed always gives the same data. Default 1.
	Seed int64
	// Token is the API token the simulator accepts as Bearer. Default "sim-token".
	Token string
	// Partners is how many partners bookings belong to (1..MaxPartners). Default 6.
	Partners int
	// BookingsPerPeriod is how many bookings each period starts with. Default 3000.
	BookingsPerPeriod int
	// Periods are the months holding bookings. Default: the month before Now.
	Periods []faulty.Period
	// Location is EMSP_TZ, the zone report times are written in. Default UTC.
	Location *time.Location
	// Now stamps the generation note. Default time.Now.
	Now func() time.Time
}

// DefaultToken is the token a simulator accepts when Options.Token is empty.
const DefaultToken = "sim-token"

// Sim is the simulator; it is an http.Handler and safe for concurrent use.
type Sim struct {
	opts Options
	gen  *generator

	mu       sync.Mutex
	counts   map[faulty.Period]int
	fixed    map[string]bool
	faults   faults
	requests int
}

type faults struct {
	latency      time.Duration
	failN        int // requests still to fail; <0 means every request
	failStatus   int
	retryAfter   string
	truncateN    int
	headerRow    int
	extraColumns bool
	missing      []string
}

// New returns a simulator for opts.
func New(opts Options) *Sim {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Partners <= 0 {
		opts.Partners = 6
	}
	opts.Partners = min(opts.Partners, MaxPartners)
	if opts.BookingsPerPeriod <= 0 {
		opts.BookingsPerPeriod = 3000
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Periods) == 0 {
		opts.Periods = []faulty.Period{faulty.PeriodOf(opts.Now(), opts.Location).Prev()}
	}
	s := &Sim{
		opts:   opts,
		gen:    newGenerator(opts.Seed, opts.Partners, opts.Location),
		counts: make(map[faulty.Period]int),
		fixed:  make(map[string]bool),
	}
	for _, p := range opts.Periods {
		s.counts[p] = opts.BookingsPerPeriod
	}
	return s
}

// Token returns the API token the simulator accepts.
func (s *Sim) Token() string { return s.opts.Token }

// Periods returns the months that hold bookings.
func (s *Sim) Periods() []faulty.Period { return slices.Clone(s.opts.Periods) }

// Partners returns the configured partners with their credential ids.
func (s *Sim) Partners() []Partner {
	out := make([]Partner, len(s.gen.partners))
	for i, p := range s.gen.partners {
		p.Credentials = slices.Clone(p.Credentials)
		out[i] = p
	}
	return out
}

// booking generates booking i of p with its current fixed state applied; s.mu must be held.
func (s *Sim) booking(p faulty.Period, i int) Booking {
	b := s.gen.booking(p, i, s.opts.BookingsPerPeriod)
	if s.fixed[b.Row.AuthorizationReference] {
		b.Fixed = true
		if b.Doc != nil {
			b.Doc.PaymentStatus = "paid"
			b.Doc.Invoiced = true
		}
	}
	return b
}

// Dataset returns every booking of every period with its document, reflecting fixes and
// additions so far. For a big data set this allocates; prefer it for seeding and tests.
func (s *Sim) Dataset() Dataset {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := Dataset{Partners: s.Partners()}
	for _, u := range unknownParties {
		d.UnknownPartyIDs = append(d.UnknownPartyIDs, u.id)
	}
	for _, p := range s.opts.Periods {
		for i := range s.counts[p] {
			d.Bookings = append(d.Bookings, s.booking(p, i))
		}
	}
	return d
}

// FixBookings marks bookings as fixed upstream: later reports leave them out and their documents
// become paid and invoiced. It returns how many references were newly fixed.
func (s *Sim) FixBookings(refs ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range refs {
		if !s.fixed[r] {
			s.fixed[r] = true
			n++
		}
	}
	return n
}

// AddBookings adds n new bookings to period p (which need not be configured yet) and returns
// their references.
func (s *Sim) AddBookings(p faulty.Period, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.counts[p]; !ok {
		s.opts.Periods = append(s.opts.Periods, p)
	}
	first := s.counts[p]
	s.counts[p] = first + max(n, 0)
	refs := make([]string, 0, max(n, 0))
	for i := first; i < s.counts[p]; i++ {
		refs = append(refs, s.booking(p, i).Row.AuthorizationReference)
	}
	return refs
}

// SetLatency delays every response by d (0 turns it off).
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = d
}

// FailNext answers the next n requests (every request when n < 0, none when n == 0) with
// status and a small HTML error page; retryAfter, when set, is sent as Retry-After. A wrong
// token is checked first and always gets 401.
func (s *Sim) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failN, s.faults.failStatus, s.faults.retryAfter = n, status, retryAfter
}

// TruncateNext cuts the body of the next n successful reports in half and drops the connection.
func (s *Sim) TruncateNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.truncateN = n
}

// SetHeaderRow moves the header to row (>= 3; 3 is the contract), padding with note rows.
func (s *Sim) SetHeaderRow(row int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.headerRow = row
}

// SetExtraColumns adds columns outside the contract (Tariff ID, Country Code, Currency).
func (s *Sim) SetExtraColumns(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.extraColumns = on
}

// SetMissingColumns leaves the named columns out of later reports (none: restore them).
func (s *Sim) SetMissingColumns(cols ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.missing = slices.Clone(cols)
}

// ResetFaults turns every fault off.
func (s *Sim) ResetFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faults{}
}

// Requests returns how many report requests the simulator has received.
func (s *Sim) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// reportRequest is the JSON body of a report request.
type reportRequest struct {
	PaymentStatus string `json:"payment_status"`
	Excel         bool   `json:"excel"`
	From          string `json:"from"`
	To            string `json:"to"`
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ServeHTTP serves the report endpoint.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != ReportPath {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		jsonError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	s.mu.Lock()
	s.requests++
	f := s.faults
	if s.faults.failN > 0 {
		s.faults.failN--
	}
	s.mu.Unlock()

	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
			return
		}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1 {
		jsonError(w, http.StatusUnauthorized, "invalid API token")
		return
	}
	if f.failN != 0 && f.failStatus != 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.failStatus)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1><p>ChargeCloud report service</p></body></html>", f.failStatus, http.StatusText(f.failStatus))
		return
	}

	var req reportRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if req.PaymentStatus != faulty.PaymentActionRequired {
		jsonError(w, http.StatusBadRequest, `payment_status must be "action_required"`)
		return
	}
	if !req.Excel {
		jsonError(w, http.StatusBadRequest, "only excel=true is supported")
		return
	}
	from, err1 := time.Parse(time.RFC3339, req.From)
	to, err2 := time.Parse(time.RFC3339, req.To)
	if err1 != nil || err2 != nil || !from.Before(to) || to.Sub(from) > 32*24*time.Hour {
		jsonError(w, http.StatusBadRequest, "from and to must be RFC 3339 times at most a month apart, from before to")
		return
	}

	var buf bytes.Buffer
	if err := s.writeReport(&buf, from, to, f); err != nil {
		jsonError(w, http.StatusInternalServerError, "report generation failed")
		return
	}
	truncate := false
	s.mu.Lock()
	if s.faults.truncateN > 0 {
		s.faults.truncateN--
		truncate = true
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="emsp-faulty-bookings-%s.xlsx"`, from.Format("2006-01-02")))
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if truncate {
		_, _ = w.Write(buf.Bytes()[:buf.Len()/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	_, _ = w.Write(buf.Bytes())
}

// contractHeader is ChargeCloud's column order, personal columns included.
var contractHeader = []string{
	"Party ID", "Partner Name", "Authorization Reference", "Charger Station ID", "Station Name",
	"City", "State", "Connector ID", "Vehicle ID", "Vehicle Make", "Vehicle Model", "VIN Number",
	"Max Charging Capacity", "Energy Consumed", "Payment Status", "Faulty Reasons", "CDR ID",
	"OCPI Session ID", "User Name", "User Phone", "Scheduled Time", "Start Time", "End Time",
	"Start SoC", "Stop SoC",
}

// writeReport streams the report workbook for [from, to) into w.
func (s *Sim) writeReport(w *bytes.Buffer, from, to time.Time, f faults) error {
	header := make([]string, 0, len(contractHeader)+3)
	for _, h := range contractHeader {
		if !slices.Contains(f.missing, h) {
			header = append(header, h)
		}
	}
	if f.extraColumns {
		header = slices.Insert(header, min(3, len(header)), "Tariff ID")
		header = append(header, "Country Code", "Currency")
	}

	x := excelize.NewFile()
	defer x.Close()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	dateStyle, err := x.NewStyle(&excelize.Style{NumFmt: 22})
	if err != nil {
		return err
	}
	boldStyle, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	row := 1
	put := func(vals []any, opts ...excelize.RowOpts) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, vals, opts...)
	}
	if err := put([]any{"EMSP Faulty Bookings Report"}, excelize.RowOpts{StyleID: boldStyle}); err != nil {
		return err
	}
	note := fmt.Sprintf("Generated %s; payment status action_required; from %s to %s",
		s.opts.Now().UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	if err := put([]any{note}); err != nil {
		return err
	}
	for row < max(f.headerRow, 3) {
		if err := put([]any{fmt.Sprintf("Note %d: figures are provisional", row)}); err != nil {
			return err
		}
	}
	hv := make([]any, len(header))
	for i, h := range header {
		hv[i] = excelize.Cell{StyleID: boldStyle, Value: h}
	}
	if err := put(hv); err != nil {
		return err
	}

	s.mu.Lock()
	periods := slices.Clone(s.opts.Periods)
	counts := make(map[faulty.Period]int, len(s.counts))
	for k, v := range s.counts {
		counts[k] = v
	}
	s.mu.Unlock()

	vals := make([]any, len(header))
	for _, p := range periods {
		pf, pt := p.Range(s.opts.Location)
		if !pf.Before(to) || !pt.After(from) {
			continue
		}
		for i := range counts[p] {
			s.mu.Lock()
			b := s.booking(p, i)
			s.mu.Unlock()
			if b.Fixed || b.Row.StartTime.Before(from) || !b.Row.StartTime.Before(to) {
				continue
			}
			for j, h := range header {
				vals[j] = s.cellValue(&b, h, dateStyle)
			}
			if err := put(vals); err != nil {
				return err
			}
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}

// cellValue renders one cell. Times use all three accepted forms: Scheduled Time as RFC 3339
// text, Start Time as an Excel date (local wall time), End Time as local text.
func (s *Sim) cellValue(b *Booking, col string, dateStyle int) any {
	r, pd := &b.Row, &b.Personal
	local := func(t time.Time) time.Time {
		t = t.In(s.opts.Location)
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	}
	switch col {
	case "Party ID":
		return r.PartyID
	case "Partner Name":
		return r.PartnerName
	case "Authorization Reference":
		return r.AuthorizationReference
	case "Charger Station ID":
		return r.ChargerStationID
	case "Station Name":
		return r.StationName
	case "City":
		return r.City
	case "State":
		return r.State
	case "Connector ID":
		return r.ConnectorID
	case "Energy Consumed":
		return float64(r.EnergyConsumed) / 1000
	case "Payment Status":
		return r.PaymentStatus
	case "Faulty Reasons":
		return r.FaultyReasons
	case "CDR ID":
		return r.CDRID
	case "OCPI Session ID":
		return r.OCPISessionID
	case "Scheduled Time":
		return r.ScheduledTime.UTC().Format(time.RFC3339)
	case "Start Time":
		return excelize.Cell{StyleID: dateStyle, Value: local(r.StartTime)}
	case "End Time":
		return r.EndTime.In(s.opts.Location).Format(faulty.ReportTimeLayout)
	case "Start SoC":
		return r.StartSoC
	case "Stop SoC":
		return r.StopSoC
	case "Vehicle ID":
		return pd.VehicleID
	case "Vehicle Make":
		return pd.VehicleMake
	case "Vehicle Model":
		return pd.VehicleModel
	case "VIN Number":
		return pd.VIN
	case "Max Charging Capacity":
		return pd.MaxChargingCapacity
	case "User Name":
		return pd.UserName
	case "User Phone":
		return pd.UserPhone
	case "Tariff ID":
		return "TRF-" + r.ConnectorID
	case "Country Code":
		return r.PartyID[:2]
	case "Currency":
		return "EUR"
	}
	return nil
}
