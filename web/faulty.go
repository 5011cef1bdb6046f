package web

import (
	"context"
	"github.com/a-h/templ"

	"recondesk/views/layout"
)

// FaultyDeps are what the faulty-bookings pages need beyond Deps: the
// pipeline's (faulty_pipeline.go) and the ladder's (faulty_ladder.go).
type FaultyDeps struct {
	Pipeline FaultyPipelineDeps
	Ladder   FaultyLadderDeps
}

// faultyNav is the faulty-bookings area's navigation.
func faultyNav() []layout.NavItem { return faultyLadderNav() }

// faultyPanel is the faulty-bookings summary on Home.
func faultyPanel(ctx context.Context, d Deps) (templ.Component, error) {
	return faultyLadderPanel(ctx, d)
}
