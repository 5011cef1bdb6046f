package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// LadderFixture describes synthetic, validated and tracked batches for the
// ladder's tests, its month simulation and its benchmark. It is written with
// a handful of set-based statements however many batches it holds.
type LadderFixture struct {
	// Period is YYYY-MM; default "2026-01".
	Period string
	// Batches is how many partners (one batch each); default 1.
	Batches int
	// Items is how many bookings each batch holds; default 3.
	Items int
	// TrackedAt, when set, marks the period ingested, validated and tracked at that time.
	TrackedAt time.Time
	// To, Cc and Escalation are every partner's addresses; "{n}" is replaced by
	// the partner's number. Default To: "ops{n}@partner.test".
	To, Cc, Escalation []string
	// MasterFile, when set, is stored as version 1 of each batch's master file.
	MasterFile []byte
	// PartyPrefix prefixes the party ids (default "DE*T"), numbered from 1.
	PartyPrefix string
}

// CreateLadderFixture writes the fixture and returns the batch ids in partner order.
func CreateLadderFixture(ctx context.Context, db DBTX, f LadderFixture) ([]string, error) {
	if f.Period == "" {
		f.Period = "2026-01"
	}
	if f.Batches <= 0 {
		f.Batches = 1
	}
	if f.Items <= 0 {
		f.Items = 3
	}
	if f.To == nil {
		f.To = []string{"ops{n}@partner.test"}
	}
	for _, p := range []*[]string{&f.Cc, &f.Escalation} {
		if *p == nil {
			*p = []string{}
		}
	}
	if f.PartyPrefix == "" {
		f.PartyPrefix = "DE*T"
	}
	var tracked *time.Time
	if !f.TrackedAt.IsZero() {
		tracked = &f.TrackedAt
	}
	_, err := db.Exec(ctx, `INSERT INTO faulty_periods (period, ingested_at, validated_at, tracked_at)
		VALUES ($1, $2, $2, $2) ON CONFLICT (period) DO NOTHING`, f.Period, tracked)
	if err != nil {
		return nil, err
	}
	addrs := func(col string) string {
		return `ARRAY(SELECT replace(a, '{n}', n::text) FROM unnest(` + col + `::text[]) a)`
	}
	rows, err := db.Query(ctx, `WITH p AS (
			INSERT INTO partners (party_id, name, to_addrs, cc_addrs, escalation_addrs)
			SELECT $2 || n, 'Partner ' || n, `+addrs("$3")+`, `+addrs("$4")+`, `+addrs("$5")+`
			FROM generate_series(1, $1::int) n
			ON CONFLICT (party_id) DO UPDATE SET name = excluded.name
			RETURNING id, party_id
		)
		INSERT INTO faulty_batches (partner_id, period, tracked_at)
		SELECT id, $6, $7 FROM p ORDER BY id
		RETURNING id::text`, f.Batches, f.PartyPrefix, f.To, f.Cc, f.Escalation, f.Period, tracked)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	_, err = db.Exec(ctx, `WITH b AS (
			SELECT b.id, b.period, p.id AS partner_id, p.party_id, p.name, row_number() OVER (ORDER BY p.id) AS bn
			FROM faulty_batches b JOIN partners p ON p.id = b.partner_id WHERE b.id = ANY($1::uuid[])
		), r AS (
			INSERT INTO faulty_report_rows (period, auth_ref, party_id, partner_name, partner_id, charger_station_id, station_name,
				city, connector_id, energy_wh, payment_status, cdr_id, start_at, end_at, sheet_row, confirmed, fault_reasons, validated_at)
			SELECT b.period, substr(md5(b.id::text || '/' || i), 1, 24), b.party_id, b.name, b.partner_id,
				'ST-' || b.bn || '-' || i, 'Station ' || i, 'Berlin', '1', 1000 * i + 250, 'action_required', 'CDR-' || i,
				to_date(b.period, 'YYYY-MM') + make_interval(days => (i % 27), hours => 8),
				to_date(b.period, 'YYYY-MM') + make_interval(days => (i % 27), hours => 9),
				i + 3, true,
				CASE WHEN i % 2 = 0 THEN ARRAY['CDR_MISSING'] ELSE ARRAY['TARIFF_MISMATCH', 'CDR_MISSING'] END, now()
			FROM b, generate_series(1, $2::int) i
			RETURNING id, period, auth_ref, partner_id
		)
		INSERT INTO faulty_items (batch_id, report_row_id, auth_ref)
		SELECT b.id, r.id, r.auth_ref FROM r JOIN b ON b.partner_id = r.partner_id AND b.period = r.period`, ids, f.Items)
	if err != nil {
		return nil, err
	}
	if f.MasterFile != nil {
		_, err = db.Exec(ctx, `INSERT INTO master_files (batch_id, version, sha256, data, reason)
			SELECT id, 1, encode(sha256($2), 'hex'), $2, 'fixture' FROM unnest($1::uuid[]) id`, ids, f.MasterFile)
	}
	return ids, err
}
