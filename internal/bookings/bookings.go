// Package bookings reads the EMSP's authoritative booking records from MongoDB (read-only),
// in few, large queries.
package bookings

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"recondesk/internal/faulty"
)

// Collection is the name of the bookings collection.
const Collection = "chargerbookings"

// DefaultChunk is the most ids one $in query carries when Lookup is given chunk <= 0.
const DefaultChunk = 1000

// Field names of a chargerbookings document.
const (
	fieldID            = "_id"
	fieldIsOCPI        = "is_ocpi_based_booking"
	fieldIsEMSP        = "is_emsp_based_booking"
	fieldInvoice       = "invoice"
	fieldFaultReasons  = "faulty_booking_reason"
	fieldPaymentStatus = "payment_status"
	fieldCredential    = "ocpiCredential"
)

// projection keeps only the fields the predicate needs.
var projection = bson.D{
	{Key: fieldIsOCPI, Value: 1}, {Key: fieldIsEMSP, Value: 1}, {Key: fieldInvoice, Value: 1},
	{Key: fieldFaultReasons, Value: 1}, {Key: fieldPaymentStatus, Value: 1}, {Key: fieldCredential, Value: 1},
}

// Stats measures a Lookup: MongoDB round trips and the time spent waiting on MongoDB.
type Stats struct {
	// Queries is the number of find commands (one per chunk).
	Queries int
	// RoundTrips counts every command sent: finds plus any getMore for a large batch.
	RoundTrips int
	// Duration is the time spent in MongoDB calls (query, cursor iteration, decoding).
	Duration time.Duration
	// Requested is the number of distinct valid references looked up.
	Requested int
	// Found is the number of bookings returned.
	Found int
}

// Add returns the sum of two Stats.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Queries: s.Queries + o.Queries, RoundTrips: s.RoundTrips + o.RoundTrips, Duration: s.Duration + o.Duration,
		Requested: s.Requested + o.Requested, Found: s.Found + o.Found,
	}
}

// rawBooking decodes a document leniently: odd types never fail the whole look-up.
type rawBooking struct {
	ID            primitive.ObjectID `bson:"_id"`
	IsOCPI        bson.RawValue      `bson:"is_ocpi_based_booking"`
	IsEMSP        bson.RawValue      `bson:"is_emsp_based_booking"`
	Invoice       bson.RawValue      `bson:"invoice"`
	FaultReasons  bson.RawValue      `bson:"faulty_booking_reason"`
	PaymentStatus bson.RawValue      `bson:"payment_status"`
	Credential    bson.RawValue      `bson:"ocpiCredential"`
}

func (r rawBooking) booking() faulty.Booking {
	b := faulty.Booking{
		ID:       r.ID.Hex(),
		IsOCPI:   isTrue(r.IsOCPI),
		IsEMSP:   isTrue(r.IsEMSP),
		Invoiced: !isEmpty(r.Invoice),
	}
	if s, ok := r.PaymentStatus.StringValueOK(); ok {
		b.PaymentStatus = s
	}
	switch r.Credential.Type {
	case bsontype.ObjectID:
		b.Credential = r.Credential.ObjectID().Hex()
	case bsontype.String:
		if n, ok := faulty.NormalizeReference(r.Credential.StringValue()); ok {
			b.Credential = n
		}
	}
	if arr, ok := r.FaultReasons.ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			if s, ok := v.StringValueOK(); ok {
				b.FaultReasons = append(b.FaultReasons, s)
			}
		}
	} else if s, ok := r.FaultReasons.StringValueOK(); ok && s != "" {
		b.FaultReasons = []string{s} // a lone string is treated as a one-element list
	}
	return b
}

func isTrue(v bson.RawValue) bool {
	b, ok := v.BooleanOK()
	return ok && b
}

// isEmpty reports whether an invoice value means "not invoiced": absent, null, undefined,
// an empty string, an empty document or an empty array.
func isEmpty(v bson.RawValue) bool {
	switch v.Type {
	case 0, bsontype.Null, bsontype.Undefined:
		return true
	case bsontype.String:
		return v.StringValue() == ""
	case bsontype.EmbeddedDocument:
		elems, err := v.Document().Elements()
		return err == nil && len(elems) == 0
	case bsontype.Array:
		vals, err := v.Array().Values()
		return err == nil && len(vals) == 0
	}
	return false
}

// Lookup fetches the bookings for refs with `$in` queries of at most chunk ids each (chunk <= 0
// means DefaultChunk), projecting only the predicate's fields. The map is keyed by the
// normalised (lower-case) reference; invalid references are skipped, duplicates queried once.
func Lookup(ctx context.Context, coll *mongo.Collection, refs []string, chunk int) (map[string]faulty.Booking, Stats, error) {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	seen := make(map[string]bool, len(refs))
	ids := make([]primitive.ObjectID, 0, len(refs))
	for _, r := range refs {
		n, ok := faulty.NormalizeReference(r)
		if !ok || seen[n] {
			continue
		}
		seen[n] = true
		var oid primitive.ObjectID
		if _, err := hex.Decode(oid[:], []byte(n)); err != nil {
			continue
		}
		ids = append(ids, oid)
	}
	out := make(map[string]faulty.Booking, len(ids))
	st := Stats{Requested: len(ids)}
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		if err := lookupChunk(ctx, coll, part, out, &st); err != nil {
			return out, st, err
		}
	}
	st.Found = len(out)
	return out, st, nil
}

func lookupChunk(ctx context.Context, coll *mongo.Collection, ids []primitive.ObjectID, out map[string]faulty.Booking, st *Stats) error {
	began := time.Now()
	defer func() { st.Duration += time.Since(began) }()
	opts := options.Find().SetProjection(projection).SetBatchSize(int32(len(ids)))
	cur, err := coll.Find(ctx, bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}}}, opts)
	st.Queries++
	st.RoundTrips++
	if err != nil {
		return fmt.Errorf("bookings: find %d ids: %w", len(ids), err)
	}
	defer cur.Close(ctx)
	for {
		if cur.RemainingBatchLength() == 0 && cur.ID() != 0 {
			st.RoundTrips++ // the next Next sends a getMore
		}
		if !cur.Next(ctx) {
			break
		}
		var rb rawBooking
		if err := cur.Decode(&rb); err != nil {
			return fmt.Errorf("bookings: decode: %w", err)
		}
		b := rb.booking()
		out[b.ID] = b
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("bookings: read cursor: %w", err)
	}
	return nil
}

// SeedResult counts what Seed did.
type SeedResult struct {
	Inserted, Updated, Unchanged int
}

// Seed writes booking documents for dev and tests, idempotently and in bulk: per chunk of 1000
// one query finds the existing documents, one unordered insert adds the missing ones, and only
// documents whose fields differ are replaced. An invoiced booking gets an invoice sub-document;
// otherwise invoice is null.
func Seed(ctx context.Context, coll *mongo.Collection, docs []faulty.Booking) (SeedResult, error) {
	var res SeedResult
	rendered := make([]bson.D, len(docs))
	for i, d := range docs {
		doc, _, err := document(d)
		if err != nil {
			return res, err
		}
		rendered[i] = doc
	}
	// An empty collection needs no existence checks (each is a full scan on FerretDB).
	empty := false
	if len(docs) > 0 {
		n, err := coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return res, fmt.Errorf("bookings: seed: count: %w", err)
		}
		empty = n == 0
	}
	for start := 0; start < len(docs); start += DefaultChunk {
		part := docs[start:min(start+DefaultChunk, len(docs))]
		refs := make([]string, len(part))
		for i, d := range part {
			refs[i] = d.ID
		}
		existing := map[string]faulty.Booking{}
		if !empty {
			var err error
			if existing, _, err = Lookup(ctx, coll, refs, DefaultChunk); err != nil {
				return res, fmt.Errorf("bookings: seed: %w", err)
			}
		}
		var missing []any
		for i, d := range part {
			cur, ok := existing[d.ID]
			switch {
			case !ok:
				missing = append(missing, rendered[start+i])
				existing[d.ID] = d // a duplicate later in the input is not inserted twice
			case sameBooking(cur, d):
				res.Unchanged++
			default:
				if _, err := coll.ReplaceOne(ctx, bson.D{{Key: fieldID, Value: rendered[start+i][0].Value}}, rendered[start+i]); err != nil {
					return res, fmt.Errorf("bookings: seed: replace %s: %w", d.ID, err)
				}
				res.Updated++
			}
		}
		if len(missing) > 0 {
			ir, err := coll.InsertMany(ctx, missing, options.InsertMany().SetOrdered(false))
			if ir != nil {
				res.Inserted += len(ir.InsertedIDs)
			}
			if err != nil {
				return res, fmt.Errorf("bookings: seed: insert: %w", err)
			}
		}
	}
	return res, nil
}

// sameBooking compares the predicate's fields, an empty reason list equal to a missing one.
func sameBooking(a, b faulty.Booking) bool {
	if a.ID != b.ID || a.IsOCPI != b.IsOCPI || a.IsEMSP != b.IsEMSP || a.Invoiced != b.Invoiced ||
		a.PaymentStatus != b.PaymentStatus || a.Credential != b.Credential || len(a.FaultReasons) != len(b.FaultReasons) {
		return false
	}
	for i := range a.FaultReasons {
		if a.FaultReasons[i] != b.FaultReasons[i] {
			return false
		}
	}
	return true
}

// document renders a booking as a chargerbookings document.
func document(b faulty.Booking) (bson.D, primitive.ObjectID, error) {
	id, err := primitive.ObjectIDFromHex(b.ID)
	if err != nil {
		return nil, id, fmt.Errorf("bookings: seed: invalid _id %q", b.ID)
	}
	var cred any
	if b.Credential != "" {
		c, err := primitive.ObjectIDFromHex(b.Credential)
		if err != nil {
			return nil, id, fmt.Errorf("bookings: seed: booking %s: invalid ocpiCredential %q", b.ID, b.Credential)
		}
		cred = c
	}
	var invoice any
	if b.Invoiced {
		invoice = bson.D{{Key: "number", Value: "INV-" + b.ID[16:]}, {Key: "issued", Value: true}}
	}
	reasons := b.FaultReasons
	if reasons == nil {
		reasons = []string{}
	}
	return bson.D{
		{Key: fieldID, Value: id},
		{Key: fieldIsOCPI, Value: b.IsOCPI},
		{Key: fieldIsEMSP, Value: b.IsEMSP},
		{Key: fieldInvoice, Value: invoice},
		{Key: fieldFaultReasons, Value: reasons},
		{Key: fieldPaymentStatus, Value: b.PaymentStatus},
		{Key: fieldCredential, Value: cred},
	}, id, nil
}
