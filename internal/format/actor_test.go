package format_test

import (
	"testing"

	"recondesk/internal/format"
)

func TestActor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ actor, label, want string }{
		{"user:1", "ann@example.com", "ann@example.com"},
		{"user:1", "user:1", "User #1"},
		{"user:7", "", "User #7"},
		{"system:seed", "", "Seed"},
		{"system:ezpass.post", "system:ezpass.post", "Scheduled job: posting"},
		{"system:faulty.tick", "", "Scheduled job: faulty bookings escalation"},
		{"system:nightly.cleanup", "", "Scheduled job (nightly cleanup)"},
		{"system:", "", "Scheduled job"},
		{"token:3", "ci token", "ci token"},
	} {
		if got := format.Actor(c.actor, c.label); got != c.want {
			t.Errorf("Actor(%q, %q) = %q; want %q", c.actor, c.label, got, c.want)
		}
	}
}
