package ezpass

import (
	"testing"
	"time"
)

func TestParseWallText(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) wall { return wall{hasDate: true, year: y, month: m, day: d} }
	clock := func(h, mi, s int) wall { return wall{hasTime: true, hour: h, min: mi, sec: s} }
	both := func(y int, m time.Month, d, h, mi, s int) wall {
		return wall{hasDate: true, year: y, month: m, day: d, hasTime: true, hour: h, min: mi, sec: s}
	}
	tests := []struct {
		in   string
		want wall
	}{
		{"1/15/2026", day(2026, time.January, 15)},
		{"01/05/2026", day(2026, time.January, 5)},
		{"1/15/26", day(2026, time.January, 15)},
		{"12/31/99", day(2099, time.December, 31)},
		{"1-15-2026", day(2026, time.January, 15)},
		{"2026-01-15", day(2026, time.January, 15)},
		{"2/29/2028", day(2028, time.February, 29)},
		{"8:15:22 AM", clock(8, 15, 22)},
		{"8:15:22 pm", clock(20, 15, 22)},
		{"08:15 PM", clock(20, 15, 0)},
		{"8:15:22AM", clock(8, 15, 22)},
		{"8:15 p.m.", clock(20, 15, 0)},
		{"12:00:00 AM", clock(0, 0, 0)},
		{"12:30:00 PM", clock(12, 30, 0)},
		{"20:15:22", clock(20, 15, 22)},
		{"00:05", clock(0, 5, 0)},
		{"20:15:22.250", clock(20, 15, 22)},
		{"01/15/2026 08:15:22 AM", both(2026, time.January, 15, 8, 15, 22)},
		{"1/15/26  20:15", both(2026, time.January, 15, 20, 15, 0)},
		{"2026-01-15T08:15:22", both(2026, time.January, 15, 8, 15, 22)},
		{"2026-01-15 08:15:22", both(2026, time.January, 15, 8, 15, 22)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseWallText(tt.in)
			if !ok || got != tt.want {
				t.Errorf("parseWallText(%q) = %+v, %t; want %+v", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestParseWallTextRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "13/1/2026", "2/30/2026", "2/29/2026", "0/1/2026", "1/0/2026", "1/15/202", "1/15", "15.01.2026",
		"2026-1-15-1", "1/15/2026 25:00", "24:00", "13:00 PM", "0:30 AM", "8:60", "8:15:60", "8:5", "8",
		"8:15:22.", "8:15:22.x", "1/15/2026 8:15 XM", "1/15/2026 junk", "AM", "٣/١/٢٠٢٦",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got, ok := parseWallText(in); ok {
				t.Errorf("parseWallText(%q) = %+v; want a failure", in, got)
			}
		})
	}
}

func TestParseSerial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		date1904 bool
		want     wall
		wantOK   bool
	}{
		{in: "46037", want: wall{hasDate: true, year: 2026, month: time.January, day: 15}, wantOK: true},
		{in: "46037.34375", want: wall{hasDate: true, year: 2026, month: time.January, day: 15, hasTime: true, hour: 8, min: 15}, wantOK: true},
		{in: "0.34400462962963", want: wall{hasTime: true, hour: 8, min: 15, sec: 22}, wantOK: true},
		{in: "0", want: wall{hasTime: true}, wantOK: true},
		{in: "46037.99999999", want: wall{hasDate: true, year: 2026, month: time.January, day: 16}, wantOK: true},
		{in: "44575", date1904: true, want: wall{hasDate: true, year: 2026, month: time.January, day: 15}, wantOK: true},
		{in: "60"},
		{in: "-1"},
		{in: "3000000"},
		{in: "NaN"},
		{in: "1/15/2026"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseSerial(tt.in, tt.date1904)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("parseSerial(%q, %t) = %+v, %t; want %+v, %t", tt.in, tt.date1904, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLocalTime(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	tests := []struct {
		name                 string
		wallClock            time.Time // fields read as a wall clock in New York
		want                 time.Time
		wantZone             string
		wantHour, wantMinute int
	}{
		{
			name:      "winter",
			wallClock: utc(2026, time.January, 15, 8, 15, 22),
			want:      utc(2026, time.January, 15, 13, 15, 22),
			wantZone:  "EST", wantHour: 8, wantMinute: 15,
		},
		{
			name:      "summer",
			wallClock: utc(2026, time.July, 4, 23, 59, 59),
			want:      utc(2026, time.July, 5, 3, 59, 59),
			wantZone:  "EDT", wantHour: 23, wantMinute: 59,
		},
		{
			name:      "fall back: repeated hour is its first occurrence (EDT)",
			wallClock: utc(2026, time.November, 1, 1, 30, 0),
			want:      utc(2026, time.November, 1, 5, 30, 0),
			wantZone:  "EDT", wantHour: 1, wantMinute: 30,
		},
		{
			name:      "fall back: first second of the repeated hour",
			wallClock: utc(2026, time.November, 1, 1, 0, 0),
			want:      utc(2026, time.November, 1, 5, 0, 0),
			wantZone:  "EDT", wantHour: 1, wantMinute: 0,
		},
		{
			name:      "fall back: just after the repeated hour",
			wallClock: utc(2026, time.November, 1, 2, 0, 0),
			want:      utc(2026, time.November, 1, 7, 0, 0),
			wantZone:  "EST", wantHour: 2, wantMinute: 0,
		},
		{
			name:      "spring forward: skipped 2:30 moves forward by the gap to 3:30 EDT",
			wallClock: utc(2026, time.March, 8, 2, 30, 0),
			want:      utc(2026, time.March, 8, 7, 30, 0),
			wantZone:  "EDT", wantHour: 3, wantMinute: 30,
		},
		{
			name:      "spring forward: 2:00 becomes 3:00 EDT",
			wallClock: utc(2026, time.March, 8, 2, 0, 0),
			want:      utc(2026, time.March, 8, 7, 0, 0),
			wantZone:  "EDT", wantHour: 3, wantMinute: 0,
		},
		{
			name:      "spring forward: 1:59:59 is still EST",
			wallClock: utc(2026, time.March, 8, 1, 59, 59),
			want:      utc(2026, time.March, 8, 6, 59, 59),
			wantZone:  "EST", wantHour: 1, wantMinute: 59,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.wallClock
			got := localTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), ny)
			zone, _ := got.Zone()
			if !got.Equal(tt.want) || zone != tt.wantZone || got.Hour() != tt.wantHour || got.Minute() != tt.wantMinute {
				t.Errorf("localTime = %v (%s); want %v, %s %02d:%02d", got, got.UTC(), tt.want, tt.wantZone, tt.wantHour, tt.wantMinute)
			}
		})
	}
}

func TestLocalTimeOtherZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone      string
		wallClock time.Time
		want      time.Time
	}{
		// Lord Howe shifts by 30 minutes: 2:15 in the gap becomes 2:45.
		{"Australia/Lord_Howe", utc(2026, time.October, 4, 2, 15, 0), utc(2026, time.October, 3, 15, 45, 0)},
		// Southern hemisphere fall back: 2:30 repeats; first is daylight (+11).
		{"Australia/Sydney", utc(2026, time.April, 5, 2, 30, 0), utc(2026, time.April, 4, 15, 30, 0)},
		{"UTC", utc(2026, time.March, 8, 2, 30, 0), utc(2026, time.March, 8, 2, 30, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Skipf("zone %s not installed: %v", tt.zone, err)
			}
			w := tt.wallClock
			got := localTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc)
			if !got.Equal(tt.want) {
				t.Errorf("localTime in %s = %v; want %v", tt.zone, got.UTC(), tt.want)
			}
		})
	}
}
