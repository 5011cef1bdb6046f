package ezpass

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// wall is a civil date and/or time of day as written in a cell, before a
// time zone gives it an instant.
type wall struct {
	hasDate, hasTime bool
	year             int
	month            time.Month
	day              int
	hour, min, sec   int
}

// parseWallText reads a date ("1/15/2026", "1/15/26", "2026-01-15"), a time
// ("8:15:22 AM", "8:15 PM", "20:15:22", "20:15") or both separated by spaces
// or an ISO "T".
func parseWallText(s string) (wall, bool) {
	s = strings.TrimFunc(s, isSpace)
	if s == "" {
		return wall{}, false
	}
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10] + " " + s[11:]
	}
	datePart, rest := s, ""
	if i := strings.IndexFunc(s, isSpace); i >= 0 {
		datePart, rest = s[:i], strings.TrimFunc(s[i:], isSpace)
	}
	var w wall
	if y, m, d, ok := parseDate(datePart); ok {
		w.hasDate, w.year, w.month, w.day = true, y, m, d
		if rest == "" {
			return w, true
		}
		s = rest
	}
	h, mi, sec, ok := parseClock(s)
	if !ok {
		return wall{}, false
	}
	w.hasTime, w.hour, w.min, w.sec = true, h, mi, sec
	return w, true
}

// parseDate reads M/D/YYYY, M/D/YY (20YY), M-D-YYYY, YYYY-MM-DD or YYYY/MM/DD.
func parseDate(s string) (int, time.Month, int, bool) {
	sep := "/"
	if !strings.Contains(s, "/") {
		sep = "-"
	}
	p := strings.Split(s, sep)
	if len(p) != 3 {
		return 0, 0, 0, false
	}
	for _, part := range p {
		if part == "" || !allDigits(part) {
			return 0, 0, 0, false
		}
	}
	var ys, ms, ds string
	switch {
	case len(p[0]) == 4 && len(p[1]) <= 2 && len(p[2]) <= 2:
		ys, ms, ds = p[0], p[1], p[2]
	case len(p[0]) <= 2 && len(p[1]) <= 2 && (len(p[2]) == 4 || len(p[2]) == 2):
		ms, ds, ys = p[0], p[1], p[2]
	default:
		return 0, 0, 0, false
	}
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	if len(ys) == 2 {
		y += 2000
	}
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return 0, 0, 0, false
	}
	return y, time.Month(m), d, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseClock reads h:mm[:ss[.fff]] with an optional AM/PM (or A.M./P.M.),
// or HH:MM[:SS[.fff]] on a 24-hour clock. Fractions of a second are dropped.
func parseClock(s string) (hour, minute, second int, ok bool) {
	s = strings.TrimFunc(s, isSpace)
	meridiem := byte(0)
	for _, suffix := range []string{"AM", "PM", "A.M.", "P.M."} {
		if len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
			meridiem = suffix[0]
			s = strings.TrimFunc(s[:len(s)-len(suffix)], isSpace)
			break
		}
	}
	p := strings.Split(s, ":")
	if len(p) < 2 || len(p) > 3 {
		return 0, 0, 0, false
	}
	if len(p) == 3 {
		sec, _, _ := strings.Cut(p[2], ".")
		if frac := p[2][len(sec):]; frac != "" && (len(frac) == 1 || !allDigits(frac[1:])) {
			return 0, 0, 0, false
		}
		if len(sec) != 2 || !allDigits(sec) {
			return 0, 0, 0, false
		}
		second, _ = strconv.Atoi(sec)
	}
	if len(p[0]) < 1 || len(p[0]) > 2 || !allDigits(p[0]) || len(p[1]) != 2 || !allDigits(p[1]) {
		return 0, 0, 0, false
	}
	hour, _ = strconv.Atoi(p[0])
	minute, _ = strconv.Atoi(p[1])
	if minute > 59 || second > 59 {
		return 0, 0, 0, false
	}
	switch meridiem {
	case 0:
		if hour > 23 {
			return 0, 0, 0, false
		}
	default:
		if hour < 1 || hour > 12 {
			return 0, 0, 0, false
		}
		hour %= 12
		if meridiem == 'P' {
			hour += 12
		}
	}
	return hour, minute, second, true
}

// maxExcelSerial is the serial number of 1 January 10000.
const maxExcelSerial = 2958466

// parseSerial reads an Excel serial date-time: days since 30 December 1899
// (or 1 January 1904 in the 1904 date system), the fraction being the time of
// day. A serial below 1 is a time of day only. Times round to the second.
func parseSerial(s string, date1904 bool) (wall, bool) {
	if d, ok := parseDecimalNumber(s); !ok || d.neg {
		return wall{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f >= maxExcelSerial {
		return wall{}, false
	}
	days := math.Floor(f)
	secs := int(math.Round((f - days) * 86400))
	if secs >= 86400 {
		days++
		secs -= 86400
	}
	var w wall
	if days >= 1 {
		base := time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC)
		if date1904 {
			base = time.Date(1904, time.January, 1, 0, 0, 0, 0, time.UTC)
		} else if days < 61 {
			// Serials 1–60 are January and February 1900, which Excel
			// counts with a fictitious 29 February; no export holds them.
			return wall{}, false
		}
		t := base.AddDate(0, 0, int(days))
		w.hasDate, w.year, w.month, w.day = true, t.Year(), t.Month(), t.Day()
		w.hasTime = secs != 0
	} else {
		w.hasTime = true
	}
	w.hour, w.min, w.sec = secs/3600, secs/60%60, secs%60
	return w, true
}

// localTime gives the instant of a wall-clock time in loc, resolving the
// daylight-saving edge cases explicitly rather than relying on time.Date:
// an ambiguous time (the repeated hour in autumn) is its first occurrence;
// a non-existent time (the skipped hour in spring) moves forward by the gap.
func localTime(year int, month time.Month, day, hour, minute, second int, loc *time.Location) time.Time {
	naive := time.Date(year, month, day, hour, minute, second, 0, time.UTC)
	guess := time.Date(year, month, day, hour, minute, second, 0, loc)

	// The candidate UTC offsets are those of the zone period time.Date
	// chose and of its neighbours; a DST edge lies within them.
	_, off := guess.Zone()
	offsets := []int{off}
	start, end := guess.ZoneBounds()
	if !start.IsZero() {
		_, o := start.Add(-time.Nanosecond).Zone()
		offsets = append(offsets, o)
	}
	if !end.IsZero() {
		_, o := end.Zone()
		offsets = append(offsets, o)
	}

	var best time.Time
	found := false
	for _, o := range offsets {
		t := naive.Add(-time.Duration(o) * time.Second).In(loc)
		if sameWall(t, naive) && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	if found {
		return best
	}
	// In a gap the clock jumped forward, so the offset in force before the
	// jump is the smallest; reading the wall time with it lands the same
	// distance past the jump as the wall time was past its start.
	minOff := offsets[0]
	for _, o := range offsets[1:] {
		minOff = min(minOff, o)
	}
	return naive.Add(-time.Duration(minOff) * time.Second).In(loc)
}

func sameWall(t, naive time.Time) bool {
	y, m, d := t.Date()
	ny, nm, nd := naive.Date()
	return y == ny && m == nm && d == nd &&
		t.Hour() == naive.Hour() && t.Minute() == naive.Minute() && t.Second() == naive.Second()
}
