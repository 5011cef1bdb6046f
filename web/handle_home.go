package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"recondesk/internal/auth"
	"recondesk/internal/store"
	"recondesk/views/home"
)

// homePanels are the modules' summaries on Home, in display order.
func homePanels(ctx context.Context, d Deps) ([]templ.Component, error) {
	var panels []templ.Component
	for _, panel := range []func(context.Context, Deps) (templ.Component, error){faultyPanel, ezpassPanel} {
		c, err := panel(ctx, d)
		if err != nil {
			return nil, err
		}
		if c != nil {
			panels = append(panels, c)
		}
	}
	return panels, nil
}

func handleHome(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var jobs []store.JobCount
		if isAdmin(r) { // only admins see the jobs card
			var err error
			if jobs, err = store.JobCounts(ctx, d.Pool); err != nil {
				fail(d, w, r, err)
				return
			}
		}
		recent, err := store.ListAudit(ctx, d.Pool, store.AuditFilter{Limit: 10})
		if err == nil {
			err = store.LabelAudit(ctx, d.Pool, recent, displayTZ(d))
		}
		if !isAdmin(r) { // users and partners are admin pages: a link would answer 403
			for i := range recent {
				if strings.HasPrefix(recent[i].SubjectURL, "/admin/") {
					recent[i].SubjectURL = ""
				}
			}
		}
		if err != nil {
			fail(d, w, r, err)
			return
		}
		panels, err := homePanels(ctx, d)
		if err != nil {
			fail(d, w, r, err)
			return
		}
		render(w, r, http.StatusOK, home.Page(shellFor(d, r, "Home", "Home"), home.Data{ShowJobs: isAdmin(r), Jobs: jobs, Recent: recent, Panels: panels}), nil)
	})
}

// isAdmin reports a signed-in admin.
func isAdmin(r *http.Request) bool {
	u, ok := userFrom(r.Context())
	return ok && u.Role.Allows(auth.Admin)
}
