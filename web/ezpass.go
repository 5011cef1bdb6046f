package web

import (
	"context"

	"github.com/a-h/templ"

	"recondesk/views/layout"
)

// EZPassDeps are what the E-ZPass and Ledger pages need beyond Deps.
type EZPassDeps struct{}

// ezpassNav is the E-ZPass area's navigation, once its pages exist.
func ezpassNav() []layout.NavItem { return nil }

// ezpassPanel is the E-ZPass summary on Home.
func ezpassPanel(ctx context.Context, d Deps) (templ.Component, error) { return nil, nil }
