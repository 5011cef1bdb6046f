package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"recondesk/internal/faulty"
)

func TestWordingPerStep(t *testing.T) {
	t.Parallel()
	base := EmailData{PartnerName: "Ionity", PartyID: "DE*ION", Period: "2026-01", Open: 3, Resolved: 1,
		Deadline: time.Date(2026, 2, 25, 23, 59, 0, 0, time.UTC)}
	tests := []struct {
		name      string
		level     faulty.Level
		n         int
		earlier   []faulty.Level
		step      Step
		label     string
		want, not []string
	}{
		{"notification", faulty.LevelNotification, 0, nil, StepNotification, "Notification",
			[]string{"our checks found 3 charging sessions", "Please resolve"}, []string{"escalat", "reminder"}},
		{"reminder", faulty.LevelReminder, 0, []faulty.Level{faulty.LevelNotification}, StepReminder, "Reminder",
			[]string{"this is a reminder: 3 charging sessions"}, []string{"escalat", "final"}},
		{"final reminder", faulty.LevelFinalReminder, 0, []faulty.Level{faulty.LevelNotification, faulty.LevelReminder}, StepFinalReminder, "Final reminder",
			[]string{"this is the final reminder", "copied our escalation contacts"}, []string{"again"}},
		{"escalation as the first email", faulty.LevelReEscalation, 1, nil, StepEscalation, "Re-escalation 1",
			[]string{"our checks found 3 charging sessions", "We are escalating this"}, []string{"again", "still faulty"}},
		{"escalation after a notification", faulty.LevelReEscalation, 1, []faulty.Level{faulty.LevelNotification}, StepEscalation, "Re-escalation 1",
			[]string{"we are escalating this matter", "still faulty"}, []string{"again"}},
		{"re-escalation after the final reminder", faulty.LevelReEscalation, 1, []faulty.Level{faulty.LevelNotification, faulty.LevelFinalReminder}, StepReEscalation, "Re-escalation 1",
			[]string{"we are escalating again"}, nil},
		{"re-escalation 2", faulty.LevelReEscalation, 2, []faulty.Level{faulty.LevelNotification, faulty.LevelReEscalation}, StepReEscalation, "Re-escalation 2",
			[]string{"we are escalating again"}, nil},
		{"closing", faulty.LevelClosing, 0, []faulty.Level{faulty.LevelNotification}, StepClosing, "Resolved",
			[]string{"has now been resolved", "no further action"}, []string{"escalat", "Please resolve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := base
			d.Level, d.ReEscalation, d.Earlier = tt.level, tt.n, tt.earlier
			if got := d.Step(); got != tt.step {
				t.Errorf("Step = %s; want %s", got, tt.step)
			}
			text := Text(d)
			html, err := HTML(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(text, tt.label+"\n") || !strings.Contains(html, "<strong>"+tt.label+"</strong>") {
				t.Errorf("label: text starts %q; want %q in both bodies", strings.SplitN(text, "\n", 2)[0], tt.label)
			}
			for _, body := range []string{text, html} {
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("body lacks %q:\n%s", w, body)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(strings.ToLower(body), strings.ToLower(n)) {
						t.Errorf("body says %q:\n%s", n, body)
					}
				}
			}
		})
	}
}

func ExampleText() {
	d := EmailData{PartnerName: "Ionity", PartyID: "DE*ION", Period: "2026-01", Level: faulty.LevelReEscalation, ReEscalation: 1,
		Earlier: []faulty.Level{faulty.LevelNotification}, Open: 2}
	fmt.Println(d.Step(), "|", strings.SplitN(Text(d), "\n", 2)[0], "|", d.Intro())
	// Output: escalation | Re-escalation 1 | we are escalating this matter: 2 charging sessions of 2026-01 are still faulty. We have copied our escalation contacts.
}

func TestAttachmentNameWindowsSafe(t *testing.T) {
	t.Parallel()
	got := AttachmentName(`DE*VLT`, "2026-10", 3)
	if got != "Faulty bookings DE-VLT 2026-10 v3.xlsx" {
		t.Errorf("AttachmentName = %q", got)
	}
	if got := AttachmentName(`A/B\C:D?"<>|`, "2026-10", 1); strings.ContainsAny(got, `*:?"<>|/\`) {
		t.Errorf("AttachmentName keeps a character Windows refuses: %q", got)
	}
}
