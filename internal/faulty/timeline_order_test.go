package faulty

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// stepName names a step for the order tests.
func stepName(v StepView) string {
	if v.Level != "" {
		return string(v.Level)
	}
	return string(v.Phase)
}

func TestChronological(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy(nil)
	resolved := newBatch(batchOpts{open: 0, resolved: 4})
	resolved.LastResolved = nov(14, 8, 50)
	responded := newBatch(batchOpts{open: 3, emails: []Email{{LevelNotification, nov(16, 9, 0)}, {LevelReEscalation, nov(18, 15, 0)}}})
	responded.RespondedAt = nov(17, 10, 0)
	tests := []struct {
		name  string
		facts BatchFacts
		now   time.Time
		want  string
		state map[string]State
	}{
		{
			name:  "monitoring (11th) sits before the ladder, closing unknown goes last",
			facts: newBatch(batchOpts{open: 2}),
			now:   nov(26, 0, 0),
			want:  "ingestion validation tracking monitoring notification reminder final_reminder closing",
		},
		{
			name:  "resolved before any email: Resolved is done on the 14th, the ladder skipped",
			facts: resolved,
			now:   nov(27, 0, 0),
			want:  "ingestion validation tracking monitoring closing notification reminder final_reminder",
			state: map[string]State{"closing": StateDone, "notification": StateSkipped, "monitoring": StateDone},
		},
		{
			name:  "a partner response and a re-escalation fall between the notification and the reminder",
			facts: responded,
			now:   nov(19, 0, 0),
			want:  "ingestion validation tracking monitoring notification partner_responded re_escalation reminder final_reminder closing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Chronological(Timeline(p, tt.facts, tt.now))
			var names []string
			for i, v := range got {
				names = append(names, stepName(v))
				if i > 0 && !v.Start.IsZero() && v.Start.Before(got[i-1].Start) {
					t.Errorf("%s (%v) comes after %s (%v)", stepName(v), v.Start, stepName(got[i-1]), got[i-1].Start)
				}
				if want, ok := tt.state[stepName(v)]; ok && v.State != want {
					t.Errorf("%s is %s; want %s", stepName(v), v.State, want)
				}
			}
			if g := strings.Join(names, " "); g != tt.want {
				t.Errorf("order = %s\nwant    %s", g, tt.want)
			}
		})
	}
}

func ExampleChronological() {
	p := DefaultPolicy(nil)
	steps := Chronological(Timeline(p, newBatch(batchOpts{open: 1}), nov(12, 0, 0)))
	for _, v := range steps[2:5] {
		fmt.Println(stepName(v), v.Start.Format("Jan 2"))
	}
	// Output:
	// tracking Nov 11
	// monitoring Nov 11
	// notification Nov 16
}
