package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"recondesk/internal/apperror"
	"recondesk/internal/ezpass"
)

// EZPassTxn is a stored E-ZPass transaction with the names of what it is
// matched to.
type EZPassTxn struct {
	ID             int64
	Account        string
	DedupeKey      string
	LaneTxnID      string
	ImportID       int64
	ImportFile     string
	Line           int
	Kind           string
	ExcludedReason string
	TagOrPlate     string
	Tag            string
	PlateState     string
	Plate          string
	Agency         string
	EntryPlaza     string
	ExitPlaza      string
	Class          string
	TxnAt          time.Time
	PostedOn       *time.Time
	AmountCents    int64
	Status         string
	FailureCode    string
	FailureMessage string
	FailureHint    string
	VehicleID      int64
	VIN            string
	LeaseID        int64
	LeaseRef       string
	DriverID       int64
	DriverName     string
	DriverTLC      string
	MedallionID    int64
	Medallion      string
	MatchMethod    string
	ConflictOf     int64
	AssociatedAt   *time.Time
	PostedAt       *time.Time
	CreatedAt      time.Time
	// Raw is the row's original cells (JSON object), filled by EZPassTxnByID.
	Raw json.RawMessage
}

// Plaza is the plaza to show: the exit plaza, else the entry plaza.
func (t EZPassTxn) Plaza() string {
	if t.ExitPlaza != "" {
		return t.ExitPlaza
	}
	return t.EntryPlaza
}

// Reason explains the status for people: the failure, the exclusion or
// the conflict; empty when there is nothing to explain.
func (t EZPassTxn) Reason() string {
	switch {
	case t.FailureMessage != "":
		s := t.FailureMessage
		if t.FailureHint != "" {
			s += ". " + t.FailureHint
		}
		return s
	case t.Status == "conflict":
		return fmt.Sprintf("Lane Txn ID %s is stored already (transaction #%d) with different data; this version is kept for review and never posted.", t.LaneTxnID, t.ConflictOf)
	case t.Kind == "payment":
		return "A payment into the E-ZPass account: not a toll, never posted."
	case t.Kind == "tag_fee":
		return "The agency's tag leasing fee: not a toll, never posted."
	case t.ExcludedReason != "":
		return t.ExcludedReason
	}
	return ""
}

const txnCols = `t.id, t.account, t.dedupe_key, coalesce(t.lane_txn_id, ''), t.import_id, i.file_name, t.line, t.kind, t.excluded_reason,
	t.tag_or_plate, coalesce(t.tag, ''), coalesce(t.plate_state, ''), coalesce(t.plate, ''), t.agency, t.entry_plaza, t.exit_plaza,
	t.vehicle_class, t.txn_at, t.posted_on, t.amount_cents, t.status, t.failure_code, t.failure_message, t.failure_hint,
	coalesce(t.vehicle_id, 0), coalesce(v.vin, ''), coalesce(t.lease_id, 0), coalesce(l.ref, ''), coalesce(t.driver_id, 0),
	coalesce(d.name, ''), coalesce(d.tlc_license, ''), coalesce(t.medallion_id, 0), coalesce(m.number, ''),
	coalesce(t.match_method, ''), coalesce(t.conflict_of, 0), t.associated_at, t.posted_at, t.created_at`

const txnFrom = ` FROM ezpass_transactions t
	JOIN ezpass_imports i ON i.id = t.import_id
	LEFT JOIN vehicles v ON v.id = t.vehicle_id
	LEFT JOIN leases l ON l.id = t.lease_id
	LEFT JOIN drivers d ON d.id = t.driver_id
	LEFT JOIN medallions m ON m.id = t.medallion_id`

// txnPageCols are txnCols for a page of the list, read FROM
// ezpass_transactions t alone: the names come from scalar sub-selects, one
// primary-key probe per shown row, instead of five joins. Planning those
// joins cost about 13 ms a request at 1M tolls (the execution 2 ms); the
// page needs names for fifty rows, not a join plan. txnDest reads both.
const txnPageCols = `t.id, t.account, t.dedupe_key, coalesce(t.lane_txn_id, ''), t.import_id,
	(SELECT i.file_name FROM ezpass_imports i WHERE i.id = t.import_id), t.line, t.kind, t.excluded_reason,
	t.tag_or_plate, coalesce(t.tag, ''), coalesce(t.plate_state, ''), coalesce(t.plate, ''), t.agency, t.entry_plaza, t.exit_plaza,
	t.vehicle_class, t.txn_at, t.posted_on, t.amount_cents, t.status, t.failure_code, t.failure_message, t.failure_hint,
	coalesce(t.vehicle_id, 0), coalesce((SELECT v.vin FROM vehicles v WHERE v.id = t.vehicle_id), ''),
	coalesce(t.lease_id, 0), coalesce((SELECT l.ref FROM leases l WHERE l.id = t.lease_id), ''), coalesce(t.driver_id, 0),
	coalesce((SELECT d.name FROM drivers d WHERE d.id = t.driver_id), ''),
	coalesce((SELECT d.tlc_license FROM drivers d WHERE d.id = t.driver_id), ''), coalesce(t.medallion_id, 0),
	coalesce((SELECT m.number FROM medallions m WHERE m.id = t.medallion_id), ''),
	coalesce(t.match_method, ''), coalesce(t.conflict_of, 0), t.associated_at, t.posted_at, t.created_at`

func txnDest(t *EZPassTxn) []any {
	return []any{&t.ID, &t.Account, &t.DedupeKey, &t.LaneTxnID, &t.ImportID, &t.ImportFile, &t.Line, &t.Kind, &t.ExcludedReason,
		&t.TagOrPlate, &t.Tag, &t.PlateState, &t.Plate, &t.Agency, &t.EntryPlaza, &t.ExitPlaza,
		&t.Class, &t.TxnAt, &t.PostedOn, &t.AmountCents, &t.Status, &t.FailureCode, &t.FailureMessage, &t.FailureHint,
		&t.VehicleID, &t.VIN, &t.LeaseID, &t.LeaseRef, &t.DriverID,
		&t.DriverName, &t.DriverTLC, &t.MedallionID, &t.Medallion,
		&t.MatchMethod, &t.ConflictOf, &t.AssociatedAt, &t.PostedAt, &t.CreatedAt}
}

// EZPassTxnByID returns one transaction with its raw row.
func EZPassTxnByID(ctx context.Context, db DBTX, id int64) (EZPassTxn, error) {
	var t EZPassTxn
	dest := append(txnDest(&t), &t.Raw)
	err := db.QueryRow(ctx, `SELECT `+txnCols+`, t.raw`+txnFrom+` WHERE t.id = $1`, id).Scan(dest...)
	return t, notFound(err, fmt.Sprintf("E-ZPass transaction #%d", id))
}

// TxnStatuses are the transaction statuses in lifecycle order (DESIGN §5.7).
var TxnStatuses = []string{"imported", "associated", "posted", "association_failed", "posting_failed", "excluded", "conflict"}

// txnSorts whitelists the sort columns of the transaction list: the SQL
// expression and its type (for the keyset cursor).
var txnSorts = map[string]struct{ expr, typ string }{
	"txn_at":  {"t.txn_at", "timestamptz"},
	"amount":  {"t.amount_cents", "bigint"},
	"agency":  {"t.agency", "text"},
	"status":  {"t.status", "text"},
	"plate":   {"t.tag_or_plate", "text"},
	"created": {"t.id", "bigint"},
}

// TxnSortKeys are the accepted sort keys, for forms and messages.
var TxnSortKeys = []string{"txn_at", "amount", "agency", "status", "plate", "created"}

// EZPassTxnFilter narrows and orders the transaction list; empty fields
// match everything.
type EZPassTxnFilter struct {
	From, To  time.Time // txn_at in [From, To)
	Status    string
	Kind      string
	Agency    string // exact, case-insensitive
	Vehicle   string // a tag (digits) or a plate, optionally state-prefixed
	Driver    string // TLC licence, or part of the name
	Medallion string // medallion number
	ImportID  int64
	Sort      string // one of TxnSortKeys; default txn_at
	Desc      bool
	Cursor    string // from another page's NextCursor or PrevCursor
	Limit     int    // default 50, at most 500
}

// Validate checks the whitelisted values and the cursor.
func (f EZPassTxnFilter) Validate() error {
	fields := map[string]string{}
	if _, ok := txnSorts[f.Sort]; f.Sort != "" && !ok {
		fields["sort"] = "Sort by one of: " + strings.Join(TxnSortKeys, ", ") + "."
	}
	if f.Status != "" && !contains(TxnStatuses, f.Status) {
		fields["status"] = "Status must be one of: " + strings.Join(TxnStatuses, ", ") + "."
	}
	if f.Kind != "" && !contains(ImportKinds, f.Kind) {
		fields["kind"] = "Kind must be one of: " + strings.Join(ImportKinds, ", ") + "."
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fields["to"] = "The end date must be after the start date."
	}
	if f.Cursor != "" {
		if _, err := decodeCursor(f.Cursor); err != nil {
			fields["cursor"] = "The cursor is not one this server gave out; start again from the first page."
		}
	}
	if len(fields) > 0 {
		return apperror.FieldErrors(fields)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// txnCursor is a position in the list: after the last row of a page, or,
// with Back, before the first row of a page (the previous page ends there).
type txnCursor struct {
	Sort  string `json:"s"`
	Desc  bool   `json:"d"`
	Value string `json:"v"`
	ID    int64  `json:"i"`
	Back  bool   `json:"b,omitempty"`
}

func decodeCursor(s string) (txnCursor, error) {
	var c txnCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil {
		if _, ok := txnSorts[c.Sort]; !ok {
			err = fmt.Errorf("store: cursor sort %q", c.Sort)
		}
	}
	if err == nil {
		err = c.checkValue()
	}
	return c, err
}

// checkValue refuses a cursor whose value PostgreSQL could not read as its
// sort's type (a forged or damaged link), so it is a 400, not a 500.
func (c txnCursor) checkValue() error {
	bad := fmt.Errorf("store: cursor value %q for sort %q", c.Value, c.Sort)
	if strings.ContainsRune(c.Value, 0) || !utf8.ValidString(c.Value) || len(c.Value) > 512 || c.ID < 0 {
		return bad
	}
	switch txnSorts[c.Sort].typ {
	case "timestamptz":
		ok := false
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07:00:00", time.RFC3339Nano} {
			if t, err := time.Parse(layout, c.Value); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
				ok = true
				break
			}
		}
		if !ok {
			return bad
		}
	case "bigint":
		if _, err := strconv.ParseInt(c.Value, 10, 64); err != nil {
			return bad
		}
	}
	return nil
}

func (c txnCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// where builds the filter's conditions and arguments.
func (f EZPassTxnFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if !f.From.IsZero() {
		add("t.txn_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("t.txn_at < ?", f.To)
	}
	if f.Status != "" {
		add("t.status = ?", f.Status)
	}
	if f.Kind != "" {
		add("t.kind = ?", f.Kind)
	}
	if a := strings.TrimSpace(f.Agency); a != "" {
		add("upper(t.agency) = upper(?)", a)
	}
	if v := strings.TrimSpace(f.Vehicle); v != "" {
		if tag, ok := ezpass.NormaliseTag(v); ok {
			add("t.tag = ?", tag)
		} else if state, plate := ezpass.NormalisePlate(v); state != "" {
			add("t.plate = ? AND t.plate_state = ?", plate, state)
		} else {
			add("t.plate = ?", plate)
		}
	}
	if d := strings.TrimSpace(f.Driver); d != "" {
		add("t.driver_id IN (SELECT id FROM drivers WHERE tlc_license = ? OR name ILIKE '%' || ? || '%')", d, d)
	}
	if m := strings.TrimSpace(f.Medallion); m != "" {
		add("t.medallion_id IN (SELECT id FROM medallions WHERE upper(number) = upper(?))", m)
	}
	if f.ImportID != 0 {
		add("t.import_id = ?", f.ImportID)
	}
	if f.Cursor != "" {
		c, _ := decodeCursor(f.Cursor)
		s := txnSorts[c.Sort]
		op := ">"
		if c.Desc != c.Back {
			op = "<"
		}
		add("("+s.expr+", t.id) "+op+" (?::"+s.typ+", ?::bigint)", c.Value, c.ID)
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// order is the ORDER BY of the filter and the sort value expression.
func (f EZPassTxnFilter) order() (orderBy, valueExpr string) {
	sort, desc := f.Sort, f.Desc
	if c, err := decodeCursor(f.Cursor); f.Cursor != "" && err == nil {
		// A cursor keeps its page's order; going back reads it reversed.
		sort, desc = c.Sort, c.Desc != c.Back
	}
	if sort == "" {
		sort = "txn_at"
	}
	s := txnSorts[sort]
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return " ORDER BY " + s.expr + dir + ", t.id" + dir, s.expr + "::text"
}

// EZPassTxnPage is one page of transactions and where the pages next to it
// start.
type EZPassTxnPage struct {
	Txns []EZPassTxn
	// NextCursor continues after the last row; empty on the last page.
	NextCursor string
	// PrevCursor reads the page before the first row; empty on the first page.
	PrevCursor string
}

// ListEZPassTxns returns one page of transactions matching f, in keyset
// pagination (no OFFSET) both ways: f.Cursor from another page's
// NextCursor or PrevCursor.
func ListEZPassTxns(ctx context.Context, db DBTX, f EZPassTxnFilter) (EZPassTxnPage, error) {
	if err := f.Validate(); err != nil {
		return EZPassTxnPage{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	where, args := f.where()
	orderBy, valueExpr := f.order()
	args = append(args, f.Limit+1)
	rows, err := db.Query(ctx, `SELECT `+txnPageCols+`, `+valueExpr+` FROM ezpass_transactions t`+where+orderBy+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return EZPassTxnPage{}, err
	}
	var page EZPassTxnPage
	var values []string
	for rows.Next() {
		var t EZPassTxn
		var v string
		if err := rows.Scan(append(txnDest(&t), &v)...); err != nil {
			rows.Close()
			return page, err
		}
		page.Txns = append(page.Txns, t)
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	sort, desc, back := f.Sort, f.Desc, false
	if f.Cursor != "" {
		c, _ := decodeCursor(f.Cursor)
		sort, desc, back = c.Sort, c.Desc, c.Back
	}
	if sort == "" {
		sort = "txn_at"
	}
	more := len(page.Txns) > f.Limit
	if more {
		page.Txns, values = page.Txns[:f.Limit], values[:f.Limit]
	}
	if back {
		// Read backwards from the cursor: put the page in its order.
		slices.Reverse(page.Txns)
		slices.Reverse(values)
	}
	at := func(i int, back bool) string {
		return txnCursor{Sort: sort, Desc: desc, Value: values[i], ID: page.Txns[i].ID, Back: back}.encode()
	}
	if n := len(page.Txns); n > 0 {
		// Forward: more rows follow, and rows precede when we came by a
		// cursor. Backward: the page we came from follows, and more precede.
		if (!back && more) || (back && f.Cursor != "") {
			page.NextCursor = at(n-1, false)
		}
		if (!back && f.Cursor != "") || (back && more) {
			page.PrevCursor = at(0, true)
		}
	}
	return page, nil
}

// EachEZPassTxn calls fn for every transaction matching f (Cursor and
// Limit ignored), in the filter's order, streaming rows from the database.
func EachEZPassTxn(ctx context.Context, db DBTX, f EZPassTxnFilter, fn func(EZPassTxn) error) error {
	f.Cursor, f.Limit = "", 0
	if err := f.Validate(); err != nil {
		return err
	}
	where, args := f.where()
	orderBy, _ := f.order()
	rows, err := db.Query(ctx, `SELECT `+txnCols+txnFrom+where+orderBy, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t EZPassTxn
		if err := rows.Scan(txnDest(&t)...); err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return rows.Err()
}
