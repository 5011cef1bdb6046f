// Package ledger holds Recondesk's double-entry rules: journals, entries,
// charges of E-ZPass tolls, reversals and the balancing check. It is pure:
// the store writes what these functions describe.
package ledger

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// SourceEZPass is the source type of journals posted from E-ZPass tolls.
const SourceEZPass = "EZPASS"

// ClearingEZPass is the account the E-ZPass account's charges clear against.
const ClearingEZPass = "clearing:ezpass"

// Journal kinds.
const (
	KindCharge   = "charge"
	KindReversal = "reversal"
)

// Journal is one balanced posting: what happened, from which source, and its entries.
type Journal struct {
	SourceType  string
	SourceID    string
	Kind        string // KindCharge or KindReversal
	Generation  int    // 0 for the first charge of a source; +1 per re-association
	TxnAt       time.Time
	Description string
	CreatedBy   string
	ReversalOf  int64 // the journal a reversal cancels; 0 for charges
	Entries     []Entry
}

// Entry is one line of a journal: an amount on an account, with the fleet
// dimensions it concerns. Positive amounts are debits.
type Entry struct {
	Account     string
	AmountCents int64
	DriverID    int64
	LeaseID     int64
	VehicleID   int64
	MedallionID int64
}

// DriverAccount is the receivable account of a driver.
func DriverAccount(driverID int64) string { return "driver:" + strconv.FormatInt(driverID, 10) }

// Toll is what Charge needs of an associated E-ZPass transaction.
type Toll struct {
	ID          int64
	Generation  int
	TxnAt       time.Time
	Agency      string
	Plaza       string
	PlateOrTag  string
	AmountCents int64 // positive = the driver owes; negative = a credit
	DriverID    int64
	LeaseID     int64
	VehicleID   int64
	MedallionID int64
	CreatedBy   string
}

// Description is the journal text of a toll.
func (t Toll) Description() string {
	return fmt.Sprintf("EZPass toll - %s - %s - %s", t.Agency, t.Plaza, t.PlateOrTag)
}

// Charge is the journal posting a toll to its driver: debit the driver's
// receivable and credit the E-ZPass clearing account (a credit row, with a
// negative amount, does the opposite).
func Charge(t Toll) Journal {
	dims := Entry{DriverID: t.DriverID, LeaseID: t.LeaseID, VehicleID: t.VehicleID, MedallionID: t.MedallionID}
	debit, credit := dims, dims
	debit.Account, debit.AmountCents = DriverAccount(t.DriverID), t.AmountCents
	credit.Account, credit.AmountCents = ClearingEZPass, -t.AmountCents
	return Journal{
		SourceType:  SourceEZPass,
		SourceID:    strconv.FormatInt(t.ID, 10),
		Kind:        KindCharge,
		Generation:  t.Generation,
		TxnAt:       t.TxnAt,
		Description: t.Description(),
		CreatedBy:   t.CreatedBy,
		Entries:     []Entry{debit, credit},
	}
}

// Reverse is the journal cancelling j (whose database id is id): the same
// entries with opposite signs, same source and generation, kind reversal.
func Reverse(j Journal, id int64, createdBy string) Journal {
	r := Journal{
		SourceType:  j.SourceType,
		SourceID:    j.SourceID,
		Kind:        KindReversal,
		Generation:  j.Generation,
		TxnAt:       j.TxnAt,
		Description: "Reversal: " + j.Description,
		CreatedBy:   createdBy,
		ReversalOf:  id,
		Entries:     make([]Entry, len(j.Entries)),
	}
	for i, e := range j.Entries {
		e.AmountCents = -e.AmountCents
		r.Entries[i] = e
	}
	return r
}

// Errors of Balanced.
var (
	ErrTooFewEntries = errors.New("a journal needs at least two entries")
	ErrZeroEntry     = errors.New("an entry of zero cents is not allowed")
)

// Balanced checks the rules the database also enforces: at least two
// entries, none of zero, summing to zero.
func Balanced(j Journal) error {
	if len(j.Entries) < 2 {
		return ErrTooFewEntries
	}
	var sum int64
	for _, e := range j.Entries {
		if e.AmountCents == 0 {
			return ErrZeroEntry
		}
		sum += e.AmountCents
	}
	if sum != 0 {
		return fmt.Errorf("journal %s %s/%s is unbalanced by %d cents", j.Kind, j.SourceType, j.SourceID, sum)
	}
	return nil
}

// Balances sums entries per account.
func Balances(entries []Entry) map[string]int64 {
	out := map[string]int64{}
	for _, e := range entries {
		out[e.Account] += e.AmountCents
	}
	return out
}
