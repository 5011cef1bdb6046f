package store

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/faulty"
)

// Partner is a roaming partner (CPO) that faulty bookings are chased with (§4.3).
type Partner struct {
	ID      int64  `json:"id"`
	PartyID string `json:"party_id"`
	Name    string `json:"name"`
	// CredentialIDs are the partner's OCPI credential ObjectIds (24 lower-case hex digits).
	CredentialIDs []string  `json:"credential_ids"`
	To            []string  `json:"to"`
	CC            []string  `json:"cc"`
	Escalation    []string  `json:"escalation"`
	Active        bool      `json:"active"`
	CreatedAt     time.Time `json:"-"`
	UpdatedAt     time.Time `json:"-"`
	// Failing are addresses a bounce reported as failing (filled by MarkFailingRecipients).
	Failing []string `json:"failing,omitempty"`
}

// PartnerInput is what an admin sets on a partner.
type PartnerInput struct {
	PartyID       string
	Name          string
	CredentialIDs []string
	To            []string
	CC            []string
	Escalation    []string
	Active        bool
}

// ParseCredentialIDs splits a list of credential ids separated by commas, spaces or newlines and
// normalises each to lower-case hex; the error names the first invalid one.
func ParseCredentialIDs(s string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}) {
		n, ok := faulty.NormalizeReference(f)
		if !ok {
			return nil, fmt.Errorf("%q is not a credential id: use 24 hexadecimal digits, like 65a1f0c2e4b0a1b2c3d4e5f6", f)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// ParseAddresses splits a list of email addresses separated by commas, semicolons or newlines
// ("Name <a@example.com>" is accepted); the error names the first invalid one.
func ParseAddresses(s string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, part := range splitAddressList(s) {
		a, err := mail.ParseAddress(part)
		if err != nil || !strings.Contains(a.Address, ".") {
			return nil, fmt.Errorf("%q is not an email address: write addresses like name@example.com, separated by commas", part)
		}
		v := a.Address
		if a.Name != "" {
			v = a.String()
		}
		if !seen[strings.ToLower(a.Address)] {
			seen[strings.ToLower(a.Address)] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// splitAddressList splits on commas, semicolons and line breaks outside quotes and angle brackets.
func splitAddressList(s string) []string {
	var parts []string
	var cur strings.Builder
	inQuote, inAngle := false, false
	flush := func() {
		if p := strings.TrimSpace(cur.String()); p != "" {
			parts = append(parts, p)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case r == '"' && !inAngle:
			inQuote = !inQuote
		case r == '<' && !inQuote:
			inAngle = true
		case r == '>' && !inQuote:
			inAngle = false
		case (r == ',' || r == ';' || r == '\n' || r == '\r') && !inQuote && !inAngle:
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return parts
}

// Validate returns a message per invalid field of an already parsed input.
func (in PartnerInput) Validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(in.PartyID) == "" {
		errs["party_id"] = "Enter the partner's Party ID as it appears in the ChargeCloud report, like DE*VLT."
	} else if len(in.PartyID) > 64 {
		errs["party_id"] = "The Party ID is too long (at most 64 characters)."
	}
	if strings.TrimSpace(in.Name) == "" {
		errs["name"] = "Enter the partner's name."
	}
	if in.Active && len(in.To) == 0 {
		errs["to"] = "Enter at least one address to send the partner's emails to, or mark the partner inactive."
	}
	return errs
}

const partnerCols = `id, party_id, name, credential_ids, to_addrs, cc_addrs, escalation_addrs, active, created_at, updated_at`

func scanPartner(row pgx.Row) (Partner, error) {
	var p Partner
	err := row.Scan(&p.ID, &p.PartyID, &p.Name, &p.CredentialIDs, &p.To, &p.CC, &p.Escalation, &p.Active, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreatePartner inserts a partner; a taken Party ID is a Conflict.
func CreatePartner(ctx context.Context, db DBTX, in PartnerInput) (Partner, error) {
	p, err := scanPartner(db.QueryRow(ctx, `INSERT INTO partners (party_id, name, credential_ids, to_addrs, cc_addrs, escalation_addrs, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+partnerCols,
		strings.TrimSpace(in.PartyID), strings.TrimSpace(in.Name), nonNil(in.CredentialIDs), nonNil(in.To), nonNil(in.CC), nonNil(in.Escalation), in.Active))
	if IsUniqueViolation(err) {
		return p, apperror.New(apperror.Conflict, "A partner with Party ID %s already exists; edit that one instead.", strings.TrimSpace(in.PartyID))
	}
	return p, err
}

// UpdatePartner replaces a partner's settings; a taken Party ID is a Conflict.
func UpdatePartner(ctx context.Context, db DBTX, id int64, in PartnerInput) (Partner, error) {
	p, err := scanPartner(db.QueryRow(ctx, `UPDATE partners SET party_id = $2, name = $3, credential_ids = $4, to_addrs = $5,
			cc_addrs = $6, escalation_addrs = $7, active = $8, updated_at = now()
		WHERE id = $1 RETURNING `+partnerCols,
		id, strings.TrimSpace(in.PartyID), strings.TrimSpace(in.Name), nonNil(in.CredentialIDs), nonNil(in.To), nonNil(in.CC), nonNil(in.Escalation), in.Active))
	if IsUniqueViolation(err) {
		return p, apperror.New(apperror.Conflict, "Another partner already has Party ID %s.", strings.TrimSpace(in.PartyID))
	}
	return p, notFound(err, "The partner")
}

// PartnerByID finds a partner by id.
func PartnerByID(ctx context.Context, db DBTX, id int64) (Partner, error) {
	p, err := scanPartner(db.QueryRow(ctx, `SELECT `+partnerCols+` FROM partners WHERE id = $1`, id))
	return p, notFound(err, "The partner")
}

// PartnerByPartyID finds a partner by its Party ID.
func PartnerByPartyID(ctx context.Context, db DBTX, partyID string) (Partner, error) {
	p, err := scanPartner(db.QueryRow(ctx, `SELECT `+partnerCols+` FROM partners WHERE party_id = $1`, strings.TrimSpace(partyID)))
	return p, notFound(err, "The partner")
}

// ListPartners returns every partner ordered by name.
func ListPartners(ctx context.Context, db DBTX) ([]Partner, error) {
	rows, err := db.Query(ctx, `SELECT `+partnerCols+` FROM partners ORDER BY lower(name), id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Partner, error) { return scanPartner(r) })
}

// PartnerUnknownRows returns, per period, how many report rows of a Party ID wait as
// UNKNOWN_PARTNER (validated before a partner with that Party ID existed).
func PartnerUnknownRows(ctx context.Context, db DBTX, partyID string) (map[string]int, error) {
	rows, err := db.Query(ctx, `SELECT period, count(*) FROM faulty_report_rows
		WHERE party_id = $1 AND reason = $2 AND in_latest_report GROUP BY period ORDER BY period`, strings.TrimSpace(partyID), string(faulty.ReasonUnknownPartner))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, err
		}
		out[p] = n
	}
	return out, rows.Err()
}
