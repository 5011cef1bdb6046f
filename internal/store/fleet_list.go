package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/format"
)

// FleetPage is one page of a fleet entity for the browse pages.
type FleetPage struct {
	Entity  string
	Headers []string
	Rows    [][]string
	Page    int
	More    bool
}

// fleetBrowse is the query of each entity's browse page; $1 is a search
// text (” for all); times come back as timestamptz and are shown by fleetCell.
var fleetBrowse = map[string]struct {
	headers []string
	sql     string
}{
	FleetMedallions: {[]string{"Medallion", "Vehicles", "Leases"}, `
		SELECT m.number, (SELECT count(*) FROM vehicles v WHERE v.medallion_id = m.id)::text,
			(SELECT count(*) FROM leases l WHERE l.medallion_id = m.id)::text
		FROM medallions m WHERE $1 = '' OR m.number ILIKE '%' || $1 || '%' ORDER BY m.number`},
	FleetDrivers: {[]string{"Name", "TLC licence", "Leases"}, `
		SELECT d.name, d.tlc_license, (SELECT count(*) FROM lease_drivers ld WHERE ld.driver_id = d.id)::text
		FROM drivers d WHERE $1 = '' OR d.name ILIKE '%' || $1 || '%' OR d.tlc_license ILIKE '%' || $1 || '%' ORDER BY d.name, d.id`},
	FleetVehicles: {[]string{"VIN", "Medallion", "Current plate", "Current tag"}, `
		SELECT v.vin, coalesce(m.number, ''),
			coalesce((SELECT p.state || ' ' || p.plate FROM plate_bindings p WHERE p.vehicle_id = v.id ORDER BY lower(p.valid) DESC LIMIT 1), ''),
			coalesce((SELECT t.tag FROM tag_bindings t WHERE t.vehicle_id = v.id ORDER BY lower(t.valid) DESC LIMIT 1), '')
		FROM vehicles v LEFT JOIN medallions m ON m.id = v.medallion_id
		WHERE $1 = '' OR v.vin ILIKE '%' || $1 || '%' OR m.number ILIKE '%' || $1 || '%' ORDER BY v.vin`},
	FleetPlates: {[]string{"State", "Plate", "VIN", "From", "To"}, `
		SELECT p.state, p.plate, v.vin, lower(p.valid), upper(p.valid)
		FROM plate_bindings p JOIN vehicles v ON v.id = p.vehicle_id
		WHERE $1 = '' OR p.plate ILIKE '%' || $1 || '%' OR v.vin ILIKE '%' || $1 || '%' ORDER BY p.state, p.plate, lower(p.valid)`},
	FleetTags: {[]string{"Tag", "VIN", "From", "To"}, `
		SELECT t.tag, v.vin, lower(t.valid), upper(t.valid)
		FROM tag_bindings t JOIN vehicles v ON v.id = t.vehicle_id
		WHERE $1 = '' OR t.tag LIKE '%' || $1 || '%' OR v.vin ILIKE '%' || $1 || '%' ORDER BY t.tag, lower(t.valid)`},
	FleetLeases: {[]string{"Lease", "VIN", "Medallion", "From", "To", "Active", "Drivers"}, `
		SELECT coalesce(l.ref, '#' || l.id), v.vin, m.number, lower(l.valid),
			upper(l.valid), CASE WHEN l.active THEN 'yes' ELSE 'no' END,
			coalesce((SELECT string_agg(d.name || CASE WHEN ld.is_primary THEN ' (primary)' ELSE '' END, ', ' ORDER BY ld.is_primary DESC, ld.position)
				FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id WHERE ld.lease_id = l.id), '—')
		FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id
		WHERE $1 = '' OR l.ref ILIKE '%' || $1 || '%' OR v.vin ILIKE '%' || $1 || '%' OR m.number ILIKE '%' || $1 || '%'
		ORDER BY v.vin, lower(l.valid)`},
	FleetLeaseDrivers: {[]string{"Lease", "Driver", "TLC licence", "Primary", "Position"}, `
		SELECT coalesce(l.ref, '#' || l.id), d.name, d.tlc_license, CASE WHEN ld.is_primary THEN 'yes' ELSE 'no' END, ld.position::text
		FROM lease_drivers ld JOIN leases l ON l.id = ld.lease_id JOIN drivers d ON d.id = ld.driver_id
		WHERE $1 = '' OR l.ref ILIKE '%' || $1 || '%' OR d.name ILIKE '%' || $1 || '%' OR d.tlc_license ILIKE '%' || $1 || '%'
		ORDER BY l.ref, ld.position`},
}

// BrowseFleet returns a page (1-based) of an entity, times shown in tz.
func BrowseFleet(ctx context.Context, tx pgx.Tx, entity, q string, page, size int, tz *time.Location) (FleetPage, error) {
	return BrowseFleetPage(ctx, tx, entity, q, page, size, tz)
}

// BrowseFleetPage returns a page (1-based) of an entity, times shown in
// tz, in one statement (no transaction needed).
func BrowseFleetPage(ctx context.Context, db DBTX, entity, q string, page, size int, tz *time.Location) (FleetPage, error) {
	b, ok := fleetBrowse[entity]
	if !ok {
		return FleetPage{}, apperror.New(apperror.NotFound, "There is no fleet list named %q.", entity)
	}
	if page < 1 {
		page = 1
	}
	rows, err := db.Query(ctx, b.sql+fmt.Sprintf(" LIMIT %d OFFSET %d", size+1, (page-1)*size), q)
	if err != nil {
		return FleetPage{}, err
	}
	out := FleetPage{Entity: entity, Headers: b.headers, Page: page}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return FleetPage{}, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fleetCell(v, tz)
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return FleetPage{}, err
	}
	if len(out.Rows) > size {
		out.Rows, out.More = out.Rows[:size], true
	}
	return out, nil
}

// fleetCell renders one value of a fleet list for people: times in tz
// with the zone's abbreviation, an open end of a period as "open".
func fleetCell(v any, tz *time.Location) string {
	switch v := v.(type) {
	case time.Time:
		return format.TimeIn(v, tz)
	case nil:
		return "open"
	}
	return fmt.Sprint(v)
}

// LeaseChoice is a lease offered in the Assign form, with its drivers.
type LeaseChoice struct {
	ID        int64
	Ref       string
	VIN       string
	Medallion string
	From, To  time.Time // To zero: open-ended
	Active    bool
	Covers    bool // the lease's range contains the toll time asked about
	Drivers   []LeaseDriverChoice
}

// LeaseDriverChoice is a driver on a lease.
type LeaseDriverChoice struct {
	ID      int64
	Name    string
	TLC     string
	Primary bool
}

// Label names the lease for people.
func (l LeaseChoice) Label() string {
	if l.Ref != "" {
		return l.Ref
	}
	return fmt.Sprintf("#%d", l.ID)
}

// SearchLeases finds active leases by vehicle VIN, plate (current at at),
// medallion number or lease ref (q), or, with q empty, the leases of
// vehicleID; Covers tells whether each contains at.
func SearchLeases(ctx context.Context, db DBTX, q string, vehicleID int64, at time.Time) ([]LeaseChoice, error) {
	rows, err := db.Query(ctx, `
		SELECT l.id, coalesce(l.ref, ''), v.vin, m.number, lower(l.valid), upper(l.valid), l.active, l.valid @> $3::timestamptz,
			coalesce((SELECT json_agg(json_build_object('id', d.id, 'name', d.name, 'tlc', d.tlc_license, 'primary', ld.is_primary)
				ORDER BY ld.is_primary DESC, ld.position, d.id)
				FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id WHERE ld.lease_id = l.id), '[]')
		FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id
		WHERE l.active AND (
			($1 = '' AND l.vehicle_id = $2)
			OR ($1 <> '' AND (v.vin = upper($1) OR m.number = upper($1) OR l.ref = $1
				OR EXISTS (SELECT 1 FROM plate_bindings p WHERE p.vehicle_id = v.id
					AND p.state || p.plate = upper(regexp_replace($1, '[^A-Za-z0-9]', '', 'g')) AND p.valid @> $3::timestamptz))))
		ORDER BY (l.valid @> $3::timestamptz) DESC, abs(extract(epoch FROM lower(l.valid) - $3::timestamptz)), l.id
		LIMIT 50`, q, vehicleID, at)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeaseChoice, error) {
		var c LeaseChoice
		var to *time.Time
		var drivers []struct {
			ID      int64  `json:"id"`
			Name    string `json:"name"`
			TLC     string `json:"tlc"`
			Primary bool   `json:"primary"`
		}
		if err := r.Scan(&c.ID, &c.Ref, &c.VIN, &c.Medallion, &c.From, &to, &c.Active, &c.Covers, &drivers); err != nil {
			return c, err
		}
		if to != nil {
			c.To = *to
		}
		for _, d := range drivers {
			c.Drivers = append(c.Drivers, LeaseDriverChoice{ID: d.ID, Name: d.Name, TLC: d.TLC, Primary: d.Primary})
		}
		return c, nil
	})
}
