// Package faulty holds the faulty-bookings pages (overview, batch page with
// its timeline and thread, home panel). The partner email bodies render in
// internal/notify.
package faulty

import (
	"recondesk/internal/faulty"
	"recondesk/internal/notify"
)

// LevelLabel names a level for people: Notification, Reminder, Final
// reminder, Re-escalation n, Resolved.
func LevelLabel(l faulty.Level, n int) string { return notify.LevelLabel(l, n) }

// AttachmentName is the file name of a master file version.
func AttachmentName(partyID, period string, version int) string {
	return notify.AttachmentName(partyID, period, version)
}
