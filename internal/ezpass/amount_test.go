package ezpass

import (
	"fmt"
	"testing"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"9.11", 911},
		{"$9.11", 911},
		{"$-9.11", -911},
		{"-$9.11", -911},
		{"- $9.11", -911},
		{"$ -9.11", -911},
		{"($9.11)", -911},
		{"( $9.11 )", -911},
		{"(9.11)", -911},
		{"+$9.11", 911},
		{"$1,234.56", 123456},
		{"($1,234,567.89)", -123456789},
		{"  $9.00  ", 900},
		{"\u00a0$9.00", 900},
		{"\u22129.11", -911},
		{"$9", 900},
		{"$9.1", 910},
		{"9.", 900},
		{".5", 50},
		{"$0.00", 0},
		{"-0", 0},
		{"007.05", 705},
		{"999999999999999.99", 99999999999999999},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAmount(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseAmountRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantMsg string
	}{
		{"12..3", "'12..3' is not a dollar amount like $9.11"},
		{"", "the amount is empty"},
		{"   ", "the amount is empty"},
		{"9.111", "'9.111' is not a dollar amount like $9.11"},
		{"$$9.11", "'$$9.11' is not a dollar amount like $9.11"},
		{"--9.11", "'--9.11' is not a dollar amount like $9.11"},
		{"(-9.11)", "'(-9.11)' is not a dollar amount like $9.11"},
		{"($9.11", "'($9.11' is not a dollar amount like $9.11"},
		{"9.11-", "'9.11-' is not a dollar amount like $9.11"},
		{"9 11", "'9 11' is not a dollar amount like $9.11"},
		{"1,23.00", "'1,23.00' is not a dollar amount like $9.11"},
		{",123.00", "',123.00' is not a dollar amount like $9.11"},
		{"1234,567", "'1234,567' is not a dollar amount like $9.11"},
		{"9.1,1", "'9.1,1' is not a dollar amount like $9.11"},
		{"$", "'$' is not a dollar amount like $9.11"},
		{".", "'.' is not a dollar amount like $9.11"},
		{"()", "'()' is not a dollar amount like $9.11"},
		{"USD 9.11", "'USD 9.11' is not a dollar amount like $9.11"},
		{"1e3", "'1e3' is not a dollar amount like $9.11"},
		{"NaN", "'NaN' is not a dollar amount like $9.11"},
		{"1000000000000000.00", "'1000000000000000.00' is not a dollar amount like $9.11"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAmount(tt.in)
			if err == nil || err.Error() != tt.wantMsg {
				t.Errorf("ParseAmount(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantMsg)
			}
		})
	}
}

func TestSpreadsheetNumberCents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{"-9.11", -911, true},
		{"9.1099999999999994", 911, true},
		{"9.1100000000000001", 911, true},
		{"-6.9400000000000004", -694, true},
		{"1500", 150000, true},
		{"1.5E+3", 150000, true},
		{"9.11E0", 911, true},
		{"1E-2", 1, true},
		{"1E-7", 0, true},
		{"0", 0, true},
		{"-0.0", 0, true},
		{"9.115", 0, false},
		{"9.111", 0, false},
		{"1E+20", 0, false},
		{"", 0, false},
		{"e5", 0, false},
		{"1E", 0, false},
		{"1E1234", 0, false},
		{"Inf", 0, false},
		{"0x1p3", 0, false},
		{"9.11 ", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var got int64
			d, ok := parseDecimalNumber(tt.in)
			if ok {
				got, ok = d.cents()
			}
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("cents(%q) = %d, %t; want %d, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSpreadsheetNumberInteger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"2960411718", "2960411718", true},
		{"2.960411718E+9", "2960411718", true},
		{"12345.000", "12345", true},
		{"0.0", "0", true},
		{"12.5", "", false},
		{"1E+40", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			d, ok := parseDecimalNumber(tt.in)
			if !ok {
				t.Fatalf("parseDecimalNumber(%q) failed", tt.in)
			}
			got, ok := d.integer()
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("integer(%q) = %q, %t; want %q, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// formatCents writes cents the way ParseAmount reads them back.
func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s$%d.%02d", sign, c/100, c%100)
}
