package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Fleet entities, as named in uploads, pages and audit events.
const (
	FleetMedallions   = "medallions"
	FleetDrivers      = "drivers"
	FleetVehicles     = "vehicles"
	FleetPlates       = "plates"
	FleetTags         = "tags"
	FleetLeases       = "leases"
	FleetLeaseDrivers = "lease-drivers"
)

// FleetEntities lists the fleet entities in load order (later ones refer to earlier ones).
var FleetEntities = []string{FleetMedallions, FleetDrivers, FleetVehicles, FleetPlates, FleetTags, FleetLeases, FleetLeaseDrivers}

// MedallionRow is one medallion to load.
type MedallionRow struct {
	Line   int
	Number string
}

// DriverRow is one driver to load; an existing TLC licence updates the name.
type DriverRow struct {
	Line      int
	Name, TLC string
}

// VehicleRow is one vehicle to load; an existing VIN updates the medallion.
type VehicleRow struct {
	Line      int
	VIN       string
	Medallion string // may be empty
}

// PlateRow binds a plate to a vehicle from From until To (zero: open-ended).
// A row with the same state, plate and start as a stored binding updates it.
type PlateRow struct {
	Line         int
	VIN          string
	State, Plate string
	From, To     time.Time
}

// TagRow binds a transponder to a vehicle from From until To (zero: open-ended).
// A row with the same tag and start as a stored binding updates it.
type TagRow struct {
	Line     int
	VIN, Tag string
	From, To time.Time
}

// LeaseRow is one lease; an existing Ref updates that lease.
type LeaseRow struct {
	Line           int
	Ref            string
	VIN, Medallion string
	From, To       time.Time
	Active         bool
}

// LeaseDriverRow puts a driver on a lease.
type LeaseDriverRow struct {
	Line     int
	LeaseRef string
	TLC      string
	Primary  bool
	Position int
}

// FleetBatch is fleet reference data to load in one transaction.
type FleetBatch struct {
	Medallions   []MedallionRow
	Drivers      []DriverRow
	Vehicles     []VehicleRow
	Plates       []PlateRow
	Tags         []TagRow
	Leases       []LeaseRow
	LeaseDrivers []LeaseDriverRow
}

// Rows is the number of rows in the batch.
func (b FleetBatch) Rows() int {
	return len(b.Medallions) + len(b.Drivers) + len(b.Vehicles) + len(b.Plates) + len(b.Tags) + len(b.Leases) + len(b.LeaseDrivers)
}

// WithoutLines is the batch without the rows of the given file lines (rows
// already refused for their format, left out of the database checks).
func (b FleetBatch) WithoutLines(lines map[int]bool) FleetBatch {
	if len(lines) == 0 {
		return b
	}
	return FleetBatch{
		Medallions:   keepLines(b.Medallions, lines, func(r MedallionRow) int { return r.Line }),
		Drivers:      keepLines(b.Drivers, lines, func(r DriverRow) int { return r.Line }),
		Vehicles:     keepLines(b.Vehicles, lines, func(r VehicleRow) int { return r.Line }),
		Plates:       keepLines(b.Plates, lines, func(r PlateRow) int { return r.Line }),
		Tags:         keepLines(b.Tags, lines, func(r TagRow) int { return r.Line }),
		Leases:       keepLines(b.Leases, lines, func(r LeaseRow) int { return r.Line }),
		LeaseDrivers: keepLines(b.LeaseDrivers, lines, func(r LeaseDriverRow) int { return r.Line }),
	}
}

func keepLines[T any](in []T, drop map[int]bool, line func(T) int) []T {
	var out []T
	for _, r := range in {
		if !drop[line(r)] {
			out = append(out, r)
		}
	}
	return out
}

// FleetRowError is a row the database refused, with what to do.
type FleetRowError struct {
	Entity  string `json:"entity"`
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// FleetCount is what a load did to one entity.
type FleetCount struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// FleetCounts is a load's counts by entity.
type FleetCounts map[string]FleetCount

// Changed reports whether the load wrote anything.
func (c FleetCounts) Changed() bool {
	for _, n := range c {
		if n.Inserted+n.Updated > 0 {
			return true
		}
	}
	return false
}

// LoadFleet loads a batch with set-based statements (COPY into a staging
// table, one check query, one upsert per entity). When any row is refused,
// it returns the row errors and writes nothing that the caller should
// commit: callers roll back on len(errs) > 0. Times in messages are shown in tz.
func LoadFleet(ctx context.Context, tx pgx.Tx, b FleetBatch, tz *time.Location) (FleetCounts, []FleetRowError, error) {
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', $1, true)`, tz.String()); err != nil {
		return nil, nil, err
	}
	counts := FleetCounts{}
	steps := []struct {
		entity string
		n      int
		load   func() (FleetCount, []FleetRowError, error)
	}{
		{FleetMedallions, len(b.Medallions), func() (FleetCount, []FleetRowError, error) { return loadMedallions(ctx, tx, b.Medallions) }},
		{FleetDrivers, len(b.Drivers), func() (FleetCount, []FleetRowError, error) { return loadDrivers(ctx, tx, b.Drivers) }},
		{FleetVehicles, len(b.Vehicles), func() (FleetCount, []FleetRowError, error) { return loadVehicles(ctx, tx, b.Vehicles) }},
		{FleetPlates, len(b.Plates), func() (FleetCount, []FleetRowError, error) { return loadPlates(ctx, tx, b.Plates) }},
		{FleetTags, len(b.Tags), func() (FleetCount, []FleetRowError, error) { return loadTags(ctx, tx, b.Tags) }},
		{FleetLeases, len(b.Leases), func() (FleetCount, []FleetRowError, error) { return loadLeases(ctx, tx, b.Leases) }},
		{FleetLeaseDrivers, len(b.LeaseDrivers), func() (FleetCount, []FleetRowError, error) {
			return loadLeaseDrivers(ctx, tx, b.LeaseDrivers)
		}},
	}
	for _, s := range steps {
		if s.n == 0 {
			continue
		}
		c, errs, err := s.load()
		if err != nil {
			return nil, nil, fmt.Errorf("load %s: %w", s.entity, err)
		}
		if len(errs) > 0 {
			for i := range errs {
				errs[i].Entity = s.entity
			}
			return nil, errs, nil
		}
		counts[s.entity] = c
	}
	return counts, nil, nil
}

// stage creates a temporary table and copies rows into it.
func stage(ctx context.Context, tx pgx.Tx, name, ddl string, cols []string, rows [][]any) error {
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+name+` (`+ddl+`) ON COMMIT DROP`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{name}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `ANALYZE `+name)
	return err
}

// rowErrors runs a check query returning (line, column, value, message).
func rowErrors(ctx context.Context, tx pgx.Tx, sql string) ([]FleetRowError, error) {
	rows, err := tx.Query(ctx, sql+` ORDER BY 1 LIMIT 1000`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FleetRowError, error) {
		var e FleetRowError
		err := r.Scan(&e.Line, &e.Column, &e.Value, &e.Message)
		return e, err
	})
}

// upsertCount runs an upsert returning one boolean per written row
// (true = inserted) and derives the counts.
func upsertCount(ctx context.Context, tx pgx.Tx, sql string, staged int) (FleetCount, error) {
	var ins, upd int
	err := tx.QueryRow(ctx, `WITH w AS (`+sql+`) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w`).Scan(&ins, &upd)
	return FleetCount{Inserted: ins, Updated: upd, Unchanged: staged - ins - upd}, err
}

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func loadMedallions(ctx context.Context, tx pgx.Tx, in []MedallionRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.Number}
	}
	if err := stage(ctx, tx, "stage_medallions", "line int, number text", []string{"line", "number"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	c, err := upsertCount(ctx, tx, `INSERT INTO medallions (number) SELECT DISTINCT number FROM stage_medallions
		ON CONFLICT (number) DO NOTHING RETURNING true AS inserted`, countDistinct(in, func(r MedallionRow) string { return r.Number }))
	return c, nil, err
}

func countDistinct[T any](in []T, key func(T) string) int {
	seen := make(map[string]struct{}, len(in))
	for _, r := range in {
		seen[key(r)] = struct{}{}
	}
	return len(seen)
}

func loadDrivers(ctx context.Context, tx pgx.Tx, in []DriverRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.Name, r.TLC}
	}
	if err := stage(ctx, tx, "stage_drivers", "line int, name text, tlc text", []string{"line", "name", "tlc"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `SELECT b.line, 'tlc_license', b.tlc,
			'TLC licence ' || b.tlc || ' appears on line ' || a.line || ' with another name (' || a.name || '); keep one row per driver'
		FROM stage_drivers a JOIN stage_drivers b ON a.tlc = b.tlc AND a.line < b.line AND a.name <> b.name`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	c, err := upsertCount(ctx, tx, `INSERT INTO drivers (name, tlc_license) SELECT DISTINCT name, tlc FROM stage_drivers
		ON CONFLICT (tlc_license) DO UPDATE SET name = EXCLUDED.name WHERE drivers.name <> EXCLUDED.name
		RETURNING (xmax = 0) AS inserted`, countDistinct(in, func(r DriverRow) string { return r.TLC }))
	return c, nil, err
}

func loadVehicles(ctx context.Context, tx pgx.Tx, in []VehicleRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.VIN, r.Medallion}
	}
	if err := stage(ctx, tx, "stage_vehicles", "line int, vin text, medallion text", []string{"line", "vin", "medallion"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `
		SELECT s.line, 'medallion', s.medallion, 'Medallion ' || s.medallion || ' is not known; upload it in Medallions first'
		FROM stage_vehicles s LEFT JOIN medallions m ON m.number = s.medallion
		WHERE s.medallion <> '' AND m.id IS NULL
		UNION ALL
		SELECT b.line, 'vin', b.vin, 'VIN ' || b.vin || ' also appears on line ' || a.line || ' with another medallion; keep one row per vehicle'
		FROM stage_vehicles a JOIN stage_vehicles b ON a.vin = b.vin AND a.line < b.line AND a.medallion <> b.medallion`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	c, err := upsertCount(ctx, tx, `INSERT INTO vehicles (vin, medallion_id)
		SELECT DISTINCT s.vin, m.id FROM stage_vehicles s LEFT JOIN medallions m ON m.number = s.medallion
		ON CONFLICT (vin) DO UPDATE SET medallion_id = EXCLUDED.medallion_id
			WHERE vehicles.medallion_id IS DISTINCT FROM EXCLUDED.medallion_id
		RETURNING (xmax = 0) AS inserted`, countDistinct(in, func(r VehicleRow) string { return r.VIN }))
	return c, nil, err
}

// fmtRange is the SQL that shows a tstzrange for people in the session time zone.
func fmtRange(col string) string {
	return `('from ' || to_char(lower(` + col + `), 'YYYY-MM-DD HH24:MI TZ') || ' to ' ||
		coalesce(to_char(upper(` + col + `), 'YYYY-MM-DD HH24:MI TZ'), 'open end'))`
}

func loadPlates(ctx context.Context, tx pgx.Tx, in []PlateRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.VIN, r.State, r.Plate, r.From, tsOrNil(r.To)}
	}
	if err := stage(ctx, tx, "stage_plates", "line int, vin text, state text, plate text, valid_from timestamptz, valid_to timestamptz",
		[]string{"line", "vin", "state", "plate", "valid_from", "valid_to"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE stage_plates ADD valid tstzrange, ADD vehicle_id bigint, ADD existing_id bigint;
		UPDATE stage_plates s SET valid = tstzrange(s.valid_from, s.valid_to), vehicle_id = v.id
			FROM vehicles v WHERE v.vin = s.vin AND (s.valid_to IS NULL OR s.valid_to > s.valid_from);
		UPDATE stage_plates s SET existing_id = p.id FROM plate_bindings p
			WHERE p.state = s.state AND p.plate = s.plate AND lower(p.valid) = s.valid_from`); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `
		SELECT line, 'vin', vin, 'VIN ' || vin || ' is not known; upload it in Vehicles first'
		FROM stage_plates s WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = s.vin)
		UNION ALL
		SELECT line, 'valid_to', coalesce(valid_to::text, ''), 'The binding ends before it starts; valid_to must be after valid_from'
		FROM stage_plates WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		UNION ALL
		SELECT b.line, 'plate', b.state || ' ' || b.plate, 'Plate ' || b.state || ' ' || b.plate || ' ' || `+fmtRange("b.valid")+
		` || ' overlaps line ' || a.line || ' (' || `+fmtRange("a.valid")+` || '); a plate belongs to one vehicle at a time'
		FROM stage_plates a JOIN stage_plates b ON a.state = b.state AND a.plate = b.plate AND a.line < b.line AND a.valid && b.valid
		UNION ALL
		SELECT s.line, 'plate', s.state || ' ' || s.plate, 'Plate ' || s.state || ' ' || s.plate || ' ' || `+fmtRange("s.valid")+
		` || ' overlaps its binding to vehicle ' || v.vin || ' ' || `+fmtRange("p.valid")+` || '; end that binding first (same plate and start, with an end)'
		FROM stage_plates s JOIN plate_bindings p ON p.state = s.state AND p.plate = s.plate AND p.valid && s.valid
			AND p.id IS DISTINCT FROM s.existing_id
			AND NOT EXISTS (SELECT 1 FROM stage_plates o WHERE o.existing_id = p.id)
		JOIN vehicles v ON v.id = p.vehicle_id`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	var upd int
	err = tx.QueryRow(ctx, `WITH u AS (UPDATE plate_bindings p SET vehicle_id = s.vehicle_id, valid = s.valid FROM stage_plates s
		WHERE p.id = s.existing_id AND (p.vehicle_id, p.valid) IS DISTINCT FROM (s.vehicle_id, s.valid) RETURNING 1) SELECT count(*) FROM u`).Scan(&upd)
	if err != nil {
		return FleetCount{}, nil, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO plate_bindings (vehicle_id, state, plate, valid)
		SELECT vehicle_id, state, plate, valid FROM stage_plates WHERE existing_id IS NULL`)
	if err != nil {
		return FleetCount{}, nil, err
	}
	ins := int(tag.RowsAffected())
	return FleetCount{Inserted: ins, Updated: upd, Unchanged: len(in) - ins - upd}, nil, nil
}

func loadTags(ctx context.Context, tx pgx.Tx, in []TagRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.VIN, r.Tag, r.From, tsOrNil(r.To)}
	}
	if err := stage(ctx, tx, "stage_tags", "line int, vin text, tag text, valid_from timestamptz, valid_to timestamptz",
		[]string{"line", "vin", "tag", "valid_from", "valid_to"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE stage_tags ADD valid tstzrange, ADD vehicle_id bigint, ADD existing_id bigint;
		UPDATE stage_tags s SET valid = tstzrange(s.valid_from, s.valid_to), vehicle_id = v.id
			FROM vehicles v WHERE v.vin = s.vin AND (s.valid_to IS NULL OR s.valid_to > s.valid_from);
		UPDATE stage_tags s SET existing_id = p.id FROM tag_bindings p
			WHERE p.tag = s.tag AND lower(p.valid) = s.valid_from`); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `
		SELECT line, 'vin', vin, 'VIN ' || vin || ' is not known; upload it in Vehicles first'
		FROM stage_tags s WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = s.vin)
		UNION ALL
		SELECT line, 'valid_to', coalesce(valid_to::text, ''), 'The binding ends before it starts; valid_to must be after valid_from'
		FROM stage_tags WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		UNION ALL
		SELECT b.line, 'tag', b.tag, 'Tag ' || b.tag || ' ' || `+fmtRange("b.valid")+
		` || ' overlaps line ' || a.line || ' (' || `+fmtRange("a.valid")+` || '); a tag belongs to one vehicle at a time'
		FROM stage_tags a JOIN stage_tags b ON a.tag = b.tag AND a.line < b.line AND a.valid && b.valid
		UNION ALL
		SELECT s.line, 'tag', s.tag, 'Tag ' || s.tag || ' ' || `+fmtRange("s.valid")+
		` || ' overlaps its binding to vehicle ' || v.vin || ' ' || `+fmtRange("p.valid")+` || '; end that binding first (same tag and start, with an end)'
		FROM stage_tags s JOIN tag_bindings p ON p.tag = s.tag AND p.valid && s.valid
			AND p.id IS DISTINCT FROM s.existing_id
			AND NOT EXISTS (SELECT 1 FROM stage_tags o WHERE o.existing_id = p.id)
		JOIN vehicles v ON v.id = p.vehicle_id`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	var upd int
	err = tx.QueryRow(ctx, `WITH u AS (UPDATE tag_bindings p SET vehicle_id = s.vehicle_id, valid = s.valid FROM stage_tags s
		WHERE p.id = s.existing_id AND (p.vehicle_id, p.valid) IS DISTINCT FROM (s.vehicle_id, s.valid) RETURNING 1) SELECT count(*) FROM u`).Scan(&upd)
	if err != nil {
		return FleetCount{}, nil, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO tag_bindings (vehicle_id, tag, valid)
		SELECT vehicle_id, tag, valid FROM stage_tags WHERE existing_id IS NULL`)
	if err != nil {
		return FleetCount{}, nil, err
	}
	ins := int(tag.RowsAffected())
	return FleetCount{Inserted: ins, Updated: upd, Unchanged: len(in) - ins - upd}, nil, nil
}

func loadLeases(ctx context.Context, tx pgx.Tx, in []LeaseRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.Ref, r.VIN, r.Medallion, r.From, tsOrNil(r.To), r.Active}
	}
	if err := stage(ctx, tx, "stage_leases", "line int, ref text, vin text, medallion text, valid_from timestamptz, valid_to timestamptz, active bool",
		[]string{"line", "ref", "vin", "medallion", "valid_from", "valid_to", "active"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE stage_leases ADD valid tstzrange, ADD vehicle_id bigint, ADD medallion_id bigint;
		UPDATE stage_leases s SET valid = tstzrange(s.valid_from, s.valid_to), vehicle_id = v.id, medallion_id = m.id
			FROM vehicles v, medallions m WHERE v.vin = s.vin AND m.number = s.medallion
			AND (s.valid_to IS NULL OR s.valid_to > s.valid_from)`); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `
		SELECT line, 'vin', vin, 'VIN ' || vin || ' is not known; upload it in Vehicles first'
		FROM stage_leases s WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = s.vin)
		UNION ALL
		SELECT line, 'medallion', medallion, 'Medallion ' || medallion || ' is not known; upload it in Medallions first'
		FROM stage_leases s WHERE NOT EXISTS (SELECT 1 FROM medallions m WHERE m.number = s.medallion)
		UNION ALL
		SELECT line, 'valid_to', coalesce(valid_to::text, ''), 'The lease ends before it starts; valid_to must be after valid_from'
		FROM stage_leases WHERE valid_to IS NOT NULL AND valid_to <= valid_from
		UNION ALL
		SELECT b.line, 'ref', b.ref, 'Lease ' || b.ref || ' appears twice (also line ' || a.line || '); keep one row per lease'
		FROM stage_leases a JOIN stage_leases b ON a.ref = b.ref AND a.line < b.line
		UNION ALL
		SELECT b.line, 'valid_from', b.ref, 'Lease ' || b.ref || ' overlaps lease ' || a.ref || ' (line ' || a.line || ') of vehicle ' || b.vin || ' ' || `+fmtRange("a.valid")+`
		FROM stage_leases a JOIN stage_leases b ON a.vehicle_id = b.vehicle_id AND a.line < b.line AND a.active AND b.active AND a.valid && b.valid
		UNION ALL
		SELECT s.line, 'valid_from', s.ref, 'Lease ' || s.ref || ' overlaps active lease ' || coalesce(l.ref, '#' || l.id) || ' of vehicle ' || s.vin || ' ' || `+fmtRange("l.valid")+`
		FROM stage_leases s JOIN leases l ON l.vehicle_id = s.vehicle_id AND l.active AND s.active AND l.valid && s.valid
			AND l.ref IS DISTINCT FROM s.ref
			AND NOT EXISTS (SELECT 1 FROM stage_leases o WHERE o.ref = l.ref)`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	c, err := upsertCount(ctx, tx, `INSERT INTO leases (ref, vehicle_id, medallion_id, valid, active)
		SELECT ref, vehicle_id, medallion_id, valid, active FROM stage_leases
		ON CONFLICT (ref) DO UPDATE SET vehicle_id = EXCLUDED.vehicle_id, medallion_id = EXCLUDED.medallion_id,
			valid = EXCLUDED.valid, active = EXCLUDED.active
			WHERE (leases.vehicle_id, leases.medallion_id, leases.valid, leases.active)
				IS DISTINCT FROM (EXCLUDED.vehicle_id, EXCLUDED.medallion_id, EXCLUDED.valid, EXCLUDED.active)
		RETURNING (xmax = 0) AS inserted`, len(in))
	return c, nil, err
}

func loadLeaseDrivers(ctx context.Context, tx pgx.Tx, in []LeaseDriverRow) (FleetCount, []FleetRowError, error) {
	rows := make([][]any, len(in))
	for i, r := range in {
		rows[i] = []any{r.Line, r.LeaseRef, r.TLC, r.Primary, r.Position}
	}
	if err := stage(ctx, tx, "stage_lease_drivers", "line int, lease_ref text, tlc text, is_primary bool, position int",
		[]string{"line", "lease_ref", "tlc", "is_primary", "position"}, rows); err != nil {
		return FleetCount{}, nil, err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE stage_lease_drivers ADD lease_id bigint, ADD driver_id bigint;
		UPDATE stage_lease_drivers s SET lease_id = l.id FROM leases l WHERE l.ref = s.lease_ref;
		UPDATE stage_lease_drivers s SET driver_id = d.id FROM drivers d WHERE d.tlc_license = s.tlc`); err != nil {
		return FleetCount{}, nil, err
	}
	errs, err := rowErrors(ctx, tx, `
		SELECT line, 'lease_ref', lease_ref, 'Lease ' || lease_ref || ' is not known; upload it in Leases first'
		FROM stage_lease_drivers WHERE lease_id IS NULL
		UNION ALL
		SELECT line, 'tlc_license', tlc, 'Driver with TLC licence ' || tlc || ' is not known; upload it in Drivers first'
		FROM stage_lease_drivers WHERE driver_id IS NULL
		UNION ALL
		SELECT b.line, 'tlc_license', b.tlc, 'Driver ' || b.tlc || ' is on lease ' || b.lease_ref || ' twice (also line ' || a.line || ')'
		FROM stage_lease_drivers a JOIN stage_lease_drivers b ON a.lease_ref = b.lease_ref AND a.tlc = b.tlc AND a.line < b.line
		UNION ALL
		SELECT b.line, 'primary', 'true', 'Lease ' || b.lease_ref || ' has two primary drivers (also line ' || a.line || '); mark one'
		FROM stage_lease_drivers a JOIN stage_lease_drivers b ON a.lease_ref = b.lease_ref AND a.line < b.line AND a.is_primary AND b.is_primary
		UNION ALL
		SELECT s.line, 'primary', 'true', 'Lease ' || s.lease_ref || ' already has primary driver ' || d.tlc_license || '; mark only one'
		FROM stage_lease_drivers s JOIN lease_drivers ld ON ld.lease_id = s.lease_id AND ld.is_primary AND s.is_primary AND ld.driver_id <> s.driver_id
		JOIN drivers d ON d.id = ld.driver_id
		WHERE NOT EXISTS (SELECT 1 FROM stage_lease_drivers o WHERE o.lease_id = ld.lease_id AND o.driver_id = ld.driver_id AND NOT o.is_primary)`)
	if err != nil || len(errs) > 0 {
		return FleetCount{}, errs, err
	}
	// Demote primaries being replaced first, so the one-primary index holds row by row.
	if _, err := tx.Exec(ctx, `UPDATE lease_drivers ld SET is_primary = false FROM stage_lease_drivers s
		WHERE s.lease_id = ld.lease_id AND s.driver_id = ld.driver_id AND ld.is_primary AND NOT s.is_primary`); err != nil {
		return FleetCount{}, nil, err
	}
	c, err := upsertCount(ctx, tx, `INSERT INTO lease_drivers (lease_id, driver_id, is_primary, position)
		SELECT lease_id, driver_id, is_primary, position FROM stage_lease_drivers
		ON CONFLICT (lease_id, driver_id) DO UPDATE SET is_primary = EXCLUDED.is_primary, position = EXCLUDED.position
			WHERE (lease_drivers.is_primary, lease_drivers.position) IS DISTINCT FROM (EXCLUDED.is_primary, EXCLUDED.position)
		RETURNING (xmax = 0) AS inserted`, len(in))
	return c, nil, err
}
