// Package faulty holds the rules for faulty EV-charging bookings: the report rows, the
// authoritative predicate, and the escalation timeline and ladder. It is pure: no database, no
// network, and the clock is always passed in.
package faulty

import (
	"fmt"
	"time"
)

// Period is one calendar month in the EMSP time zone, the unit a report and a batch cover.
type Period struct {
	Year  int
	Month time.Month
}

// ParsePeriod parses a period written as YYYY-MM, e.g. "2026-10".
func ParsePeriod(s string) (Period, error) {
	if len(s) != 7 || s[4] != '-' {
		return Period{}, fmt.Errorf("faulty: invalid period %q: want YYYY-MM", s)
	}
	y, okY := atoiDigits(s[:4])
	m, okM := atoiDigits(s[5:])
	if !okY || !okM || y < 1 || m < 1 || m > 12 {
		return Period{}, fmt.Errorf("faulty: invalid period %q: want YYYY-MM", s)
	}
	return Period{Year: y, Month: time.Month(m)}, nil
}

// PeriodOf returns the period holding the instant t, in the location loc (nil means UTC).
func PeriodOf(t time.Time, loc *time.Location) Period {
	t = t.In(orUTC(loc))
	return Period{Year: t.Year(), Month: t.Month()}
}

func atoiDigits(s string) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// String returns the period as YYYY-MM.
func (p Period) String() string {
	return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month))
}

// IsZero reports whether the period is unset.
func (p Period) IsZero() bool { return p == Period{} }

// Range returns the period's first instant and the first instant after it (half-open), as the
// month in loc (nil means UTC) converted to UTC.
func (p Period) Range(loc *time.Location) (from, to time.Time) {
	loc = orUTC(loc)
	from = time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, loc)
	to = time.Date(p.Year, p.Month+1, 1, 0, 0, 0, 0, loc)
	return from.UTC(), to.UTC()
}

// Next returns the following month.
func (p Period) Next() Period {
	if p.Month == time.December {
		return Period{Year: p.Year + 1, Month: time.January}
	}
	return Period{Year: p.Year, Month: p.Month + 1}
}

// Prev returns the preceding month.
func (p Period) Prev() Period {
	if p.Month == time.January {
		return Period{Year: p.Year - 1, Month: time.December}
	}
	return Period{Year: p.Year, Month: p.Month - 1}
}

// MarshalText encodes the period as YYYY-MM.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a period written as YYYY-MM.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
