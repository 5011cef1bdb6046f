package faulty_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"recondesk/internal/faulty"
)

func ExampleParsePeriod() {
	p, err := faulty.ParsePeriod("2026-10")
	if err != nil {
		panic(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from, to := p.Range(berlin)
	fmt.Println(p, p.Next())
	fmt.Println(from.Format(time.RFC3339), to.Format(time.RFC3339))
	// Output:
	// 2026-10 2026-11
	// 2026-09-30T22:00:00Z 2026-10-31T23:00:00Z
}

func ExampleParseKWh() {
	e, _ := faulty.ParseKWh("12.345")
	fmt.Println(int64(e), "Wh =", e)
	// Output: 12345 Wh = 12.345 kWh
}

func ExampleReadReport() {
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Faulty bookings"})
	header := append([]any{}, "User Name")
	for _, c := range faulty.ReportColumns {
		header = append(header, c)
	}
	_ = f.SetSheetRow("Sheet1", "A3", &header)
	_ = f.SetSheetRow("Sheet1", "A4", &[]any{"Erika Mustermann", "DE*VLT", "Voltwerk", "6650c0ffee0000000000a001",
		"E1", "Hub", "Berlin", "BE", "1", 12.5, "action_required", "CDR missing", "CDR-1", "SES-1",
		"", "2026-10-03 09:00:00", "2026-10-03T10:00:00Z", "20", "80"})
	var buf bytes.Buffer
	_ = f.Write(&buf)

	rr, err := faulty.ReadReport(bytes.NewReader(buf.Bytes()), int64(buf.Len()), faulty.ReportOptions{})
	if err != nil {
		panic(err)
	}
	defer rr.Close()
	for {
		row, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(row.Row, row.PartyID, row.AuthorizationReference, row.EnergyConsumed, row.StartTime.Format(time.RFC3339))
	}
	// Output: 4 DE*VLT 6650c0ffee0000000000a001 12.500 kWh 2026-10-03T09:00:00Z
}

func ExampleCheck() {
	b := &faulty.Booking{
		ID: "6650c0ffee0000000000a001", IsOCPI: true, IsEMSP: true, Invoiced: true,
		FaultReasons: []string{"CDR_MISSING"}, PaymentStatus: "action_required", Credential: "64a000000000000000000001",
	}
	r := faulty.Check(b.ID, b, []string{"64a000000000000000000001"})
	fmt.Println(r, "-", r.Text())
	fmt.Println(faulty.Check("BK-1", nil, nil))
	// Output:
	// ALREADY_INVOICED - The booking has already been invoiced
	// INVALID_REFERENCE
}

func facts() faulty.BatchFacts {
	return faulty.BatchFacts{
		PeriodFacts: faulty.PeriodFacts{
			Period: faulty.Period{Year: 2026, Month: time.October},
			Completed: map[faulty.Phase]time.Time{
				faulty.PhaseIngestion:  time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC),
				faulty.PhaseValidation: time.Date(2026, 11, 6, 2, 0, 0, 0, time.UTC),
				faulty.PhaseTracking:   time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC),
			},
		},
		Open: 12,
	}
}

func ExampleDue() {
	p := faulty.DefaultPolicy(time.UTC)
	// The scheduler was down from the 15th to the 22nd: only the reminder goes out.
	for _, s := range faulty.Due(p, facts(), time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) {
		fmt.Println(s.Level, "skip:", s.Skip)
	}
	// Output:
	// reminder skip: false
	// notification skip: true
}

func ExampleTimeline() {
	p := faulty.DefaultPolicy(time.UTC)
	for _, v := range faulty.Timeline(p, facts(), time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)) {
		fmt.Printf("%-12s %-14s %s %s\n", v.Phase, v.Level, v.Start.Format("01-02 15:04"), v.State)
	}
	// Output:
	// ingestion                   11-01 00:00 done
	// validation                  11-06 00:00 done
	// tracking                    11-11 00:00 done
	// notification notification   11-16 09:00 due
	// escalation   reminder       11-21 09:00 upcoming
	// escalation   final_reminder 11-25 09:00 upcoming
	// monitoring                  11-11 00:00 due
	// monitoring   closing        01-01 00:00 upcoming
}

func ExampleBatchState() {
	p := faulty.DefaultPolicy(time.UTC)
	fmt.Println(faulty.BatchState(p, facts(), time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)))
	fmt.Println(faulty.BatchState(p, facts(), time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)))
	// Output:
	// tracked
	// overdue
}

func ExamplePhaseDue() {
	p := faulty.DefaultPolicy(time.UTC)
	f := faulty.PeriodFacts{
		Period:    faulty.Period{Year: 2026, Month: time.October},
		Completed: map[faulty.Phase]time.Time{faulty.PhaseIngestion: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
	}
	ph, ok := faulty.PhaseDue(p, f, time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC))
	fmt.Println(ph, ok)
	// Output: validation true
}
