package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/masterfile"
	"recondesk/internal/store"
)

// WriteMasterFiles is the one master-file writer: it writes the next version of each batch in
// tx (built by internal/masterfile, stored immutable with its SHA-256) and returns them. The
// batches are locked, so versions never collide; reason says why (e.g. "tracking", "before the
// reminder email"). Call it in the transaction that decides an email so the email records the
// version it carries. One batch at a time, its bookings and their history are streamed from
// the database's cursor into the workbook row by row and the version is stored before the next
// batch is built, so memory holds one workbook, never a period's items.
func WriteMasterFiles(ctx context.Context, tx pgx.Tx, batchIDs []string, reason string, loc *time.Location, now time.Time) ([]store.MasterFile, error) {
	return writeMasterFiles(ctx, tx, batchIDs, reason, loc, now, nil)
}

// writeMasterFiles is WriteMasterFiles; carried, when set, is the email the file travels with
// (not yet in the outbox): the Tracking sheet lists it after the thread's earlier emails.
func writeMasterFiles(ctx context.Context, tx pgx.Tx, batchIDs []string, reason string, loc *time.Location, now time.Time, carried *masterfile.Email) ([]store.MasterFile, error) {
	heads, err := store.LoadMasterFileHeads(ctx, tx, batchIDs, loc, now)
	if err != nil {
		return nil, err
	}
	out := make([]store.MasterFile, 0, len(heads))
	for _, b := range heads {
		if carried != nil && !hasSeq(b.Emails, carried.Seq) {
			b.Emails = append(b.Emails, *carried)
		}
		b.EachItem = func(yield func(masterfile.Item) error) error { return store.EachMasterFileItem(ctx, tx, b.ID, yield) }
		b.EachEvent = func(yield func(masterfile.Event) error) error { return store.EachMasterFileEvent(ctx, tx, b.ID, yield) }
		data, err := masterfile.Build(b)
		if err != nil {
			return nil, fmt.Errorf("master file of batch %s: %w", b.ID, err)
		}
		files, err := store.InsertMasterFiles(ctx, tx, []store.NewMasterFile{{BatchID: b.ID, Version: b.Version, Data: data, Reason: reason}})
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

func hasSeq(es []masterfile.Email, seq int) bool {
	for _, e := range es {
		if e.Seq == seq {
			return true
		}
	}
	return false
}

// CarriedEmailState is the Tracking sheet's state of the email a master file travels with.
const CarriedEmailState = "this email"

// RegenerateMasterFile writes the batch's next master file version (items, statuses and the
// thread so far) in tx through WriteMasterFiles: what every email carries.
func RegenerateMasterFile(loc *time.Location, now time.Time) MasterFileFunc {
	return regenerateMasterFile(loc, now, nil)
}

// regenerateMasterFile is RegenerateMasterFile for a file travelling with carried.
func regenerateMasterFile(loc *time.Location, now time.Time, carried *masterfile.Email) MasterFileFunc {
	return func(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
		files, err := writeMasterFiles(ctx, tx, []string{batchID}, reason, loc, now, carried)
		if err != nil {
			return 0, 0, err
		}
		if len(files) == 0 {
			return 0, 0, fmt.Errorf("master file of batch %s: nothing written", batchID)
		}
		return files[0].ID, files[0].Version, nil
	}
}

// masterFileZone is the zone master files show times in: DISPLAY_TZ, else the policy's EMSP_TZ.
func (a *App) masterFileZone() *time.Location {
	if a.Config.DisplayTZ != nil {
		return a.Config.DisplayTZ
	}
	return a.FaultyPolicy().Location
}

// KeepMasterFile attaches the batch's latest master file version unchanged (none when it has none).
func KeepMasterFile(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
	m, ok, err := store.LatestLadderMasterFile(ctx, tx, batchID)
	if err != nil || !ok {
		return 0, 0, err
	}
	return m.ID, m.Version, nil
}
