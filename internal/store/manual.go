package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/ledger"
)

// AssignInput is a manual assignment (or re-association) of tolls to a
// lease and a driver on it.
type AssignInput struct {
	TxnIDs   []int64
	LeaseID  int64
	DriverID int64 // 0: the lease's primary driver, else its first
	Reason   string
	Actor    string
	// Reassociate refuses tolls that are not associated or posted yet
	// (the Re-associate action); Assign takes failed ones too.
	Reassociate bool
}

// AssignResult says what an assignment did.
type AssignResult struct {
	Assigned int `json:"assigned"`
	// Reposted counts posted tolls whose charge was reversed and posted
	// again for the new driver.
	Reposted int `json:"reposted"`
	// ToPost counts tolls now associated and waiting for posting.
	ToPost int `json:"to_post"`
}

// TxnMatch is the match state of a toll, as audited before and after a change.
type TxnMatch struct {
	Status            string `json:"status"`
	VehicleID         *int64 `json:"vehicle_id"`
	LeaseID           *int64 `json:"lease_id"`
	DriverID          *int64 `json:"driver_id"`
	MedallionID       *int64 `json:"medallion_id"`
	MatchMethod       string `json:"match_method"`
	FailureCode       string `json:"failure_code,omitempty"`
	PostingGeneration int    `json:"posting_generation"`
}

type lockedTxn struct {
	id     int64
	kind   string
	txnAt  time.Time
	before TxnMatch
}

// Assign sets the lease, driver, vehicle and medallion of tolls by hand
// (match method manual: automatic association never overwrites it). The
// lease must be active and have covered each toll's time; the driver must
// be on it. Re-associating several associated or posted tolls needs one
// common source lease. A posted toll gets, in this transaction, a reversal
// of its current charge, the next posting generation and a new charge for
// the new driver. Every toll is audited with before, after and the reason.
func Assign(ctx context.Context, tx pgx.Tx, in AssignInput, tz *time.Location) (AssignResult, error) {
	var res AssignResult
	fields := map[string]string{}
	if strings.TrimSpace(in.Reason) == "" {
		fields["reason"] = "Say why you assign this toll by hand; the reason is kept in the audit log."
	}
	if in.LeaseID <= 0 {
		fields["lease_id"] = "Choose a lease."
	}
	if len(in.TxnIDs) == 0 {
		fields["ids"] = "Select at least one toll."
	}
	if len(fields) > 0 {
		return res, apperror.FieldErrors(fields)
	}
	if err := LockAssociation(ctx, tx); err != nil {
		return res, err
	}
	var lease struct {
		ref              string
		vehicleID, medID int64
		from             time.Time
		to               *time.Time
		active           bool
	}
	err := tx.QueryRow(ctx, `SELECT coalesce(ref, '#' || id), vehicle_id, medallion_id, lower(valid), upper(valid), active
		FROM leases WHERE id = $1`, in.LeaseID).Scan(&lease.ref, &lease.vehicleID, &lease.medID, &lease.from, &lease.to, &lease.active)
	if err != nil {
		return res, notFound(err, fmt.Sprintf("Lease #%d", in.LeaseID))
	}
	if !lease.active {
		return res, apperror.New(apperror.Rule, "Lease %s is not active; choose an active lease.", lease.ref)
	}
	driverID := in.DriverID
	if driverID == 0 {
		err = tx.QueryRow(ctx, `SELECT driver_id FROM lease_drivers WHERE lease_id = $1 ORDER BY is_primary DESC, position, driver_id LIMIT 1`,
			in.LeaseID).Scan(&driverID)
		if errors.Is(err, pgx.ErrNoRows) {
			return res, apperror.New(apperror.Rule, "Lease %s has no driver; add one in Fleet → Lease drivers, or choose another lease.", lease.ref)
		} else if err != nil {
			return res, err
		}
	} else {
		var on bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lease_drivers WHERE lease_id = $1 AND driver_id = $2)`,
			in.LeaseID, driverID).Scan(&on); err != nil {
			return res, err
		}
		if !on {
			return res, apperror.New(apperror.Rule, "Driver #%d is not on lease %s; choose one of the lease's drivers.", driverID, lease.ref)
		}
	}

	ids := append([]int64(nil), in.TxnIDs...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	rows, err := tx.Query(ctx, `SELECT id, kind, txn_at, status, vehicle_id, lease_id, driver_id, medallion_id,
			coalesce(match_method, ''), failure_code, posting_generation
		FROM ezpass_transactions WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return res, err
	}
	txns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lockedTxn, error) {
		var t lockedTxn
		err := r.Scan(&t.id, &t.kind, &t.txnAt, &t.before.Status, &t.before.VehicleID, &t.before.LeaseID, &t.before.DriverID,
			&t.before.MedallionID, &t.before.MatchMethod, &t.before.FailureCode, &t.before.PostingGeneration)
		return t, err
	})
	if err != nil {
		return res, err
	}
	if len(txns) != len(dedupe(ids)) {
		return res, apperror.New(apperror.NotFound, "Some of the selected tolls no longer exist; reload the page.")
	}
	sourceLeases := map[int64]bool{}
	var posted []int64
	for _, t := range txns {
		if t.kind != "toll" && t.kind != "credit" {
			return res, apperror.New(apperror.Rule, "Transaction #%d is a %s; only tolls and credits are assigned to drivers.", t.id, t.kind)
		}
		switch t.before.Status {
		case "imported", "association_failed", "posting_failed":
			if in.Reassociate {
				return res, apperror.New(apperror.Rule, "Transaction #%d is %s, not associated; use Assign for it.", t.id, t.before.Status)
			}
		case "associated", "posted":
			if t.before.LeaseID != nil {
				sourceLeases[*t.before.LeaseID] = true
			}
			if t.before.Status == "posted" {
				posted = append(posted, t.id)
			}
		default:
			return res, apperror.New(apperror.Rule, "Transaction #%d is %s and cannot be assigned.", t.id, t.before.Status)
		}
		if t.txnAt.Before(lease.from) || (lease.to != nil && !t.txnAt.Before(*lease.to)) {
			return res, apperror.New(apperror.Rule, "Lease %s (%s) did not cover the toll #%d of %s; choose a lease that was active at that time.",
				lease.ref, rangeText(lease.from, lease.to, tz), t.id, t.txnAt.In(tz).Format("2006-01-02 15:04 MST"))
		}
	}
	if len(sourceLeases) > 1 {
		return res, apperror.New(apperror.Rule, "The selected tolls come from %d different leases; re-associate tolls of one lease at a time.", len(sourceLeases))
	}

	// Reverse the current charge of posted tolls (ledger.Reverse), set-based.
	if len(posted) > 0 {
		charges, chargeIDs, err := CurrentCharges(ctx, tx, posted)
		if err != nil {
			return res, err
		}
		if len(charges) != len(posted) {
			return res, apperror.New(apperror.Internal, "%d posted tolls have no current charge journal to reverse.", len(posted)-len(charges))
		}
		reversals := make([]ledger.Journal, 0, len(posted))
		for _, id := range posted {
			reversals = append(reversals, ledger.Reverse(charges[id], chargeIDs[id], in.Actor))
		}
		written, err := WriteJournals(ctx, tx, reversals)
		if err != nil {
			return res, err
		}
		if len(written) != len(posted) {
			return res, apperror.New(apperror.Conflict, "Another change re-associated some of these tolls at the same time; reload and try again.")
		}
	}

	rows, err = tx.Query(ctx, `UPDATE ezpass_transactions SET
			lease_id = $2, driver_id = $3, vehicle_id = $4, medallion_id = $5, match_method = 'manual',
			status = CASE WHEN status = 'posted' THEN 'posted' ELSE 'associated' END,
			posting_generation = posting_generation + CASE WHEN status = 'posted' THEN 1 ELSE 0 END,
			failure_code = '', failure_message = '', failure_hint = '', associated_at = now(), updated_at = now()
		WHERE id = ANY($1)
		RETURNING id, status, vehicle_id, lease_id, driver_id, medallion_id, match_method, posting_generation`,
		ids, in.LeaseID, driverID, lease.vehicleID, lease.medID)
	if err != nil {
		return res, err
	}
	after := map[int64]TxnMatch{}
	for rows.Next() {
		var id int64
		var m TxnMatch
		if err := rows.Scan(&id, &m.Status, &m.VehicleID, &m.LeaseID, &m.DriverID, &m.MedallionID, &m.MatchMethod, &m.PostingGeneration); err != nil {
			rows.Close()
			return res, err
		}
		after[id] = m
	}
	if err := rows.Err(); err != nil {
		return res, err
	}

	// New charges (ledger.Charge) of the next generation for the reposted tolls.
	if len(posted) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+tollColumns+` FROM ezpass_transactions t WHERE t.id = ANY($1) ORDER BY t.id`, posted)
		if err != nil {
			return res, err
		}
		charges, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Journal, error) {
			var t ledger.Toll
			err := scanToll(r, &t)
			t.CreatedBy = in.Actor
			return ledger.Charge(t), err
		})
		if err != nil {
			return res, err
		}
		written, err := WriteJournals(ctx, tx, charges)
		if err != nil {
			return res, err
		}
		if len(written) != len(posted) {
			return res, apperror.New(apperror.Conflict, "Another change posted some of these tolls at the same time; reload and try again.")
		}
	}

	// One audit event per toll, in one statement.
	auditIDs := make([]string, 0, len(txns))
	befores := make([]string, 0, len(txns))
	afters := make([]string, 0, len(txns))
	for _, t := range txns {
		b, _ := json.Marshal(t.before)
		a, _ := json.Marshal(after[t.id])
		auditIDs = append(auditIDs, fmt.Sprint(t.id))
		befores = append(befores, string(b))
		afters = append(afters, string(a))
	}
	action := "ezpass.assign"
	if len(sourceLeases) > 0 {
		action = "ezpass.reassociate"
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (actor, action, subject_type, subject_id, before, after, reason)
		SELECT $1, $2, 'ezpass_transaction', x.id, x.b::jsonb, x.a::jsonb, $3
		FROM unnest($4::text[], $5::text[], $6::text[]) AS x (id, b, a)`, in.Actor, action, strings.TrimSpace(in.Reason), auditIDs, befores, afters)
	if err != nil {
		return res, err
	}
	res.Assigned = len(txns)
	res.Reposted = len(posted)
	res.ToPost = len(txns) - len(posted)
	return res, nil
}

func dedupe(ids []int64) []int64 {
	out := ids[:0:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

func rangeText(from time.Time, to *time.Time, tz *time.Location) string {
	end := "open end"
	if to != nil {
		end = to.In(tz).Format("2006-01-02 15:04 MST")
	}
	return "from " + from.In(tz).Format("2006-01-02 15:04 MST") + " to " + end
}
