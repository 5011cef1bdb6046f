// Package format turns values into the text people read: times in the one
// display zone with its abbreviation, counts with thousands separators,
// money from integer cents and plurals. Views use it and nothing else.
package format

import (
	"context"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the display zone must load on machines without zoneinfo
)

// DefaultZone is the display zone when none is configured.
const DefaultZone = "America/New_York"

var defaultLoc = func() *time.Location {
	l, err := time.LoadLocation(DefaultZone)
	if err != nil {
		return time.UTC
	}
	return l
}()

type zoneKey struct{}

// WithZone returns a context whose views show times in loc.
func WithZone(ctx context.Context, loc *time.Location) context.Context {
	if loc == nil {
		return ctx
	}
	return context.WithValue(ctx, zoneKey{}, loc)
}

// Zone is the display zone carried by ctx (DefaultZone when none).
func Zone(ctx context.Context) *time.Location {
	if ctx != nil {
		if l, ok := ctx.Value(zoneKey{}).(*time.Location); ok && l != nil {
			return l
		}
	}
	return defaultLoc
}

// Layouts of the texts Time, Date and Clock produce.
const (
	TimeLayout  = "Jan 2, 2006 3:04 PM MST"
	DateLayout  = "Jan 2, 2006"
	ClockLayout = "3:04 PM MST"
)

// Time is t in the display zone with its abbreviation ("Dec 2, 2026 8:22 AM EST");
// the zero time is "—".
func Time(ctx context.Context, t time.Time) string { return TimeIn(t, Zone(ctx)) }

// TimeIn is Time for an explicit zone.
func TimeIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = defaultLoc
	}
	return t.In(loc).Format(TimeLayout)
}

// TimePtr is Time for an optional time ("—" when nil).
func TimePtr(ctx context.Context, t *time.Time) string {
	if t == nil {
		return "—"
	}
	return Time(ctx, *t)
}

// Date is the calendar day of t in the display zone ("Dec 2, 2026").
func Date(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(Zone(ctx)).Format(DateLayout)
}

// ISO is t in the display zone as a machine-friendly attribute value
// (RFC 3339 with the zone's offset), for <time datetime> and titles.
func ISO(ctx context.Context, t time.Time) string {
	return t.In(Zone(ctx)).Format(time.RFC3339)
}

// Int writes n with thousands separators ("47,965", "-1,200").
func Int[N ~int | ~int32 | ~int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	lead := len(s) % 3
	if lead == 0 {
		lead = 3
	}
	b.WriteString(s[:lead])
	for i := lead; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Money writes integer cents as dollars ("$1,234.56", "-$9.11").
func Money(cents int64) string {
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = uint64(-(cents + 1)) + 1 // safe for math.MinInt64
	}
	dollars, rest := u/100, u%100
	s := Int(int64(dollars)) // dollars ≤ MaxInt64/100 fits
	out := "$" + s + "." + strconv.FormatUint(rest/10, 10) + strconv.FormatUint(rest%10, 10)
	if neg {
		return "-" + out
	}
	return out
}

// Count writes n and the noun in the right number: Count(1, "row", "rows")
// is "1 row", Count(1200, "row", "rows") is "1,200 rows".
func Count[N ~int | ~int32 | ~int64](n N, singular, plural string) string {
	return Int(n) + " " + Plural(n, singular, plural)
}

// Plural picks the singular for exactly one and the plural otherwise.
func Plural[N ~int | ~int32 | ~int64](n N, singular, plural string) string {
	if n == 1 || n == -1 {
		return singular
	}
	return plural
}

// Actor names who did something for people: label (a user's email or
// name, when the caller looked it up) for "user:N", readable words for
// "system:…" ("Scheduled job: posting", "Seed"); the raw actor otherwise.
func Actor(actor, label string) string {
	kind, name, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		if label != "" && label != actor {
			return label
		}
		return "User #" + name
	case "system":
		if s, ok := systemActors[name]; ok {
			return s
		}
		if name == "" {
			return "Scheduled job"
		}
		return "Scheduled job (" + strings.ReplaceAll(name, ".", " ") + ")"
	}
	if label != "" {
		return label
	}
	return actor
}

var systemActors = map[string]string{
	"seed":              "Seed",
	"test":              "Test",
	"bench":             "Benchmark",
	"demo":              "Demo data",
	"ezpass.post":       "Scheduled job: posting",
	"ezpass.associate":  "Scheduled job: association",
	"ezpass.import":     "Scheduled job: E-ZPass import",
	"faulty.tick":       "Scheduled job: faulty bookings escalation",
	"inbox.poll":        "Scheduled job: inbox poll",
	"scheduler":         "Scheduled job",
	"cli":               "Command line",
	"api":               "API",
	"faulty.pipeline":   "Scheduled job: faulty bookings pipeline",
	"faulty.escalation": "Scheduled job: faulty bookings escalation",
}
