package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Association failure codes (DESIGN §5.4).
const (
	FailNoVehicle     = "NO_VEHICLE"
	FailNoActiveLease = "NO_ACTIVE_LEASE"
	FailNoDriver      = "NO_DRIVER"
)

// AssociationCounts is what one association run found for its candidates.
type AssociationCounts struct {
	Candidates int            `json:"candidates"`
	ByTag      int            `json:"associated_by_tag"`
	ByPlate    int            `json:"associated_by_plate"`
	Failed     map[string]int `json:"failed"`
	// Changed is how many rows were written (outcomes identical to the
	// stored ones are not rewritten).
	Changed int `json:"changed"`
}

// Associated is the number of candidates matched to a driver.
func (c AssociationCounts) Associated() int { return c.ByTag + c.ByPlate }

// LockAssociation serialises association runs (and manual assignment
// against them) until the transaction ends.
func LockAssociation(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('ezpass.associate'))`)
	return err
}

// associateSQL associates every candidate at once: unposted tolls and
// credits that are imported or failed before and not manually assigned.
// Cascade: tag binding valid at the toll time, else plate binding (state
// + normalised plate) valid then; the active lease of that vehicle
// containing the time; its primary driver, else the first by position;
// the lease's medallion. The first driver is an index look-up per matched
// toll (not a DISTINCT ON over every lease's drivers, which a plan made
// on stale statistics would re-sort for every toll). Exclusion constraints guarantee at most one tag
// binding, one plate binding and one active lease match, so plain joins
// (which the planner may hash) never multiply rows. Rows whose outcome is
// unchanged are not rewritten. Times in messages use the session time zone.
const associateSQL = `
WITH c AS (
	SELECT t.id, t.txn_at, t.tag, t.plate_state, t.plate, t.tag_or_plate
	FROM ezpass_transactions t
	WHERE t.kind IN ('toll', 'credit') AND t.status IN ('imported', 'association_failed')
		AND t.match_method IS DISTINCT FROM 'manual'
),
m AS (
	SELECT c.*, coalesce(tb.vehicle_id, pb.vehicle_id) AS vehicle_id,
		CASE WHEN tb.vehicle_id IS NOT NULL THEN 'tag' WHEN pb.vehicle_id IS NOT NULL THEN 'plate' END AS method,
		l.id AS lease_id, l.ref AS lease_ref, l.medallion_id, fd.driver_id
	FROM c
	LEFT JOIN tag_bindings tb ON tb.tag = c.tag AND tb.valid @> c.txn_at
	LEFT JOIN plate_bindings pb ON tb.vehicle_id IS NULL AND pb.state = c.plate_state AND pb.plate = c.plate AND pb.valid @> c.txn_at
	LEFT JOIN leases l ON l.active AND l.vehicle_id = coalesce(tb.vehicle_id, pb.vehicle_id) AND l.valid @> c.txn_at
	LEFT JOIN LATERAL (
		SELECT ld.driver_id FROM lease_drivers ld WHERE ld.lease_id = l.id
		ORDER BY ld.is_primary DESC, ld.position, ld.driver_id LIMIT 1
	) fd ON true
),
o AS MATERIALIZED (
	SELECT m.id, m.vehicle_id, m.lease_id, m.medallion_id, m.driver_id,
		CASE WHEN m.driver_id IS NOT NULL THEN m.method END AS method,
		CASE WHEN m.vehicle_id IS NULL THEN 'NO_VEHICLE' WHEN m.lease_id IS NULL THEN 'NO_ACTIVE_LEASE'
			WHEN m.driver_id IS NULL THEN 'NO_DRIVER' ELSE '' END AS code,
		CASE
			WHEN m.vehicle_id IS NULL THEN CASE
				WHEN m.tag IS NOT NULL THEN 'No vehicle found for tag ' || m.tag
				WHEN m.plate IS NOT NULL THEN 'No vehicle found for plate ' || concat_ws(' ', nullif(m.plate_state, ''), m.plate)
				ELSE 'No vehicle found: the row has no tag or plate (' || m.tag_or_plate || ')' END
			WHEN m.lease_id IS NULL THEN 'No active lease on ' || to_char(m.txn_at, 'YYYY-MM-DD HH24:MI TZ')
				|| ' for vehicle ' || (SELECT v.vin FROM vehicles v WHERE v.id = m.vehicle_id)
			WHEN m.driver_id IS NULL THEN 'No driver assigned to lease ' || coalesce(m.lease_ref, '#' || m.lease_id)
			ELSE '' END AS message,
		CASE
			WHEN m.vehicle_id IS NULL AND m.plate IS NOT NULL AND coalesce(m.plate_state, '') = '' THEN
				'The plate has no state; plates are matched on state and number.'
			WHEN m.vehicle_id IS NOT NULL AND m.lease_id IS NULL THEN (
				SELECT concat_ws('; ',
					coalesce((SELECT 'previous lease ' || coalesce(p.ref, '#' || p.id) || ' ended '
							|| to_char(upper(p.valid), 'YYYY-MM-DD HH24:MI TZ') || ' (' || ezpass_gap(m.txn_at - upper(p.valid)) || ' before)'
						FROM leases p WHERE p.active AND p.vehicle_id = m.vehicle_id AND upper(p.valid) <= m.txn_at
						ORDER BY upper(p.valid) DESC LIMIT 1), 'no earlier lease'),
					coalesce((SELECT 'next lease ' || coalesce(n.ref, '#' || n.id) || ' starts '
							|| to_char(lower(n.valid), 'YYYY-MM-DD HH24:MI TZ') || ' (' || ezpass_gap(lower(n.valid) - m.txn_at) || ' after)'
						FROM leases n WHERE n.active AND n.vehicle_id = m.vehicle_id AND lower(n.valid) > m.txn_at
						ORDER BY lower(n.valid) LIMIT 1), 'no later lease'))
				)
			ELSE '' END AS hint
	FROM m
),
u AS (
	UPDATE ezpass_transactions t SET
		status = CASE WHEN o.code = '' THEN 'associated' ELSE 'association_failed' END,
		failure_code = o.code, failure_message = o.message, failure_hint = upper(left(o.hint, 1)) || substr(o.hint, 2),
		vehicle_id = o.vehicle_id, lease_id = o.lease_id, driver_id = o.driver_id,
		medallion_id = CASE WHEN o.lease_id IS NOT NULL THEN o.medallion_id END,
		match_method = o.method,
		associated_at = CASE WHEN o.code = '' THEN now() END,
		updated_at = now()
	FROM o
	WHERE t.id = o.id AND (t.status, t.failure_code, t.failure_message, t.failure_hint, t.vehicle_id, t.lease_id, t.driver_id, t.medallion_id, t.match_method)
		IS DISTINCT FROM (CASE WHEN o.code = '' THEN 'associated' ELSE 'association_failed' END, o.code, o.message,
			upper(left(o.hint, 1)) || substr(o.hint, 2), o.vehicle_id, o.lease_id, o.driver_id,
			CASE WHEN o.lease_id IS NOT NULL THEN o.medallion_id END, o.method)
	RETURNING 1
)
SELECT (SELECT count(*) FROM o),
	(SELECT count(*) FROM o WHERE code = '' AND method = 'tag'),
	(SELECT count(*) FROM o WHERE code = '' AND method = 'plate'),
	(SELECT count(*) FROM o WHERE code = 'NO_VEHICLE'),
	(SELECT count(*) FROM o WHERE code = 'NO_ACTIVE_LEASE'),
	(SELECT count(*) FROM o WHERE code = 'NO_DRIVER'),
	(SELECT count(*) FROM u)`

// Associate runs association over all candidates in one statement within
// tx; messages show local times in tz. Callers hold LockAssociation. When
// the tolls' statistics are stale (an import added many rows and nothing
// analyzed them: autovacuum may be off) it refreshes them first, so the
// statement is planned on today's numbers.
func Associate(ctx context.Context, tx pgx.Tx, tz *time.Location) (AssociationCounts, error) {
	// Hash joins over all candidates need more than the default work_mem.
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', $1, true), set_config('work_mem', '64MB', true)`, tz.String()); err != nil {
		return AssociationCounts{}, err
	}
	if _, err := AnalyzeTollsIfStale(ctx, tx); err != nil {
		return AssociationCounts{}, err
	}
	var c AssociationCounts
	var noVehicle, noLease, noDriver int
	err := tx.QueryRow(ctx, associateSQL).Scan(&c.Candidates, &c.ByTag, &c.ByPlate, &noVehicle, &noLease, &noDriver, &c.Changed)
	if err != nil {
		return c, err
	}
	c.Failed = map[string]int{FailNoVehicle: noVehicle, FailNoActiveLease: noLease, FailNoDriver: noDriver}
	return c, nil
}
