package app

import (
	"context"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/store"
)

// AssignInput is a manual choice of a lease (and a driver on it) for tolls.
type AssignInput struct {
	TxnIDs   []int64
	LeaseID  int64
	DriverID int64 // 0: the lease's primary driver, else its first
	Reason   string
}

// Assign sets the lease and driver of failed (or not yet associated) tolls
// by hand, and of associated or posted ones (a re-association: a posted
// toll gets a reversal and a new charge). One transaction holds the change,
// an audit event per toll with before, after and the reason, and, with
// auto-posting, the posting job of the tolls now waiting.
func (a *App) Assign(ctx context.Context, actor Actor, in AssignInput) (store.AssignResult, error) {
	return a.assign(ctx, actor, in, false)
}

// Reassociate is Assign for tolls already associated or posted; a toll
// that is not is refused (use Assign). Bulk: all must share one lease.
func (a *App) Reassociate(ctx context.Context, actor Actor, in AssignInput) (store.AssignResult, error) {
	return a.assign(ctx, actor, in, true)
}

func (a *App) assign(ctx context.Context, actor Actor, in AssignInput, reassociate bool) (store.AssignResult, error) {
	var res store.AssignResult
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = store.Assign(ctx, tx, store.AssignInput{TxnIDs: in.TxnIDs, LeaseID: in.LeaseID, DriverID: in.DriverID,
			Reason: in.Reason, Actor: actor.String(), Reassociate: reassociate}, a.matchTZ())
		if err != nil {
			return err
		}
		if res.ToPost > 0 && a.autoPost() {
			_, err = a.insertTx(ctx, tx, EZPassPostArgs{Trigger: "manual assignment", RequestedBy: actor.UserID}, nil)
		}
		return err
	})
	return res, err
}

// AutoPosts reports whether association and assignment queue posting.
func (a *App) AutoPosts() bool { return a.autoPost() }
