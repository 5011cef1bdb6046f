package web

import (
	"context"

	"github.com/a-h/templ"

	"recondesk/internal/app"
	"recondesk/views/layout"
)

// FaultyDeps are what the faulty-bookings pages need beyond Deps: the
// pipeline's (faulty_pipeline.go) and the ladder's (faulty_ladder.go). When
// NewServer builds the App itself they become its app.FaultyDeps.
type FaultyDeps struct {
	Pipeline FaultyPipelineDeps
	Ladder   FaultyLadderDeps
}

// faultyAppDeps is the app.FaultyDeps of a server built without an App: the
// policy given here (the ladder's wins), else the one from Config; the mail
// addresses from Config. Sending is left to the workers.
func faultyAppDeps(d Deps) app.FaultyDeps {
	fd := app.FaultyDeps{Policy: d.Faulty.Pipeline.Policy, MailFrom: d.Config.MailFrom, MailDomain: d.Config.MailDomain}
	if d.Faulty.Ladder.Policy != nil {
		fd.Policy = *d.Faulty.Ladder.Policy
	}
	return fd
}

// faultyNav is the faulty-bookings area's navigation.
func faultyNav() []layout.NavItem { return faultyLadderNav() }

// faultyPanel is the faulty-bookings summary on Home.
func faultyPanel(ctx context.Context, d Deps) (templ.Component, error) {
	return faultyLadderPanel(ctx, d)
}
