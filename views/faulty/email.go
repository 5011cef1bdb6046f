// Package faulty holds the faulty-bookings pages (overview, batch page with
// its timeline and thread, home panel) and the partner email bodies.
package faulty

import (
	"fmt"
	"strings"
	"time"

	"recondesk/internal/faulty"
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
	Open         int
	Resolved     int
	// Deadline is when the partner is asked to have resolved every booking.
	Deadline time.Time
	// Items are the first open bookings (at most MaxEmailItems).
	Items []EmailItem
	// Note is staff's note of a re-escalation.
	Note string
	// Attachment is the master file's file name; "" when none is attached.
	Attachment string
}

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

// AttachmentName is the file name of a master file version in an email.
func AttachmentName(partyID, period string, version int) string {
	name := fmt.Sprintf("Faulty bookings %s %s v%d.xlsx", partyID, period, version)
	return strings.NewReplacer("/", "-", `\`, "-", "\r", "", "\n", "").Replace(name)
}

func (d EmailData) label() string { return LevelLabel(d.Level, d.ReEscalation) }

func (d EmailData) deadline() string { return d.Deadline.Format("Monday 2 January 2006, 15:04 MST") }

func (d EmailData) more() int { return d.Open - len(d.Items) }

// intro is the opening paragraph of each level.
func (d EmailData) intro() string {
	switch d.Level {
	case faulty.LevelNotification:
		return fmt.Sprintf("our checks found %d charging sessions at your stations in %s that could not be billed. Please correct them (for example by sending the missing or corrected CDRs).", d.Open, d.Period)
	case faulty.LevelReminder:
		return fmt.Sprintf("this is a reminder: %d charging sessions of %s at your stations are still faulty.", d.Open, d.Period)
	case faulty.LevelFinalReminder:
		return fmt.Sprintf("this is the final reminder: %d charging sessions of %s are still faulty. We have copied our escalation contacts.", d.Open, d.Period)
	case faulty.LevelReEscalation:
		return fmt.Sprintf("we are escalating again: %d charging sessions of %s are still faulty.", d.Open, d.Period)
	case faulty.LevelClosing:
		return fmt.Sprintf("every faulty charging session of %s has now been resolved. Thank you; no further action is needed.", d.Period)
	}
	return ""
}

// EmailText renders the plain-text body of a partner email.
func EmailText(d EmailData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", d.label())
	fmt.Fprintf(&b, "Dear %s (%s),\n\n", d.PartnerName, d.PartyID)
	fmt.Fprintf(&b, "%s\n\n", d.intro())
	if d.Note != "" {
		fmt.Fprintf(&b, "Note from our finance team: %s\n\n", d.Note)
	}
	fmt.Fprintf(&b, "Period: %s\nOpen bookings: %d\nResolved bookings: %d\n", d.Period, d.Open, d.Resolved)
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
	if d.Attachment != "" {
		fmt.Fprintf(&b, "\nAttached: %s (every booking with its status).\n", d.Attachment)
	}
	b.WriteString("\nPlease reply to this email, keeping the subject, if you have questions.\n\nRecondesk Finance\n(This message was generated automatically.)\n")
	return b.String()
}
