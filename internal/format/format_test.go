package format_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"recondesk/internal/format"
)

func TestInt(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {1200, "1,200"}, {47965, "47,965"},
		{100000, "100,000"}, {1234567, "1,234,567"}, {-1200, "-1,200"}, {-999, "-999"},
		{math.MaxInt64, "9,223,372,036,854,775,807"}, {math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := format.Int(c.in); got != c.want {
			t.Errorf("Int(%d) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestMoney(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cents int64
		want  string
	}{
		{0, "$0.00"}, {5, "$0.05"}, {99, "$0.99"}, {911, "$9.11"}, {-911, "-$9.11"}, {123456, "$1,234.56"},
		{-100000000, "-$1,000,000.00"}, {math.MinInt64, "-$92,233,720,368,547,758.08"},
	} {
		if got := format.Money(c.cents); got != c.want {
			t.Errorf("Money(%d) = %q; want %q", c.cents, got, c.want)
		}
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 rows"}, {1, "1 row"}, {2, "2 rows"}, {1200, "1,200 rows"}, {-1, "-1 row"}} {
		if got := format.Count(c.n, "row", "rows"); got != c.want {
			t.Errorf("Count(%d) = %q; want %q", c.n, got, c.want)
		}
	}
	if got := format.Plural(int64(1), "batch", "batches"); got != "batch" {
		t.Errorf("Plural(1) = %q", got)
	}
}

func TestTimeInDisplayZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	winter := time.Date(2026, 12, 2, 13, 22, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 4, 16, 5, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		ctx  context.Context
		t    time.Time
		want string
	}{
		{"default zone, winter", context.Background(), winter, "Dec 2, 2026 8:22 AM EST"},
		{"default zone, summer", context.Background(), summer, "Jul 4, 2026 12:05 PM EDT"},
		{"configured zone", format.WithZone(context.Background(), berlin), winter, "Dec 2, 2026 2:22 PM CET"},
		{"explicit New York", format.WithZone(context.Background(), ny), summer, "Jul 4, 2026 12:05 PM EDT"},
		{"nil zone keeps default", format.WithZone(context.Background(), nil), winter, "Dec 2, 2026 8:22 AM EST"},
		{"zero time", context.Background(), time.Time{}, "—"},
	} {
		if got := format.Time(c.ctx, c.t); got != c.want {
			t.Errorf("%s: Time = %q; want %q", c.name, got, c.want)
		}
	}
	// The day follows the display zone, not UTC.
	lateUTC := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	if got := format.Date(context.Background(), lateUTC); got != "Feb 28, 2026" {
		t.Errorf("Date = %q; want Feb 28, 2026 (New York)", got)
	}
	if got := format.TimePtr(context.Background(), nil); got != "—" {
		t.Errorf("TimePtr(nil) = %q", got)
	}
	if got := format.ISO(context.Background(), winter); got != "2026-12-02T08:22:00-05:00" {
		t.Errorf("ISO = %q", got)
	}
}

func ExampleMoney() {
	fmt.Println(format.Money(-911), format.Money(4796500))
	fmt.Println(format.Count(1, "row", "rows"), format.Count(2, "row", "rows"))
	// Output:
	// -$9.11 $47,965.00
	// 1 row 2 rows
}
