package jobs

import (
	"testing"
	"time"

	"recondesk/internal/faulty"
)

// TestFaultyDepsReachTheApp: jobs.Deps{Faulty: ...} without an App builds one whose
// FaultyDeps carry the ladder's and the pipeline's settings.
func TestFaultyDepsReachTheApp(t *testing.T) {
	t.Parallel()
	p := faulty.DefaultPolicy(time.UTC)
	p.SendHour = 7
	now := time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)
	d := Deps{Faulty: FaultyDeps{
		Pipeline: FaultyPipelineDeps{Chunk: 250, TempDir: "/tmp/x"},
		Ladder:   FaultyLadderDeps{Policy: p, MailDomain: "rd.test", MaxAttempts: 2, Now: func() time.Time { return now }},
	}}.withApp()
	fd := d.App.Faulty
	if fd.Chunk != 250 || fd.TempDir != "/tmp/x" || fd.MailDomain != "rd.test" || fd.MaxAttempts != 2 || fd.Policy.SendHour != 7 {
		t.Errorf("App.Faulty = %+v; want the given settings", fd)
	}
	if !d.App.Now().Equal(now) {
		t.Errorf("App clock = %v; want the ladder's %v", d.App.Now(), now)
	}
}
