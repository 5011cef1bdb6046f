package web

import (
	"net/http"

	"github.com/a-h/templ"

	"recondesk/internal/auth"
	"recondesk/internal/store"
	"recondesk/views/ezpass"
)

// txnActions fills the manual-work slot of the transaction detail page: the
// Assign / Re-associate entry owned by the manual-work module. It links to
// that module's form (/ezpass/assign) for finance users on rows that can be
// assigned or re-associated; nil renders nothing.
func txnActions(r *http.Request, d Deps, t store.EZPassTxn) (templ.Component, error) {
	u, _ := userFrom(r.Context())
	if !u.Role.Allows(auth.Finance) || (t.Kind != "toll" && t.Kind != "credit") {
		return nil, nil
	}
	switch t.Status {
	case "association_failed", "posting_failed", "imported":
		return ezpass.AssignLink(t.ID, "Assign to a lease…"), nil
	case "associated", "posted":
		return ezpass.AssignLink(t.ID, "Re-associate…"), nil
	}
	return nil, nil
}
