package jobs

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestFirstEmailNeverSaysEscalatingAgain: a re-escalation that opens the thread explains what
// was found and escalates, without "again"; after the final reminder it does say "again".
func TestFirstEmailNeverSaysEscalatingAgain(t *testing.T) {
	t.Parallel()
	b := ladderSetup(t, ladderOpts{batches: 2})
	ctx := context.Background()
	first, err := EscalateBatch(ctx, EscalateRun{Pool: b.db.Pool, Ladder: b.deps, BatchID: b.ids[0], Note: "Please act.", Actor: "user:1", Now: onNotify.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || strings.Contains(first.BodyText, "again") || strings.Contains(first.BodyHTML, "again") ||
		!strings.Contains(first.BodyText, "our checks found") {
		t.Errorf("first email of the thread (seq %d):\n%s\nwant what was found and no \"again\"", first.Seq, first.BodyText)
	}
	b.tick(t, onFinal)
	again, err := EscalateBatch(ctx, EscalateRun{Pool: b.db.Pool, Ladder: b.deps, BatchID: b.ids[1], Note: "Still nothing.", Actor: "user:1", Now: onFinal.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if again.Seq != 2 || !strings.Contains(again.BodyText, "we are escalating again") {
		t.Errorf("re-escalation after the final reminder (seq %d):\n%s\nwant \"we are escalating again\"", again.Seq, again.BodyText)
	}
}
