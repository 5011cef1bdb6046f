// Package notify renders the partner emails of the faulty-bookings ladder:
// the wording of each step (notification, reminder, final reminder,
// escalation, re-escalation n, closing) as plain text and HTML. It is the
// mail side of the ladder: the use cases compose EmailData, this package
// turns it into bodies.
package notify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"recondesk/internal/faulty"
	"recondesk/internal/mail"
)

// MaxEmailItems is how many open bookings an email lists.
const MaxEmailItems = 20

// EmailItem is one open booking listed in an email.
type EmailItem struct {
	Reference string
	Station   string
	Start     string // local time, "2006-01-02 15:04"
	KWh       string
	Reasons   []string
}

// EmailData is what a partner email says.
type EmailData struct {
	PartnerName string
	PartyID     string
	Period      string
	Level       faulty.Level
	// ReEscalation numbers a re-escalation (1, 2, …).
	ReEscalation int
	// Earlier are the levels of the thread's earlier emails, oldest first:
	// they decide whether a staff escalation is the first contact, the first
	// escalation or an escalation again.
	Earlier []faulty.Level
	// Open counts the open bookings on the ladder (those under an open dispute are not open here).
	Open     int
	Resolved int
	// Disputed counts the open bookings the partner disputes while finance reviews them.
	Disputed int
	// Deadline is when the partner is asked to have resolved every booking.
	Deadline time.Time
	// Items are the first open bookings (at most MaxEmailItems), none under dispute.
	Items []EmailItem
	// DisputedItems are the first bookings under dispute (at most MaxEmailItems), listed apart.
	DisputedItems []EmailItem
	// Note is staff's note of a re-escalation.
	Note string
	// Attachment is the master file's file name; "" when none is attached.
	Attachment string
}

// Step is the wording an email uses.
type Step string

// The steps of a thread, each with its own wording.
const (
	StepNotification  Step = "notification"
	StepReminder      Step = "reminder"
	StepFinalReminder Step = "final_reminder"
	StepEscalation    Step = "escalation"
	StepReEscalation  Step = "re_escalation"
	StepClosing       Step = "closing"
)

// Step is the wording of d: a staff escalation is an "escalation" until one
// was sent (a final reminder copies the escalation contacts, so it counts),
// and a "re-escalation" afterwards.
func (d EmailData) Step() Step {
	switch d.Level {
	case faulty.LevelNotification:
		return StepNotification
	case faulty.LevelReminder:
		return StepReminder
	case faulty.LevelFinalReminder:
		return StepFinalReminder
	case faulty.LevelClosing:
		return StepClosing
	case faulty.LevelReEscalation:
		if d.escalatedBefore() {
			return StepReEscalation
		}
		return StepEscalation
	}
	return Step(d.Level)
}

func (d EmailData) escalatedBefore() bool {
	for _, l := range d.Earlier {
		if l == faulty.LevelFinalReminder || l == faulty.LevelReEscalation {
			return true
		}
	}
	return false
}

// firstContact reports whether this email opens the thread.
func (d EmailData) firstContact() bool { return len(d.Earlier) == 0 }

// LevelLabel names a level for people: Notification, Reminder, Final
// reminder, Re-escalation n, Resolved.
func LevelLabel(l faulty.Level, n int) string {
	switch l {
	case faulty.LevelNotification:
		return "Notification"
	case faulty.LevelReminder:
		return "Reminder"
	case faulty.LevelFinalReminder:
		return "Final reminder"
	case faulty.LevelReEscalation:
		if n > 0 {
			return fmt.Sprintf("Re-escalation %d", n)
		}
		return "Re-escalation"
	case faulty.LevelClosing:
		return "Resolved"
	case faulty.LevelReply:
		return "Reply"
	}
	return string(l)
}

// Label is the level line at the top of the email (the level, numbered for re-escalations).
func (d EmailData) Label() string { return LevelLabel(d.Level, d.ReEscalation) }

// AttachmentName is the file name of a master file version in an email and on download:
// Windows-safe (mail.SafeFileName), so a party ID like DE*VLT reads DE-VLT.
func AttachmentName(partyID, period string, version int) string {
	return mail.SafeFileName(fmt.Sprintf("Faulty bookings %s %s v%d.xlsx", partyID, period, version))
}

func (d EmailData) deadline() string { return d.Deadline.Format("Monday 2 January 2006, 15:04 MST") }

func (d EmailData) more() int { return d.Open - len(d.Items) }

func (d EmailData) moreDisputed() int { return d.Disputed - len(d.DisputedItems) }

// DisputedIntro heads the list of bookings under dispute.
func (d EmailData) DisputedIntro() string {
	return fmt.Sprintf("Under dispute (%d, not counted as open while we review them):", d.Disputed)
}

// Intro is the opening paragraph of the email's step.
func (d EmailData) Intro() string {
	found := fmt.Sprintf("our checks found %d charging sessions at your stations in %s that could not be billed.", d.Open, d.Period)
	switch d.Step() {
	case StepNotification:
		return found + " Please correct them (for example by sending the missing or corrected CDRs)."
	case StepReminder:
		return fmt.Sprintf("this is a reminder: %d charging sessions of %s at your stations are still faulty.", d.Open, d.Period)
	case StepFinalReminder:
		return fmt.Sprintf("this is the final reminder: %d charging sessions of %s are still faulty. We have copied our escalation contacts.", d.Open, d.Period)
	case StepEscalation:
		if d.firstContact() {
			return found + " We are escalating this to your escalation contacts, copied here: please correct them (for example by sending the missing or corrected CDRs)."
		}
		return fmt.Sprintf("we are escalating this matter: %d charging sessions of %s are still faulty. We have copied our escalation contacts.", d.Open, d.Period)
	case StepReEscalation:
		return fmt.Sprintf("we are escalating again: %d charging sessions of %s are still faulty.", d.Open, d.Period)
	case StepClosing:
		return fmt.Sprintf("every faulty charging session of %s has now been resolved. Thank you; no further action is needed.", d.Period)
	}
	return ""
}

// Text renders the plain-text body of a partner email.
func Text(d EmailData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", d.Label())
	fmt.Fprintf(&b, "Dear %s (%s),\n\n", d.PartnerName, d.PartyID)
	fmt.Fprintf(&b, "%s\n\n", d.Intro())
	if d.Note != "" {
		fmt.Fprintf(&b, "Note from our finance team: %s\n\n", d.Note)
	}
	fmt.Fprintf(&b, "Period: %s\nOpen bookings: %d\nResolved bookings: %d\n", d.Period, d.Open, d.Resolved)
	if d.Disputed > 0 {
		fmt.Fprintf(&b, "Bookings under dispute: %d\n", d.Disputed)
	}
	if d.Level != faulty.LevelClosing {
		fmt.Fprintf(&b, "Please resolve every booking by: %s\n", d.deadline())
	}
	if len(d.Items) > 0 {
		fmt.Fprintf(&b, "\nOpen bookings (first %d):\n\n", len(d.Items))
		for i, it := range d.Items {
			fmt.Fprintf(&b, "%2d. %s  station %s  start %s  %s kWh  reasons: %s\n", i+1, it.Reference, it.Station, it.Start, it.KWh, strings.Join(it.Reasons, ", "))
		}
		if d.more() > 0 {
			fmt.Fprintf(&b, "\n… and %d more in the attached master file.\n", d.more())
		}
	}
	if len(d.DisputedItems) > 0 {
		fmt.Fprintf(&b, "\n%s\n\n", d.DisputedIntro())
		for i, it := range d.DisputedItems {
			fmt.Fprintf(&b, "%2d. %s  station %s  start %s  %s kWh\n", i+1, it.Reference, it.Station, it.Start, it.KWh)
		}
		if d.moreDisputed() > 0 {
			fmt.Fprintf(&b, "\n… and %d more under dispute in the attached master file.\n", d.moreDisputed())
		}
	}
	if d.Attachment != "" {
		fmt.Fprintf(&b, "\nAttached: %s (every booking with its status).\n", d.Attachment)
	}
	b.WriteString("\nPlease reply to this email, keeping the subject, if you have questions.\n\nRecondesk Finance\n(This message was generated automatically.)\n")
	return b.String()
}

// HTML renders the HTML body of a partner email.
func HTML(ctx context.Context, d EmailData) (string, error) {
	var buf bytes.Buffer
	if err := emailHTML(d).Render(ctx, &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}
