package demo

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/ezpass"
)

// EZPassRow is one transaction to write into a generated E-ZPass export.
type EZPassRow struct {
	LaneTxnID  string // empty in statements (format C)
	TagOrPlate string
	Agency     string
	EntryPlaza string
	ExitPlaza  string
	PlazaID    string // format C only
	Class      string
	Activity   string // format C: TOLL, TOLL ADJUSTMENT, PAYMENT - THANK YOU, TAG LEASING FEE
	At         time.Time
	PostedOn   time.Time
	// Cents is the amount with the stored sign: positive = the driver owes.
	Cents int64
	Kind  ezpass.Kind
	// Outcome is what association should find for a toll or credit.
	Outcome Outcome
}

// EZPassSample is a generated demo export with what importing it should give.
type EZPassSample struct {
	Name   string
	Format ezpass.Format
	Data   []byte
	// Rows are the data rows written, in file order.
	Rows []EZPassRow
	// Duplicates and Conflicts are the rows that repeat an earlier sample's
	// transaction unchanged, or with different data, when the samples are
	// imported in order into one account.
	Duplicates, Conflicts int
}

// Kinds counts the sample's rows by kind.
func (s EZPassSample) Kinds() map[ezpass.Kind]int {
	m := map[ezpass.Kind]int{}
	for _, r := range s.Rows {
		m[r.Kind]++
	}
	return m
}

type plaza struct {
	agency, entry, exit, id string
	cents                   int64
}

var plazas = []plaza{
	{"MTAB&T", "", "VERRAZANO", "VZ01", 694},
	{"MTAB&T", "", "RFK TRIBOROUGH", "TB03", 694},
	{"MTAB&T", "", "THROGS NECK", "TN01", 694},
	{"MTAB&T", "", "HUGH L CAREY TUNNEL", "BB02", 694},
	{"PANYNJ", "", "GWB UPPER", "GW21", 1606},
	{"PANYNJ", "", "HOLLAND TUNNEL", "HT04", 1538},
	{"PANYNJ", "", "GOETHALS BRIDGE, EB", "GB02", 1538},
	{"NYSTA", "NEW ROCHELLE", "WOODBURY", "WB15", 331},
	{"NJTP", "13A NEWARK AIRPORT", "18W GWB", "NJ18", 485},
}

// sampler draws sample rows from a fleet.
type sampler struct {
	f    *Fleet
	r    *rand.Rand
	lane int64
}

func (s *sampler) nextLane() string {
	s.lane += 1 + int64(s.r.IntN(40))
	return strconv.FormatInt(s.lane, 10)
}

// toll is a toll for a probe of the outcome; ok is false when the fleet has no such case.
func (s *sampler) toll(want Outcome) (EZPassRow, bool) {
	p, ok := s.f.Probe(s.r, want)
	if !ok {
		return EZPassRow{}, false
	}
	pl := plazas[s.r.IntN(len(plazas))]
	at := unambiguous(p.At, s.f.Opts.Loc)
	return EZPassRow{
		LaneTxnID: s.nextLane(), TagOrPlate: p.TagOrPlate(), Agency: pl.agency, EntryPlaza: pl.entry, ExitPlaza: pl.exit,
		PlazaID: pl.id, Class: "1", Activity: "TOLL", At: at, PostedOn: postedAfter(at, s.f.Opts.Loc), Cents: pl.cents,
		Kind: ezpass.KindToll, Outcome: want,
	}, true
}

// credit refunds a toll of a matched vehicle a few days later.
func (s *sampler) credit() (EZPassRow, bool) {
	row, ok := s.toll(MatchByTag)
	if !ok {
		return row, false
	}
	row.Cents, row.Kind, row.Activity = -row.Cents, ezpass.KindCredit, "TOLL ADJUSTMENT"
	return row, true
}

// excluded is a congestion-pricing charge (agency CBDTP).
func (s *sampler) excluded() (EZPassRow, bool) {
	row, ok := s.toll(MatchByTag)
	if !ok {
		return row, false
	}
	row.Agency, row.EntryPlaza, row.ExitPlaza, row.PlazaID, row.Cents = "CBDTP", "", "60TH ST", "CBDTP", 900
	row.Activity, row.Kind, row.Outcome = "CONGESTION RELIEF ZONE TOLL", ezpass.KindExcluded, ""
	return row, true
}

// account is a payment into the account or the monthly tag leasing fee.
func (s *sampler) account(kind ezpass.Kind) EZPassRow {
	day := s.f.Opts.Start.AddDate(0, 0, s.r.IntN(max(1, s.f.Opts.sampleDays())))
	at := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.f.Opts.Loc)
	row := EZPassRow{LaneTxnID: s.nextLane(), Agency: "E-ZPASS NY", At: at, PostedOn: postedAfter(at, s.f.Opts.Loc), Kind: kind}
	if kind == ezpass.KindPayment {
		row.ExitPlaza, row.Activity, row.Cents = "PAYMENT", "PAYMENT - THANK YOU", -150000
	} else {
		row.ExitPlaza, row.Activity, row.Cents = "TAG LEASING FEE", "TAG LEASING FEE", 100
	}
	return row
}

// unambiguous moves an instant out of the hour repeated when daylight time
// ends, whose wall-clock time would read back as its first occurrence.
func unambiguous(t time.Time, loc *time.Location) time.Time {
	t = t.Truncate(time.Second)
	w := t.In(loc)
	if !time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc).Equal(t) {
		return t.Add(-time.Hour)
	}
	return t
}

func postedAfter(at time.Time, loc *time.Location) time.Time {
	d := at.In(loc).AddDate(0, 0, 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// EZPassSamples generates the demo E-ZPass exports for a fleet, to be
// imported in order into one account. Together they exercise every outcome:
// tolls matched by tag and by plate, no vehicle, no lease at that time, a
// lease without a driver, credits, payments, tag fees, excluded congestion
// charges, rows repeated across files (duplicates) and one changed row
// (conflict). Format A is CSV, B is CSV with a byte-order mark, C is XLSX.
// The same fleet gives the same files.
func EZPassSamples(f *Fleet) ([]EZPassSample, error) {
	s := &sampler{f: f, r: rand.New(rand.NewPCG(f.Opts.Seed, 0xe2)), lane: 2960400000}
	take := func(rows *[]EZPassRow, n int, gen func() (EZPassRow, bool)) {
		for range n {
			if row, ok := gen(); ok {
				*rows = append(*rows, row)
			}
		}
	}
	tolls := func(want Outcome) func() (EZPassRow, bool) { return func() (EZPassRow, bool) { return s.toll(want) } }

	var a []EZPassRow
	take(&a, 24, tolls(MatchByTag))
	take(&a, 10, tolls(MatchByPlate))
	take(&a, 3, tolls(NoVehicle))
	take(&a, 3, tolls(NoActiveLease))
	take(&a, 2, tolls(NoDriver))
	take(&a, 2, s.credit)
	take(&a, 3, s.excluded)
	a = append(a, s.account(ezpass.KindPayment), s.account(ezpass.KindTagFee))
	shuffle(s.r, a)

	s.lane = 3170100000
	var b []EZPassRow
	take(&b, 14, tolls(MatchByTag))
	take(&b, 4, tolls(MatchByPlate))
	take(&b, 1, tolls(NoVehicle))
	take(&b, 1, tolls(NoActiveLease))
	b = append(b, s.account(ezpass.KindPayment), s.account(ezpass.KindTagFee))
	// Eight tolls of file A again, unchanged (an overlapping export), and
	// one with a corrected amount (a conflict).
	var dups, conflicts int
	for _, row := range a {
		if row.Kind != ezpass.KindToll {
			continue
		}
		switch {
		case dups < 8:
			b = append(b, row)
			dups++
		case conflicts < 1:
			row.Cents += 100
			b = append(b, row)
			conflicts++
		}
	}
	shuffle(s.r, b)

	var c []EZPassRow
	take(&c, 12, tolls(MatchByTag))
	take(&c, 4, tolls(MatchByPlate))
	take(&c, 1, tolls(NoVehicle))
	take(&c, 1, s.excluded)
	c = append(c, s.account(ezpass.KindPayment), s.account(ezpass.KindTagFee))
	shuffle(s.r, c)
	for i := range c {
		c[i].LaneTxnID = ""
	}

	loc := f.Opts.Loc
	out := []EZPassSample{
		{Name: "ezpass-demo-1-format-a.csv", Format: ezpass.FormatA, Rows: a},
		{Name: "ezpass-demo-2-format-b.csv", Format: ezpass.FormatB, Rows: b, Duplicates: dups, Conflicts: conflicts},
		{Name: "ezpass-demo-3-format-c.xlsx", Format: ezpass.FormatC, Rows: c},
	}
	for i := range out {
		var buf strings.Builder
		var err error
		if strings.HasSuffix(out[i].Name, ".xlsx") {
			err = WriteEZPassXLSX(&buf, out[i].Format, loc, slicesSeq(out[i].Rows))
		} else {
			if out[i].Format == ezpass.FormatB {
				buf.WriteString("\ufeff")
			}
			err = WriteEZPassCSV(&buf, out[i].Format, loc, slicesSeq(out[i].Rows))
		}
		if err != nil {
			return nil, fmt.Errorf("demo: write %s: %w", out[i].Name, err)
		}
		out[i].Data = []byte(buf.String())
	}
	return out, nil
}

func shuffle(r *rand.Rand, rows []EZPassRow) {
	r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
}

func slicesSeq(rows []EZPassRow) iter.Seq[EZPassRow] {
	return func(yield func(EZPassRow) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}
}

// EZPassBenchRows yields n rows of a format A export for a fleet, the same
// for the same fleet and seed: 95 % tolls the fleet can match (80 % by
// tag, 15 % by plate), the rest tolls without a vehicle or lease, credits,
// congestion charges, payments and tag fees. Lane Txn IDs are unique.
func EZPassBenchRows(f *Fleet, n int, seed uint64) iter.Seq[EZPassRow] {
	return func(yield func(EZPassRow) bool) {
		s := &sampler{f: f, r: rand.New(rand.NewPCG(seed, 0xbe)), lane: 4000000000}
		for i := 0; i < n; {
			var row EZPassRow
			ok := true
			switch p := s.r.IntN(1000); {
			case p < 800:
				row, ok = s.toll(MatchByTag)
			case p < 950:
				row, ok = s.toll(MatchByPlate)
			case p < 970:
				row, ok = s.toll(NoVehicle)
			case p < 985:
				row, ok = s.toll(NoActiveLease)
			case p < 990:
				row, ok = s.credit()
			case p < 996:
				row, ok = s.excluded()
			case p < 998:
				row = s.account(ezpass.KindPayment)
			default:
				row = s.account(ezpass.KindTagFee)
			}
			if !ok {
				continue
			}
			if !yield(row) {
				return
			}
			i++
		}
	}
}

// header is the header row of each format.
func header(format ezpass.Format) []string {
	switch format {
	case ezpass.FormatA:
		return []string{"Lane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount"}
	case ezpass.FormatB:
		return []string{"Lane Txn ID", "Tag/Plate #", "Posted Date", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Time", "Amount", "Post Txn Balance"}
	}
	return []string{"POSTING DATE", "TRANSACTION DATE", "TAG/PLATE NUMBER", "AGENCY", "ACTIVITY", "PLAZA ID", "ENTRY TIME",
		"ENTRY PLAZA", "ENTRY LANE", "EXIT TIME", "EXIT PLAZA", "EXIT LANE", "VEHICLE TYPE CODE", "AMOUNT", "PREPAID", "PLAN/RATE",
		"FARE TYPE", "BALANCE"}
}

// dollars writes cents as "$1,500.00" (no sign).
func dollars(c int64) string {
	if c < 0 {
		c = -c
	}
	whole := strconv.FormatInt(c/100, 10)
	var b strings.Builder
	b.WriteByte('$')
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	fmt.Fprintf(&b, ".%02d", c%100)
	return b.String()
}

// cells writes a row as the text cells of a format, with balance the
// account balance after it (format B and C).
func cells(format ezpass.Format, r EZPassRow, loc *time.Location, balance int64) []string {
	at := r.At.In(loc)
	switch format {
	case ezpass.FormatA:
		amount := dollars(r.Cents) // written sign = -stored
		if r.Cents > 0 {
			amount = "$-" + amount[1:]
		}
		return []string{r.LaneTxnID, r.TagOrPlate, r.Agency, r.EntryPlaza, r.ExitPlaza, r.Class,
			at.Format("01/02/2006"), at.Format("03:04:05 PM"), amount}
	case ezpass.FormatB:
		amount := dollars(r.Cents)
		if r.Cents > 0 {
			amount = "(" + amount + ")"
		}
		return []string{r.LaneTxnID, r.TagOrPlate, r.PostedOn.Format("1/2/06"), r.Agency, r.EntryPlaza, r.ExitPlaza, r.Class,
			at.Format("1/2/06"), at.Format("15:04:05"), amount, dollars(balance)}
	}
	amount := dollars(r.Cents)
	if r.Cents < 0 {
		amount = "-" + amount
	}
	var exitTime, plaza, lane, class, prepaid, plan, fare string
	if r.Kind != ezpass.KindPayment && r.Kind != ezpass.KindTagFee {
		exitTime, plaza, lane, class, prepaid, plan, fare = at.Format("03:04:05 PM"), r.ExitPlaza, "3", r.Class, "Y", "STANDARD", "E-ZPASS"
	}
	return []string{r.PostedOn.Format("01/02/2006"), at.Format("01/02/2006"), r.TagOrPlate, r.Agency, r.Activity, r.PlazaID,
		"", r.EntryPlaza, "", exitTime, plaza, lane, class, amount, prepaid, plan, fare, dollars(balance)}
}

// WriteEZPassCSV writes an export of the format as CSV (CRLF line ends,
// like the E-ZPass site's downloads).
func WriteEZPassCSV(w io.Writer, format ezpass.Format, loc *time.Location, rows iter.Seq[EZPassRow]) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(header(format)); err != nil {
		return err
	}
	balance := int64(250000)
	for r := range rows {
		balance -= r.Cents
		if err := cw.Write(cells(format, r, loc, balance)); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteEZPassXLSX writes an export of the format as a workbook with one
// sheet, streamed (excelize StreamWriter): a title row, then the header
// and the rows; dates are Excel dates and amounts numbers of dollars, as
// the E-ZPass site's Excel downloads have them.
func WriteEZPassXLSX(w io.Writer, format ezpass.Format, loc *time.Location, rows iter.Seq[EZPassRow]) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{"E-ZPass transaction report"}); err != nil {
		return err
	}
	head := header(format)
	hv := make([]any, len(head))
	for i, h := range head {
		hv[i] = h
	}
	if err := sw.SetRow("A2", hv); err != nil {
		return err
	}
	dateCols := map[string]bool{"Date": true, "Posted Date": true, "POSTING DATE": true, "TRANSACTION DATE": true}
	balance := int64(250000)
	line := 3
	vals := make([]any, len(head))
	for r := range rows {
		balance -= r.Cents
		text := cells(format, r, loc, balance)
		for i, h := range head {
			vals[i] = text[i]
			switch {
			case dateCols[h] && text[i] != "":
				d := r.At.In(loc)
				if h == "Posted Date" || h == "POSTING DATE" {
					d = r.PostedOn
				}
				vals[i] = excelDate(d)
			case h == "Amount" || h == "AMOUNT":
				v := float64(r.Cents) / 100
				if format != ezpass.FormatC {
					v = -v
				}
				vals[i] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, line)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
		line++
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// excelDate is the Excel serial day number of a calendar date (1900 system).
func excelDate(t time.Time) float64 {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return float64(d.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}
