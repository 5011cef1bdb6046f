package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeaseSearchVehicle is a vehicle a lease search text names, with how it
// matched and the leases nearest to the toll time: what the Assign form
// shows when the search offers no lease, so people see why.
type LeaseSearchVehicle struct {
	ID  int64
	VIN string
	// Via says what matched: "vin", "plate", "medallion" or "lease".
	Via string
	// PlateFrom and PlateTo bound the plate binding that matched (Via
	// "plate"); PlateAt tells whether it held at the toll time.
	PlateFrom, PlateTo time.Time
	PlateAt            bool
	Leases             []LeaseSummary // nearest to the toll time first, at most 4
}

// LeaseSummary is a lease as an explanation lists it.
type LeaseSummary struct {
	Ref      string
	From, To time.Time // To zero: open-ended
	Active   bool
	Covers   bool
	Drivers  int
}

// ExplainLeaseSearch finds the vehicles q names (VIN, plate with state at
// any time, medallion, lease ref) and each one's leases nearest to at, for
// at most 5 vehicles: bounded work through the unique and range indexes.
// vehicleID > 0 with q empty explains that vehicle.
func ExplainLeaseSearch(ctx context.Context, db DBTX, q string, vehicleID int64, at time.Time) ([]LeaseSearchVehicle, error) {
	rows, err := db.Query(ctx, `
		WITH n AS (SELECT upper(btrim($1)) AS q, upper(regexp_replace($1, '[^A-Za-z0-9]', '', 'g')) AS p),
		hit AS (
			SELECT v.id, 'vin' AS via, NULL::tstzrange AS pv, 1 AS rank FROM vehicles v, n WHERE $1 <> '' AND v.vin = n.q
			UNION ALL
			SELECT v.id, 'vehicle', NULL, 1 FROM vehicles v WHERE $1 = '' AND v.id = $2
			UNION ALL
			(SELECT pb.vehicle_id, 'plate', pb.valid, 2 FROM plate_bindings pb, n
				WHERE $1 <> '' AND length(n.p) > 2 AND pb.state = left(n.p, 2) AND pb.plate = substr(n.p, 3)
				ORDER BY pb.valid @> $3::timestamptz DESC, abs(extract(epoch FROM lower(pb.valid) - $3::timestamptz)) LIMIT 5)
			UNION ALL
			(SELECT v.id, 'medallion', NULL, 3 FROM vehicles v JOIN medallions m ON m.id = v.medallion_id, n
				WHERE $1 <> '' AND m.number = n.q LIMIT 5)
			UNION ALL
			(SELECT l.vehicle_id, 'medallion', NULL, 3 FROM leases l JOIN medallions m ON m.id = l.medallion_id, n
				WHERE $1 <> '' AND m.number = n.q LIMIT 5)
			UNION ALL
			SELECT l.vehicle_id, 'lease', NULL, 4 FROM leases l WHERE $1 <> '' AND l.ref = btrim($1)
		),
		v AS (
			SELECT DISTINCT ON (h.id) h.id, v.vin, h.via, h.pv, h.rank
			FROM hit h JOIN vehicles v ON v.id = h.id ORDER BY h.id, h.rank, (h.pv @> $3::timestamptz) DESC NULLS LAST
		)
		SELECT v.id, v.vin, v.via, lower(v.pv), upper(v.pv), coalesce(v.pv @> $3::timestamptz, false),
			coalesce((SELECT json_agg(json_build_object('ref', coalesce(l.ref, '#' || l.id), 'from', lower(l.valid), 'to', upper(l.valid),
					'active', l.active, 'covers', l.valid @> $3::timestamptz,
					'drivers', (SELECT count(*) FROM lease_drivers ld WHERE ld.lease_id = l.id)) ORDER BY lower(l.valid))
				FROM (SELECT * FROM leases l WHERE l.vehicle_id = v.id
					ORDER BY l.valid @> $3::timestamptz DESC, least(abs(extract(epoch FROM lower(l.valid) - $3::timestamptz)),
						coalesce(abs(extract(epoch FROM upper(l.valid) - $3::timestamptz)), 'Infinity')) LIMIT 4) l), '[]')
		FROM v ORDER BY v.rank, v.vin LIMIT 5`, q, vehicleID, at)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeaseSearchVehicle, error) {
		var v LeaseSearchVehicle
		var pf, pt *time.Time
		var leases []struct {
			Ref     string     `json:"ref"`
			From    time.Time  `json:"from"`
			To      *time.Time `json:"to"`
			Active  bool       `json:"active"`
			Covers  bool       `json:"covers"`
			Drivers int        `json:"drivers"`
		}
		if err := r.Scan(&v.ID, &v.VIN, &v.Via, &pf, &pt, &v.PlateAt, &leases); err != nil {
			return v, err
		}
		if pf != nil {
			v.PlateFrom = *pf
		}
		if pt != nil {
			v.PlateTo = *pt
		}
		for _, l := range leases {
			s := LeaseSummary{Ref: l.Ref, From: l.From, Active: l.Active, Covers: l.Covers, Drivers: l.Drivers}
			if l.To != nil {
				s.To = *l.To
			}
			v.Leases = append(v.Leases, s)
		}
		return v, nil
	})
}
