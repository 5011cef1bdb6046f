package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/faulty"
	"recondesk/internal/store"
)

// PartnerSave is an admin's create (ID 0) or update of a partner.
type PartnerSave struct {
	ID    int64
	Input store.PartnerInput
	// Revalidate queues the re-validation of the periods holding the Party ID's
	// unknown-partner rows, in the same transaction.
	Revalidate bool
}

// PartnerSaved is the saved partner and the periods whose re-validation was queued.
type PartnerSaved struct {
	Partner store.Partner
	Periods []string
}

// SavePartner creates or updates a partner with its audit event and, when asked, queues the
// re-validation of the periods that hold its unknown-partner rows, all in one transaction.
func (a *App) SavePartner(ctx context.Context, actor Actor, in PartnerSave) (PartnerSaved, error) {
	var out PartnerSaved
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if in.ID == 0 {
			if out.Partner, err = store.CreatePartner(ctx, tx, in.Input); err != nil {
				return err
			}
			err = store.Audit(ctx, tx, actor.String(), "partner.create", "partner", fmt.Sprint(out.Partner.ID), nil, out.Partner, "")
		} else {
			before, berr := store.PartnerByID(ctx, tx, in.ID)
			if berr != nil {
				return berr
			}
			if out.Partner, err = store.UpdatePartner(ctx, tx, in.ID, in.Input); err != nil {
				return err
			}
			err = store.Audit(ctx, tx, actor.String(), "partner.update", "partner", fmt.Sprint(in.ID), before, out.Partner, "")
		}
		if err != nil || !in.Revalidate {
			return err
		}
		byPeriod, err := store.PartnerUnknownRows(ctx, tx, out.Partner.PartyID)
		if err != nil {
			return err
		}
		for p := range byPeriod {
			out.Periods = append(out.Periods, p)
		}
		sort.Strings(out.Periods)
		return a.queuePhasesTx(ctx, tx, out.Periods, faulty.PhaseRevalidation)
	})
	return out, err
}
