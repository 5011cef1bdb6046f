package chargecloudsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"recondesk/internal/faulty"
)

var oct2026 = faulty.Period{Year: 2026, Month: time.October}

// setup returns a small simulator; o overrides the defaults of the fixture.
func setup(t *testing.T, o Options) *Sim {
	t.Helper()
	if o.BookingsPerPeriod == 0 {
		o.BookingsPerPeriod = 200
	}
	if o.Periods == nil {
		o.Periods = []faulty.Period{oct2026}
	}
	if o.Partners == 0 {
		o.Partners = 4
	}
	o.Now = func() time.Time { return time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC) }
	return New(o)
}

// fetch posts a report request for period p to the handler and returns the response.
func fetch(t *testing.T, s *Sim, p faulty.Period, token string) *httptest.ResponseRecorder {
	t.Helper()
	from, to := p.Range(s.opts.Location)
	body := fmt.Sprintf(`{"payment_status":"action_required","excel":true,"from":%q,"to":%q}`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	req := httptest.NewRequest(http.MethodPost, ReportPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// readRows reads every row of a report body, failing the test on any error.
func readRows(t *testing.T, b []byte, loc *time.Location) (*faulty.ReportReader, []faulty.ReportRow) {
	t.Helper()
	rr, err := faulty.ReadReport(bytes.NewReader(b), int64(len(b)), faulty.ReportOptions{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rr.Close() })
	var rows []faulty.ReportRow
	for {
		row, err := rr.Next()
		if err == io.EOF {
			return rr, rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func TestReportMatchesDataset(t *testing.T) {
	t.Parallel()
	// November has no DST switch in Berlin, so Excel wall times map back to one instant.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	nov := faulty.Period{Year: 2026, Month: time.November}
	s := setup(t, Options{Location: berlin, Periods: []faulty.Period{nov}})
	rec := fetch(t, s, nov, DefaultToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Errorf("Content-Type = %q", ct)
	}
	rr, rows := readRows(t, rec.Body.Bytes(), berlin)
	if rr.HeaderRow() != 3 || rows[0].Row != 4 {
		t.Errorf("header row %d, first data row %d; want 3 and 4", rr.HeaderRow(), rows[0].Row)
	}
	ds := s.Dataset()
	if len(rows) != len(ds.Bookings) || len(rows) != 200 {
		t.Fatalf("report has %d rows, data set %d bookings, want 200", len(rows), len(ds.Bookings))
	}
	dump := fmt.Sprintf("%+v", rows)
	for i, b := range ds.Bookings {
		want := b.Row
		want.Row = rows[i].Row
		if !reflect.DeepEqual(rows[i], want) {
			t.Fatalf("row %d =\n%+v\nwant\n%+v", i, rows[i], want)
		}
		for _, pv := range b.Personal.Values() {
			if pv != "" && strings.Contains(dump, pv) {
				t.Fatalf("personal value %q leaked", pv)
			}
		}
	}
}

func TestDatasetOutcomes(t *testing.T) {
	t.Parallel()
	s := setup(t, Options{BookingsPerPeriod: 2000, Partners: 5})
	ds := s.Dataset()
	creds := map[string][]string{}
	for _, p := range ds.Partners {
		if len(p.Credentials) < 1 || len(p.Credentials) > 2 {
			t.Errorf("partner %s has %d credentials", p.PartyID, len(p.Credentials))
		}
		creds[p.PartyID] = p.Credentials
	}
	if len(ds.Partners) != 5 {
		t.Fatalf("%d partners, want 5", len(ds.Partners))
	}
	counts := map[faulty.Reason]int{}
	ids := map[string]bool{}
	for _, b := range ds.Bookings {
		counts[b.Expect]++
		got := faulty.ReasonUnknownPartner
		if pc, ok := creds[b.Row.PartyID]; ok {
			got = faulty.Check(b.Row.AuthorizationReference, b.Doc, pc)
		}
		if got != b.Expect {
			t.Fatalf("booking %s of %s: predicate says %q, planted %q", b.Row.AuthorizationReference, b.Row.PartyID, got, b.Expect)
		}
		if b.Doc != nil {
			if ids[b.Doc.ID] {
				t.Fatalf("duplicate _id %s", b.Doc.ID)
			}
			ids[b.Doc.ID] = true
		}
	}
	for _, r := range faulty.Reasons {
		if counts[r] == 0 {
			t.Errorf("no booking with outcome %s", r)
		}
	}
	if c := counts[faulty.ReasonNone]; c < 1200 || c > 1600 {
		t.Errorf("%d confirmed of 2000, want about 70%%", c)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := setup(t, Options{Seed: 7}).Dataset()
	b := setup(t, Options{Seed: 7}).Dataset()
	c := setup(t, Options{Seed: 8}).Dataset()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different data sets")
	}
	if reflect.DeepEqual(a.Partners, c.Partners) || a.Bookings[50].Row.AuthorizationReference == c.Bookings[50].Row.AuthorizationReference {
		t.Fatal("different seeds gave the same data")
	}
}

func TestFixAndAddBookings(t *testing.T) {
	t.Parallel()
	s := setup(t, Options{})
	ds := s.Dataset()
	fix := []string{ds.Bookings[20].Row.AuthorizationReference, ds.Bookings[30].Row.AuthorizationReference}
	if n := s.FixBookings(fix...); n != 2 {
		t.Fatalf("FixBookings = %d, want 2", n)
	}
	added := s.AddBookings(oct2026, 5)
	if len(added) != 5 {
		t.Fatalf("AddBookings returned %d refs", len(added))
	}
	_, rows := readRows(t, fetch(t, s, oct2026, DefaultToken).Body.Bytes(), nil)
	if len(rows) != 200-2+5 {
		t.Fatalf("report has %d rows, want %d", len(rows), 203)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.AuthorizationReference] = true
	}
	for _, f := range fix {
		if seen[f] {
			t.Errorf("fixed booking %s still reported", f)
		}
	}
	for _, a := range added {
		if !seen[a] {
			t.Errorf("added booking %s not reported", a)
		}
	}
	after := s.Dataset()
	if b := after.Bookings[20]; !b.Fixed || b.Doc == nil || b.Doc.PaymentStatus != "paid" || !b.Doc.Invoiced {
		t.Errorf("fixed booking = %+v, doc %+v; want fixed, paid and invoiced", b, b.Doc)
	}
	if len(after.Bookings) != 205 {
		t.Errorf("data set has %d bookings, want 205", len(after.Bookings))
	}
}

func TestLayoutFaults(t *testing.T) {
	t.Parallel()
	t.Run("header moved", func(t *testing.T) {
		t.Parallel()
		s := setup(t, Options{})
		s.SetHeaderRow(7)
		rr, rows := readRows(t, fetch(t, s, oct2026, DefaultToken).Body.Bytes(), nil)
		if rr.HeaderRow() != 7 || rows[0].Row != 8 || len(rows) != 200 {
			t.Fatalf("header %d, first row %d, %d rows", rr.HeaderRow(), rows[0].Row, len(rows))
		}
	})
	t.Run("extra columns", func(t *testing.T) {
		t.Parallel()
		s := setup(t, Options{})
		s.SetExtraColumns(true)
		rr, rows := readRows(t, fetch(t, s, oct2026, DefaultToken).Body.Bytes(), nil)
		if want := []string{"Tariff ID", "Country Code", "Currency"}; !reflect.DeepEqual(rr.Ignored(), want) {
			t.Errorf("Ignored() = %q, want %q", rr.Ignored(), want)
		}
		if rows[5].AuthorizationReference != s.Dataset().Bookings[5].Row.AuthorizationReference {
			t.Errorf("columns shifted: %+v", rows[5])
		}
	})
	t.Run("missing columns", func(t *testing.T) {
		t.Parallel()
		s := setup(t, Options{})
		s.SetMissingColumns("Station Name", "End Time")
		b := fetch(t, s, oct2026, DefaultToken).Body.Bytes()
		_, err := faulty.ReadReport(bytes.NewReader(b), int64(len(b)), faulty.ReportOptions{})
		var he *faulty.HeaderError
		if !errors.As(err, &he) || !reflect.DeepEqual(he.Missing, []string{"Station Name", "End Time"}) {
			t.Fatalf("ReadReport() = %v, want missing Station Name and End Time", err)
		}
		s.SetMissingColumns()
		readRows(t, fetch(t, s, oct2026, DefaultToken).Body.Bytes(), nil)
	})
}

func TestHTTPContract(t *testing.T) {
	t.Parallel()
	s := setup(t, Options{Token: "secret"})
	from := `"2026-10-01T00:00:00Z"`
	to := `"2026-11-01T00:00:00Z"`
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		want   int
	}{
		{"ok", http.MethodPost, ReportPath, "secret", `{"payment_status":"action_required","excel":true,"from":` + from + `,"to":` + to + `}`, 200},
		{"wrong token", http.MethodPost, ReportPath, "nope", `{}`, 401},
		{"no token", http.MethodPost, ReportPath, "", `{}`, 401},
		{"GET", http.MethodGet, ReportPath, "secret", ``, 405},
		{"other path", http.MethodPost, "/v1/other", "secret", `{}`, 404},
		{"bad json", http.MethodPost, ReportPath, "secret", `{`, 400},
		{"wrong status", http.MethodPost, ReportPath, "secret", `{"payment_status":"paid","excel":true,"from":` + from + `,"to":` + to + `}`, 400},
		{"no excel", http.MethodPost, ReportPath, "secret", `{"payment_status":"action_required","from":` + from + `,"to":` + to + `}`, 400},
		{"reversed range", http.MethodPost, ReportPath, "secret", `{"payment_status":"action_required","excel":true,"from":` + to + `,"to":` + from + `}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

func TestOtherPeriodIsEmpty(t *testing.T) {
	t.Parallel()
	s := setup(t, Options{})
	_, rows := readRows(t, fetch(t, s, oct2026.Next(), DefaultToken).Body.Bytes(), nil)
	if len(rows) != 0 {
		t.Fatalf("report for an empty month has %d rows", len(rows))
	}
}

func BenchmarkReport100k(b *testing.B) {
	s := New(Options{BookingsPerPeriod: 100000, Partners: 20, Periods: []faulty.Period{oct2026}})
	from, to := oct2026.Range(nil)
	for b.Loop() {
		var buf bytes.Buffer
		if err := s.writeReport(&buf, from, to, faults{}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len())/(1<<20), "MiB")
	}
}

func BenchmarkReadReport100k(b *testing.B) {
	s := New(Options{BookingsPerPeriod: 100000, Partners: 20, Periods: []faulty.Period{oct2026}})
	from, to := oct2026.Range(nil)
	var buf bytes.Buffer
	if err := s.writeReport(&buf, from, to, faults{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rr, err := faulty.ReadReport(bytes.NewReader(buf.Bytes()), int64(buf.Len()), faulty.ReportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := rr.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		rr.Close()
		if n != 100000 {
			b.Fatalf("read %d rows", n)
		}
	}
}
