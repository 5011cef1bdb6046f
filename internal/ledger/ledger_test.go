package ledger

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2024, 3, 10, 7, 30, 0, 0, time.UTC)

func toll(amount int64) Toll {
	return Toll{ID: 42, TxnAt: at, Agency: "MTAB&T", Plaza: "RFK", PlateOrTag: "NY T123456C", AmountCents: amount,
		DriverID: 7, LeaseID: 3, VehicleID: 5, MedallionID: 9, CreatedBy: "system:ezpass.post"}
}

func TestCharge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		amount         int64
		driver, clear  int64
		wantDescSuffix string
	}{
		{"toll debits the driver", 911, 911, -911, "NY T123456C"},
		{"credit credits the driver", -900, -900, 900, "NY T123456C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := Charge(toll(tc.amount))
			if err := Balanced(j); err != nil {
				t.Fatal(err)
			}
			if j.Kind != KindCharge || j.SourceType != SourceEZPass || j.SourceID != "42" || j.Generation != 0 {
				t.Fatalf("journal header = %+v", j)
			}
			if j.Description != "EZPass toll - MTAB&T - RFK - NY T123456C" {
				t.Fatalf("description = %q", j.Description)
			}
			b := Balances(j.Entries)
			if b["driver:7"] != tc.driver || b[ClearingEZPass] != tc.clear {
				t.Fatalf("balances = %v", b)
			}
			for _, e := range j.Entries {
				if e.LeaseID != 3 || e.VehicleID != 5 || e.MedallionID != 9 || e.DriverID != 7 {
					t.Fatalf("entry dimensions = %+v", e)
				}
			}
		})
	}
}

func TestReverseCancelsCharge(t *testing.T) {
	t.Parallel()
	c := Charge(toll(1234))
	r := Reverse(c, 99, "user:1")
	if err := Balanced(r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindReversal || r.ReversalOf != 99 || r.Generation != c.Generation || r.CreatedBy != "user:1" {
		t.Fatalf("reversal header = %+v", r)
	}
	for acct, sum := range Balances(append(append([]Entry{}, c.Entries...), r.Entries...)) {
		if sum != 0 {
			t.Errorf("account %s nets %d after reversal", acct, sum)
		}
	}
}

func TestBalanced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    error
		wantMsg string
	}{
		{"balanced", []Entry{{Account: "a:1", AmountCents: 5}, {Account: "b:1", AmountCents: -5}}, nil, ""},
		{"one entry", []Entry{{Account: "a:1", AmountCents: 5}}, ErrTooFewEntries, ""},
		{"zero entry", []Entry{{Account: "a:1", AmountCents: 0}, {Account: "b:1", AmountCents: 0}}, ErrZeroEntry, ""},
		{"unbalanced", []Entry{{Account: "a:1", AmountCents: 5}, {Account: "b:1", AmountCents: -4}}, nil, "unbalanced by 1 cents"},
		{"three way", []Entry{{Account: "a:1", AmountCents: 5}, {Account: "b:1", AmountCents: -3}, {Account: "c:1", AmountCents: -2}}, nil, ""},
	} {
		err := Balanced(Journal{Kind: KindCharge, SourceType: "T", SourceID: "1", Entries: tc.entries})
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: err = %v; want %v", tc.name, err, tc.want)
		case tc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.wantMsg)):
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.wantMsg)
		case tc.want == nil && tc.wantMsg == "" && err != nil:
			t.Errorf("%s: err = %v; want nil", tc.name, err)
		}
	}
}

func ExampleCharge() {
	j := Charge(Toll{ID: 1, TxnAt: at, Agency: "PANYNJ", Plaza: "GWB", PlateOrTag: "00123456789", AmountCents: 1706, DriverID: 12})
	fmt.Println(j.Description)
	for _, e := range j.Entries {
		fmt.Println(e.Account, e.AmountCents)
	}
	fmt.Println(Balanced(j))
	// Output:
	// EZPass toll - PANYNJ - GWB - 00123456789
	// driver:12 1706
	// clearing:ezpass -1706
	// <nil>
}

func ExampleReverse() {
	c := Charge(Toll{ID: 1, AmountCents: 500, DriverID: 3, Agency: "A", Plaza: "P", PlateOrTag: "T"})
	r := Reverse(c, 10, "user:1")
	fmt.Println(r.Kind, r.ReversalOf, r.Entries[0].Account, r.Entries[0].AmountCents)
	// Output: reversal 10 driver:3 -500
}
