package web

import (
	"context"

	"github.com/a-h/templ"

	"recondesk/views/layout"
)

// FaultyDeps are what the faulty-bookings pages need beyond Deps.
type FaultyDeps struct{}

// faultyNav is the faulty-bookings area's navigation, once its pages exist.
func faultyNav() []layout.NavItem { return nil }

// faultyPanel is the faulty-bookings summary on Home.
func faultyPanel(ctx context.Context, d Deps) (templ.Component, error) { return nil, nil }
