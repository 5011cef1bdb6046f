package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"recondesk/internal/apperror"
	"recondesk/internal/ezpass"
	"recondesk/internal/store"
)

// FleetEntity is one kind of fleet reference data an upload loads, with
// the columns its file needs.
type FleetEntity struct {
	Name     string // URL name, e.g. "leases"
	Title    string
	Required []string
	Optional []string
}

// FleetEntities are the fleet entities, in the order of their tabs.
var FleetEntities = []FleetEntity{
	{Name: store.FleetMedallions, Title: "Medallions", Required: []string{"number"}},
	{Name: store.FleetVehicles, Title: "Vehicles", Required: []string{"vin"}, Optional: []string{"medallion"}},
	{Name: store.FleetPlates, Title: "Plates", Required: []string{"vin", "state", "plate", "valid_from"}, Optional: []string{"valid_to"}},
	{Name: store.FleetTags, Title: "Tags", Required: []string{"vin", "tag", "valid_from"}, Optional: []string{"valid_to"}},
	{Name: store.FleetDrivers, Title: "Drivers", Required: []string{"name", "tlc_license"}},
	{Name: store.FleetLeases, Title: "Leases", Required: []string{"ref", "vin", "medallion", "valid_from"}, Optional: []string{"valid_to", "active"}},
	{Name: store.FleetLeaseDrivers, Title: "Lease drivers", Required: []string{"lease_ref", "tlc_license"}, Optional: []string{"primary", "position"}},
}

// FleetUpload is a fleet file to check or load.
type FleetUpload struct {
	Entity   FleetEntity
	FileName string
	Body     []byte
	// CheckOnly validates against the database and rolls back.
	CheckOnly bool
}

// FleetResult is what checking or loading a fleet file found.
type FleetResult struct {
	Header  []string
	Preview [][]string // the first rows
	Rows    int
	Errors  []store.FleetRowError
	Counts  store.FleetCounts
	// Message is why the whole file was refused ("" when it was not).
	Message string
}

// Refused reports whether the file was refused (nothing written).
func (r FleetResult) Refused() bool { return r.Message != "" || len(r.Errors) > 0 }

// errFleetRollback rolls back a check or a load with row errors.
var errFleetRollback = errors.New("fleet rows refused")

// LoadFleet checks a fleet file (CheckOnly) or loads it: it reads the rows,
// validates them, and applies them in one transaction with the audit event
// and, when something changed, an association job for the tolls the new
// reference data may now match. A file with errors writes nothing; the
// errors are in the result, not in err.
func (a *App) LoadFleet(ctx context.Context, actor Actor, up FleetUpload) (FleetResult, error) {
	var res FleetResult
	tz := a.importDeps().TZ
	t, err := readTable(up.FileName, up.Body)
	var batch store.FleetBatch
	if err == nil {
		res.Header, res.Rows = t.header, len(t.rows)
		for i := 0; i < len(t.rows) && i < 10; i++ {
			res.Preview = append(res.Preview, t.rows[i].cells)
		}
		batch, res.Errors, err = parseFleet(up.Entity, t, tz)
	}
	switch {
	case err != nil:
		if apperror.CodeOf(err) == apperror.Internal {
			return res, err
		}
		res.Message = apperror.MessageOf(err)
		return res, nil
	case res.Rows == 0:
		res.Message = "The file has a header but no rows."
		return res, nil
	}
	// Rows with format errors are left out of the database check, which
	// still runs on the others so that one pass reports every error
	// (format and reference) of the file; any error rolls back.
	formatErrs := res.Errors
	batch = batch.WithoutLines(errorLines(formatErrs))
	if len(formatErrs) > 0 && batch.Rows() == 0 {
		return res, nil
	}
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		counts, rowErrs, err := store.LoadFleet(ctx, tx, batch, tz)
		if err != nil {
			return err
		}
		if len(rowErrs) > 0 || len(formatErrs) > 0 {
			res.Errors = mergeRowErrors(formatErrs, rowErrs)
			return errFleetRollback
		}
		res.Counts = counts
		if up.CheckOnly {
			return errFleetRollback
		}
		after := map[string]any{"file": up.FileName, "size": len(up.Body), "counts": counts}
		if err := store.Audit(ctx, tx, actor.String(), "fleet.upload", "fleet", up.Entity.Name, nil, after, ""); err != nil {
			return err
		}
		if counts.Changed() {
			_, err = a.insertTx(ctx, tx, EZPassAssociateArgs{Trigger: "fleet " + up.Entity.Name}, nil)
			if errors.Is(err, errNoJobs) {
				err = nil // no River client (older callers): association runs on its schedule
			}
		}
		return err
	})
	if errors.Is(err, errFleetRollback) {
		err = nil
	}
	return res, err
}

// errorLines is the set of lines that have an error.
func errorLines(errs []store.FleetRowError) map[int]bool {
	lines := make(map[int]bool, len(errs))
	for _, e := range errs {
		lines[e.Line] = true
	}
	return lines
}

// mergeRowErrors joins format and reference errors in line order (format
// errors of a line first), at most maxFleetErrors.
func mergeRowErrors(format, ref []store.FleetRowError) []store.FleetRowError {
	out := make([]store.FleetRowError, 0, len(format)+len(ref))
	out = append(append(out, format...), ref...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	if len(out) > maxFleetErrors {
		out = out[:maxFleetErrors]
	}
	return out
}

// maxFleetErrors bounds the errors reported for one upload.
const maxFleetErrors = 1000

type tableRow struct {
	line  int
	cells []string
}

type table struct {
	header []string
	cols   map[string]int
	rows   []tableRow
}

func (t table) get(r tableRow, col string) string {
	i, ok := t.cols[col]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// maxFleetRows bounds one upload.
const maxFleetRows = 500000

// readTable reads a CSV or the first sheet of an XLSX (streaming) into rows.
func readTable(name string, body []byte) (table, error) {
	var t table
	next, err := rowReader(name, body)
	if err != nil {
		return t, err
	}
	line := 0
	for {
		cells, err := next()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return t, apperror.New(apperror.Invalid, "Line %d could not be read: %v.", line, err)
		}
		if t.header == nil {
			if len(cells) > 0 {
				cells[0] = strings.TrimPrefix(cells[0], "\ufeff")
			}
			t.header = cells
			t.cols = map[string]int{}
			for i, h := range cells {
				t.cols[strings.ToLower(strings.TrimSpace(h))] = i
			}
			continue
		}
		if allBlank(cells) {
			continue
		}
		if len(t.rows) >= maxFleetRows {
			return t, apperror.New(apperror.TooLarge, "The file has more than %d rows; split it.", maxFleetRows)
		}
		t.rows = append(t.rows, tableRow{line: line, cells: cells})
	}
	if t.header == nil {
		return t, apperror.New(apperror.Invalid, "The file is empty; it needs a header row.")
	}
	return t, nil
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func rowReader(name string, body []byte) (func() ([]string, error), error) {
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") {
		f, err := excelize.OpenReader(bytes.NewReader(body), excelize.Options{UnzipSizeLimit: 512 << 20, UnzipXMLSizeLimit: 128 << 20})
		if err != nil {
			return nil, apperror.New(apperror.Invalid, "%s is not a readable XLSX file: %v.", name, err)
		}
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, apperror.New(apperror.Invalid, "%s has no sheet.", name)
		}
		rows, err := f.Rows(sheets[0])
		if err != nil {
			return nil, apperror.New(apperror.Invalid, "%s: the first sheet could not be read: %v.", name, err)
		}
		return func() ([]string, error) {
			if !rows.Next() {
				_ = rows.Close()
				_ = f.Close()
				if err := rows.Error(); err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
			return rows.Columns()
		}, nil
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	return cr.Read, nil
}

var (
	vinRe   = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	stateRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// fleetTimeLayouts are the accepted local time forms of uploads.
var fleetTimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02",
	"1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006"}

func parseFleetTime(s string, tz *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range fleetTimeLayouts {
		if t, err := time.ParseInLocation(l, s, tz); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(s string, def bool) (bool, bool) {
	switch strings.ToLower(s) {
	case "":
		return def, true
	case "true", "yes", "y", "1", "x":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}

// parseFleet turns rows into a batch of one entity, with a row error per
// bad value; missing columns fail the whole file.
func parseFleet(e FleetEntity, t table, tz *time.Location) (store.FleetBatch, []store.FleetRowError, error) {
	var missing []string
	for _, c := range e.Required {
		if _, ok := t.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return store.FleetBatch{}, nil, apperror.New(apperror.Invalid, "The header lacks the column(s) %s (found: %s). Columns of %s: %s.",
			strings.Join(missing, ", "), strings.Join(t.header, ", "), e.Title, strings.Join(append(append([]string{}, e.Required...), e.Optional...), ", "))
	}
	var b store.FleetBatch
	var errs []store.FleetRowError
	bad := func(line int, col, val, msg string) {
		if len(errs) < 1000 {
			errs = append(errs, store.FleetRowError{Entity: e.Name, Line: line, Column: col, Value: val, Message: msg})
		}
	}
	vin := func(r tableRow) string {
		v := strings.ToUpper(t.get(r, "vin"))
		if !vinRe.MatchString(v) {
			bad(r.line, "vin", v, "A VIN has 17 letters and digits (no I, O or Q).")
		}
		return v
	}
	times := func(r tableRow) (from, to time.Time) {
		f := t.get(r, "valid_from")
		from, ok := parseFleetTime(f, tz)
		if !ok {
			bad(r.line, "valid_from", f, "Write the start as 2025-03-01 14:00 (local time) or RFC 3339.")
		}
		if s := t.get(r, "valid_to"); s != "" {
			if to, ok = parseFleetTime(s, tz); !ok {
				bad(r.line, "valid_to", s, "Write the end as 2025-03-01 14:00 (local time) or RFC 3339, or leave it empty for no end.")
			} else if ok && !from.IsZero() && !to.After(from) {
				bad(r.line, "valid_to", s, "The end must be after the start.")
			}
		}
		return from, to
	}
	required := func(r tableRow, col string) string {
		v := t.get(r, col)
		if v == "" {
			bad(r.line, col, "", "This column is required.")
		}
		return v
	}
	for _, r := range t.rows {
		switch e.Name {
		case store.FleetMedallions:
			b.Medallions = append(b.Medallions, store.MedallionRow{Line: r.line, Number: strings.ToUpper(required(r, "number"))})
		case store.FleetDrivers:
			b.Drivers = append(b.Drivers, store.DriverRow{Line: r.line, Name: required(r, "name"), TLC: required(r, "tlc_license")})
		case store.FleetVehicles:
			b.Vehicles = append(b.Vehicles, store.VehicleRow{Line: r.line, VIN: vin(r), Medallion: strings.ToUpper(t.get(r, "medallion"))})
		case store.FleetPlates:
			state := strings.ToUpper(t.get(r, "state"))
			if !stateRe.MatchString(state) {
				bad(r.line, "state", state, "Write the state as two letters, e.g. NY.")
			}
			_, plate := ezpass.NormalisePlate(t.get(r, "plate"))
			if plate == "" {
				bad(r.line, "plate", t.get(r, "plate"), "The plate needs letters or digits.")
			}
			from, to := times(r)
			b.Plates = append(b.Plates, store.PlateRow{Line: r.line, VIN: vin(r), State: state, Plate: plate, From: from, To: to})
		case store.FleetTags:
			tag, ok := ezpass.NormaliseTag(t.get(r, "tag"))
			if !ok {
				bad(r.line, "tag", t.get(r, "tag"), "A tag number is digits only.")
			}
			from, to := times(r)
			b.Tags = append(b.Tags, store.TagRow{Line: r.line, VIN: vin(r), Tag: tag, From: from, To: to})
		case store.FleetLeases:
			active, ok := parseBool(t.get(r, "active"), true)
			if !ok {
				bad(r.line, "active", t.get(r, "active"), "Write yes or no.")
			}
			from, to := times(r)
			b.Leases = append(b.Leases, store.LeaseRow{Line: r.line, Ref: required(r, "ref"), VIN: vin(r),
				Medallion: strings.ToUpper(required(r, "medallion")), From: from, To: to, Active: active})
		case store.FleetLeaseDrivers:
			primary, ok := parseBool(t.get(r, "primary"), false)
			if !ok {
				bad(r.line, "primary", t.get(r, "primary"), "Write yes or no.")
			}
			pos := 1
			if s := t.get(r, "position"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					bad(r.line, "position", s, "The position is a whole number from 1.")
				}
				pos = n
			}
			b.LeaseDrivers = append(b.LeaseDrivers, store.LeaseDriverRow{Line: r.line, LeaseRef: required(r, "lease_ref"),
				TLC: required(r, "tlc_license"), Primary: primary, Position: pos})
		default:
			return b, nil, fmt.Errorf("unknown fleet entity %q", e.Name)
		}
	}
	return b, errs, nil
}
