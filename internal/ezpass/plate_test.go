package ezpass

import "testing"

func TestNormalisePlate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		wantState string
		wantPlate string
	}{
		{"NY T123456C", "NY", "T123456C"},
		{"NY-T12 3456C", "NY", "T123456C"},
		{"ny t123456c", "NY", "T123456C"},
		{"  NJ  A12-BCD ", "NJ", "A12BCD"},
		{"PA:KXY1234", "PA", "KXY1234"},
		{"ON/CBXT123", "ON", "CBXT123"},
		{"NY 1234567", "NY", "1234567"},
		{"T123456C", "", "T123456C"},
		{"T12-3456C", "", "T123456C"},
		{"NYT123456C", "", "NYT123456C"},
		{"ZZ 123ABC", "", "ZZ123ABC"},
		{"NY", "", "NY"},
		{"NY -", "", "NY"},
		{"NY É123", "NY", "123"},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			state, plate := NormalisePlate(tt.in)
			if state != tt.wantState || plate != tt.wantPlate {
				t.Errorf("NormalisePlate(%q) = %q, %q; want %q, %q", tt.in, state, plate, tt.wantState, tt.wantPlate)
			}
		})
	}
}

func TestNormaliseTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"00812345678", "00812345678", true},
		{"008 1234 5678", "00812345678", true},
		{"008-12345678", "00812345678", true},
		{"NY T123456C", "", false},
		{"0081234567O", "", false},
		{" - ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := NormaliseTag(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NormaliseTag(%q) = %q, %t; want %q, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseVehicle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                         string
		wantTag, wantState, wantPl string
	}{
		{" 008 12345678 ", "00812345678", "", ""},
		{"NY T123456C", "", "NY", "T123456C"},
		{"NY-T12 3456C", "", "NY", "T123456C"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			tag, state, plate := parseVehicle(tt.in)
			if tag != tt.wantTag || state != tt.wantState || plate != tt.wantPl {
				t.Errorf("parseVehicle(%q) = %q, %q, %q; want %q, %q, %q", tt.in, tag, state, plate, tt.wantTag, tt.wantState, tt.wantPl)
			}
		})
	}
}
