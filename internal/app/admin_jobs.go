package app

import (
	"context"

	"recondesk/internal/store"
)

// AuditJobsAction records a state-changing River UI request (pause a queue,
// cancel, retry or delete jobs) done by an admin; River UI itself keeps no
// audit trail.
func (a *App) AuditJobsAction(ctx context.Context, actor Actor, method, path string, status int) error {
	return store.Audit(ctx, a.Pool, actor.String(), "river_ui."+method, "river_ui", path, nil,
		map[string]any{"method": method, "path": path, "status": status}, "")
}
