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
// tx (content loaded set-based, built by internal/masterfile, stored immutable with its
// SHA-256) and returns them. The batches are locked, so versions never collide; reason says
// why (e.g. "tracking", "before the reminder email"). Call it in the transaction that decides
// an email so the email records the version it carries.
func WriteMasterFiles(ctx context.Context, tx pgx.Tx, batchIDs []string, reason string, loc *time.Location, now time.Time) ([]store.MasterFile, error) {
	contents, err := store.LoadMasterFileContent(ctx, tx, batchIDs, loc, now)
	if err != nil {
		return nil, err
	}
	files := make([]store.NewMasterFile, 0, len(contents))
	for _, b := range contents {
		data, err := masterfile.Build(b)
		if err != nil {
			return nil, fmt.Errorf("master file of batch %s: %w", b.ID, err)
		}
		files = append(files, store.NewMasterFile{BatchID: b.ID, Version: b.Version, Data: data, Reason: reason})
	}
	return store.InsertMasterFiles(ctx, tx, files)
}

// RegenerateMasterFile writes the batch's next master file version (items, statuses and the
// thread so far) in tx through WriteMasterFiles: what every email carries.
func RegenerateMasterFile(loc *time.Location, now time.Time) MasterFileFunc {
	return func(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
		files, err := WriteMasterFiles(ctx, tx, []string{batchID}, reason, loc, now)
		if err != nil {
			return 0, 0, err
		}
		if len(files) == 0 {
			return 0, 0, fmt.Errorf("master file of batch %s: nothing written", batchID)
		}
		return files[0].ID, files[0].Version, nil
	}
}

// KeepMasterFile attaches the batch's latest master file version unchanged (none when it has none).
func KeepMasterFile(ctx context.Context, tx pgx.Tx, batchID, reason string) (int64, int, error) {
	m, ok, err := store.LatestLadderMasterFile(ctx, tx, batchID)
	if err != nil || !ok {
		return 0, 0, err
	}
	return m.ID, m.Version, nil
}
