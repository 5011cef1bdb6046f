package ezpass_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"recondesk/internal/ezpass"
)

func ExampleOpen() {
	const export = "Lane Txn ID,Tag/Plate #,Agency,Entry Plaza,Exit Plaza,Class,Date,Exit Time,Amount\n" +
		"2960411718,00812345678,MTAB&T,,VERRAZANO,1,01/02/2026,07:42:13 AM,$-6.94\n" +
		"2960502119,NY T123456C,PANYNJ,,GWB UPPER,1,01/03/2026,11:18:02 AM,12..3\n" +
		"2960610004,00812345679,CBDTP,,CBDTP,1,01/05/2026,08:31:10 AM,$-9.00\n" +
		"2960700999,,E-ZPASS NY,,PAYMENT,,01/07/2026,12:00:00 AM,\"$1,500.00\"\n"

	r, err := ezpass.Open(strings.NewReader(export), int64(len(export)), "transactions.csv", ezpass.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	fmt.Println("format", r.Format(), r.Format().Description())
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *ezpass.RowError
		if errors.As(err, &rowErr) {
			fmt.Println(rowErr)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(row.Line, row.Kind, row.AmountCents, row.PlateOrTag(), row.TxnAt.Format("2006-01-02 15:04:05 MST"))
	}
	// Output:
	// format A NY transaction report
	// 2 toll 694 00812345678 2026-01-02 07:42:13 EST
	// row 3: Amount '12..3' is not a dollar amount like $9.11.
	// 4 excluded 900 00812345679 2026-01-05 08:31:10 EST
	// 5 payment -150000  2026-01-07 00:00:00 EST
}

func ExampleParseAmount() {
	for _, s := range []string{"$9.11", "($9.11)", "$-9.11", "-$1,234.50", "12..3"} {
		cents, err := ezpass.ParseAmount(s)
		fmt.Println(cents, err)
	}
	// Output:
	// 911 <nil>
	// -911 <nil>
	// -911 <nil>
	// -123450 <nil>
	// 0 '12..3' is not a dollar amount like $9.11
}

func ExampleNormalisePlate() {
	for _, s := range []string{"NY T123456C", "ny-T12 3456C", "T12-3456C"} {
		state, plate := ezpass.NormalisePlate(s)
		fmt.Printf("%q %q\n", state, plate)
	}
	// Output:
	// "NY" "T123456C"
	// "NY" "T123456C"
	// "" "T123456C"
}

func ExampleNormaliseTag() {
	fmt.Println(ezpass.NormaliseTag("008 1234 5678"))
	fmt.Println(ezpass.NormaliseTag("NY T123456C"))
	// Output:
	// 00812345678 true
	//  false
}

func ExampleDetectFormat() {
	f, err := ezpass.DetectFormat([]string{"Lane Txn ID", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount"})
	fmt.Println(f, err)
	_, err = ezpass.DetectFormat([]string{"Lane Txn", "Tag/Plate #", "Agency", "Entry Plaza", "Exit Plaza", "Class", "Date", "Exit Time", "Amount"})
	fmt.Println(err)
	// Output:
	// A <nil>
	// This file is not a known E-ZPass export: missing column Lane Txn ID (found: Lane Txn, Tag/Plate #, Agency, Entry Plaza, Exit Plaza, Class, Date, Exit Time, Amount). Export the transaction report from the E-ZPass account and try again.
}

func ExampleRow_Fingerprint() {
	row := ezpass.Row{
		Tag: "00812345678", Agency: "MTAB&T", ExitPlaza: "VERRAZANO", AmountCents: 694,
		TxnAt: time.Date(2026, 1, 2, 12, 42, 13, 0, time.UTC),
	}
	fmt.Println(row.Fingerprint())
	// Output:
	// 5c8f0d8556659b743858794d5a40b56f923f48a44e817e6aaa645bcc901e243e
}
