package auth

import (
	"context"
	"time"
)

// Gate caps how many password hashes run at once, so that a flood of
// sign-ins cannot take every CPU: extra callers wait briefly, then give up.
type Gate struct {
	slots chan struct{}
}

// NewGate returns a gate letting n hashes run at once (at least 1).
func NewGate(n int) *Gate {
	return &Gate{slots: make(chan struct{}, max(n, 1))}
}

// Enter waits at most wait for a slot. It returns the function that frees
// the slot, or ok=false when none came free in time (or ctx ended).
func (g *Gate) Enter(ctx context.Context, wait time.Duration) (release func(), ok bool) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}
