package faultyqueue

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// RunFact is one line of a run's outcome in words finance staff use.
type RunFact struct {
	Label string
	Value string
}

// runLabels names the counts a phase run records; counts not listed here
// (timings of the booking-record look-up, chunk sizes, ids) are technical
// and stay out of the table.
var runLabels = []struct{ key, label string }{
	{"rows", "Rows in the report"},
	{"distinct", "Distinct bookings"},
	{"duplicates", "Repeated rows"},
	{"inserted", "New bookings"},
	{"updated", "Bookings updated"},
	{"no_longer_in_report", "Bookings no longer in the report"},
	{"row_errors", "Rows skipped for a bad value"},
	{"checked", "Bookings checked against our booking records"},
	{"confirmed", "Confirmed faulty"},
	{"batches", "Batches"},
	{"new_batches", "New batches"},
	{"items_created", "Bookings added to batches"},
	{"items_reopened", "Bookings reopened"},
	{"items_disappeared", "Bookings resolved (left the report)"},
	{"items_no_longer_faulty", "Bookings resolved (no longer faulty)"},
	{"master_files", "Master files written"},
	{"ms", "Took"},
}

// RunFacts turns a run's recorded counts into labelled lines; faults by
// reason come last. Unreadable or empty counts give none.
func RunFacts(raw []byte) []RunFact {
	var top map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &top) != nil {
		return nil
	}
	flat := map[string]any{}
	for k, v := range top {
		if m, ok := v.(map[string]any); ok {
			for k2, v2 := range m {
				flat[k2] = v2
			}
			continue
		}
		flat[k] = v
	}
	var out []RunFact
	for _, l := range runLabels {
		n, ok := flat[l.key].(float64)
		if !ok {
			continue
		}
		v := fmt.Sprintf("%d", int64(n))
		if l.key == "ms" {
			v = fmt.Sprintf("%.1f s", n/1000)
		}
		out = append(out, RunFact{l.label, v})
	}
	if by, ok := flat["by_reason"].(map[string]any); ok {
		reasons := make([]string, 0, len(by))
		for r := range by {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			if n, ok := by[r].(float64); ok {
				out = append(out, RunFact{"Faulty: " + strings.ReplaceAll(r, "_", " "), fmt.Sprintf("%d", int64(n))})
			}
		}
	}
	return out
}

// ActorName says who started a run: a person's account or the schedule.
func ActorName(actor string) string {
	switch {
	case strings.HasPrefix(actor, "user:"):
		return "Staff member (" + actor + ")"
	case strings.HasPrefix(actor, "system:"):
		return "Automatic (scheduled)"
	}
	return actor
}
