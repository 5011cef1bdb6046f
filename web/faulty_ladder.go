package web

import (
	"context"

	"github.com/a-h/templ"

	"recondesk/views/layout"
)

// FaultyLadderDeps are what the batch pages need.
type FaultyLadderDeps struct{}

// faultyLadderNav is the "Faulty bookings" navigation item, once its pages exist.
func faultyLadderNav() []layout.NavItem { return nil }

// faultyLadderPanel is the faulty-bookings summary on Home.
func faultyLadderPanel(ctx context.Context, d Deps) (templ.Component, error) { return nil, nil }
