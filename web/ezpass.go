package web

import (
	"context"

	"github.com/a-h/templ"

	"recondesk/internal/store"
	"recondesk/views/ezpass"
	"recondesk/views/layout"
)

// EZPassDeps are what the E-ZPass and Ledger pages need beyond Deps.
type EZPassDeps struct{}

// ezpassNav is the E-ZPass area's navigation: E-ZPass (imports,
// transactions, failures, fleet) and the Ledger.
func ezpassNav() []layout.NavItem {
	return []layout.NavItem{{Label: "E-ZPass", Href: "/ezpass/imports"}, {Label: "Ledger", Href: "/ledger"}}
}

// ezpassPanel is the E-ZPass summary on Home: tolls imported this month,
// the share matched, failures waiting and the amount posted per week.
func ezpassPanel(ctx context.Context, d Deps) (templ.Component, error) {
	now := d.Now()
	s, err := store.EZPassHomeSummary(ctx, d.Pool, now, d.Config.EZPassTZ)
	if err != nil {
		return nil, err
	}
	return ezpass.Panel(s, now, displayTZ(d)), nil
}
