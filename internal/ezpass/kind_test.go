package ezpass

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	const cbdtpReason = "Congestion pricing charge (MTA Central Business District Tolling Program)"
	tests := []struct {
		name       string
		row        Row
		rules      []ExclusionRule // nil = defaults
		want       Kind
		wantReason string
	}{
		{name: "toll", row: Row{Agency: "MTAB&T", ExitPlaza: "VERRAZANO", AmountCents: 694}, want: KindToll},
		{name: "zero amount is a toll", row: Row{Agency: "MTAB&T", AmountCents: 0}, want: KindToll},
		{name: "credit", row: Row{Agency: "MTAB&T", ExitPlaza: "VERRAZANO", AmountCents: -694}, want: KindCredit},
		{name: "payment in Class", row: Row{Class: "PAYMENT", AmountCents: -150000}, want: KindPayment},
		{name: "payment in Exit Plaza", row: Row{ExitPlaza: " payment ", AmountCents: -150000}, want: KindPayment},
		{name: "payment - thank you in Activity", row: Row{Activity: "PAYMENT - THANK YOU", AmountCents: -150000}, want: KindPayment},
		{name: "credit card payment in Activity", row: Row{Activity: "Credit Card Payment", AmountCents: -5000}, want: KindPayment},
		{name: "tag fee in Class", row: Row{Class: "TAG LEASING FEE", AmountCents: 100}, want: KindTagFee},
		{name: "tag fee in Exit Plaza", row: Row{ExitPlaza: "tag  leasing   fee", AmountCents: 100}, want: KindTagFee},
		{name: "tag fee in Activity", row: Row{Activity: "MONTHLY TAG LEASING FEE", AmountCents: 100}, want: KindTagFee},
		{name: "PAYMENTS is not PAYMENT", row: Row{Activity: "PAYMENTS", AmountCents: 694}, want: KindToll},
		{name: "PREPAYMENT is not PAYMENT", row: Row{ExitPlaza: "PREPAYMENT PLAZA", AmountCents: 694}, want: KindToll},
		{name: "TAG FEE alone is not a tag leasing fee", row: Row{Activity: "TAG FEE", AmountCents: 100}, want: KindToll},
		{name: "payment marker in Agency does not count", row: Row{Agency: "PAYMENT", AmountCents: 694}, want: KindToll},
		{name: "payment marker in Entry Plaza does not count", row: Row{EntryPlaza: "PAYMENT", AmountCents: 694}, want: KindToll},
		{
			name: "CBDTP agency excluded by default", row: Row{Agency: "CBDTP", ExitPlaza: "60TH ST", AmountCents: 900},
			want: KindExcluded, wantReason: cbdtpReason,
		},
		{
			name: "CBDTP plaza excluded by default", row: Row{Agency: "MTA", ExitPlaza: "cbdtp", AmountCents: 900},
			want: KindExcluded, wantReason: cbdtpReason,
		},
		{
			name: "CBDTP plaza id excluded by default", row: Row{Agency: "MTA", Plaza: "CBDTP", AmountCents: 900},
			want: KindExcluded, wantReason: cbdtpReason,
		},
		{
			name: "CBDTP credit excluded too", row: Row{Agency: "CBDTP", AmountCents: -900},
			want: KindExcluded, wantReason: cbdtpReason,
		},
		{name: "CBDTP inside a longer name is not excluded", row: Row{Agency: "CBDTP-EXT", ExitPlaza: "CBDTP 60TH ST", AmountCents: 900}, want: KindToll},
		{name: "payment wins over exclusion", row: Row{Agency: "CBDTP", Activity: "PAYMENT", AmountCents: -900}, want: KindPayment},
		{name: "no rules", row: Row{Agency: "CBDTP", AmountCents: 900}, rules: []ExclusionRule{}, want: KindToll},
		{
			name: "agency and plaza rule matches both", row: Row{Agency: "PANYNJ", EntryPlaza: "Holland Tunnel", AmountCents: 1538},
			rules: []ExclusionRule{{Agency: "panynj", Plaza: "HOLLAND  TUNNEL", Reason: "Company pays Holland"}},
			want:  KindExcluded, wantReason: "Company pays Holland",
		},
		{
			name: "agency and plaza rule needs both", row: Row{Agency: "PANYNJ", ExitPlaza: "GWB UPPER", AmountCents: 1606},
			rules: []ExclusionRule{{Agency: "PANYNJ", Plaza: "HOLLAND TUNNEL"}},
			want:  KindToll,
		},
		{
			name: "rule without reason gets one", row: Row{Agency: "NYSTA", AmountCents: 331},
			rules: []ExclusionRule{{Agency: "NYSTA"}},
			want:  KindExcluded, wantReason: "Excluded: agency NYSTA",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rules, err := prepareExclusions(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			row := tt.row
			classify(&row, rules)
			if row.Kind != tt.want || row.ExcludedReason != tt.wantReason {
				t.Errorf("classify = %q, %q; want %q, %q", row.Kind, row.ExcludedReason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestPrepareExclusionsRejectsEmptyRule(t *testing.T) {
	t.Parallel()
	_, err := prepareExclusions([]ExclusionRule{{Agency: "CBDTP"}, {Reason: "everything"}})
	if err == nil || !strings.Contains(err.Error(), "rule 2 names neither an agency nor a plaza") {
		t.Errorf("prepareExclusions error = %v; want one naming rule 2", err)
	}
}

func TestDefaultExclusionsAreFresh(t *testing.T) {
	t.Parallel()
	a := DefaultExclusions()
	a[0].Agency = "CHANGED"
	if b := DefaultExclusions(); b[0].Agency != "CBDTP" {
		t.Errorf("DefaultExclusions shares its slice: %+v", b)
	}
}
