package bookings_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"recondesk/internal/bookings"
	"recondesk/internal/chargecloud/chargecloudsim"
	"recondesk/internal/devstack"
	"recondesk/internal/faulty"
)

// setup starts an embedded FerretDB in a temporary directory and returns an empty collection.
func setup(t *testing.T) *mongo.Collection {
	t.Helper()
	ctx := context.Background()
	uri, stop, err := devstack.StartFerretDB(ctx, devstack.FerretOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("emsp").Collection(bookings.Collection)
}

func newSim(n int) *chargecloudsim.Sim {
	return chargecloudsim.New(chargecloudsim.Options{
		Seed: 42, Partners: 4, BookingsPerPeriod: n,
		Periods: []faulty.Period{{Year: 2026, Month: time.October}},
	})
}

// normalise makes an empty reason list compare equal to a missing one.
func normalise(b faulty.Booking) faulty.Booking {
	if len(b.FaultReasons) == 0 {
		b.FaultReasons = nil
	}
	return b
}

func TestSeedLookupAndPredicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := setup(t)
	sim := newSim(1500)
	ds := sim.Dataset()
	docs := ds.Docs()

	res, err := bookings.Seed(ctx, coll, docs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != len(docs) || len(docs) < 1300 {
		t.Fatalf("Seed = %+v for %d documents, want all inserted", res, len(docs))
	}
	if res, err := bookings.Seed(ctx, coll, docs); err != nil || res != (bookings.SeedResult{Unchanged: len(docs)}) {
		t.Fatalf("second Seed = %+v (err %v), want all %d unchanged", res, err, len(docs))
	}
	if c, err := coll.CountDocuments(ctx, bson.D{}); err != nil || int(c) != len(docs) {
		t.Fatalf("collection holds %d documents (err %v), want %d", c, err, len(docs))
	}

	var refs []string
	for _, b := range ds.Bookings {
		refs = append(refs, b.Row.AuthorizationReference)
	}
	refs = append(refs, strings.ToUpper(refs[0]), refs[1]) // duplicates are looked up once
	var valid int
	for _, b := range ds.Bookings {
		if _, ok := faulty.NormalizeReference(b.Row.AuthorizationReference); ok {
			valid++
		}
	}

	found, st, err := bookings.Lookup(ctx, coll, refs, 500)
	if err != nil {
		t.Fatal(err)
	}
	wantQueries := (valid + 499) / 500
	if st.Requested != valid || st.Queries != wantQueries || st.RoundTrips != wantQueries || st.Found != len(docs) || len(found) != len(docs) {
		t.Fatalf("stats %+v, %d found; want %d requested, %d queries and round trips, %d found", st, len(found), valid, wantQueries, len(docs))
	}
	if st.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", st.Duration)
	}

	creds := map[string][]string{}
	for _, p := range ds.Partners {
		creds[p.PartyID] = p.Credentials
	}
	outcomes := map[faulty.Reason]int{}
	for _, b := range ds.Bookings {
		var got *faulty.Booking
		if ref, ok := faulty.NormalizeReference(b.Row.AuthorizationReference); ok {
			if f, ok := found[ref]; ok {
				got = &f
			}
		}
		if (got == nil) != (b.Doc == nil) {
			t.Fatalf("booking %s: found %v, has document %v", b.Row.AuthorizationReference, got != nil, b.Doc != nil)
		}
		if got != nil && !reflect.DeepEqual(normalise(*got), normalise(*b.Doc)) {
			t.Fatalf("booking read back as\n%+v\nwant\n%+v", *got, *b.Doc)
		}
		reason := faulty.ReasonUnknownPartner
		if pc, ok := creds[b.Row.PartyID]; ok {
			reason = faulty.Check(b.Row.AuthorizationReference, got, pc)
		}
		if reason != b.Expect {
			t.Fatalf("booking %s: predicate %q, want %q", b.Row.AuthorizationReference, reason, b.Expect)
		}
		outcomes[reason]++
	}
	for _, r := range append([]faulty.Reason{faulty.ReasonNone}, faulty.Reasons...) {
		if outcomes[r] == 0 {
			t.Errorf("no booking with outcome %q", r)
		}
	}

	// The default chunk is 1000 ids.
	_, st, err = bookings.Lookup(ctx, coll, refs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (valid + 999) / 1000; st.Queries != want || st.RoundTrips != want {
		t.Fatalf("default chunk: stats %+v, want %d queries", st, want)
	}

	// A fix upstream reaches MongoDB through a re-seed and turns the booking invoiced.
	var target chargecloudsim.Booking
	for _, b := range ds.Bookings {
		if b.Expect == faulty.ReasonNone {
			target = b
			break
		}
	}
	sim.FixBookings(target.Row.AuthorizationReference)
	if res, err := bookings.Seed(ctx, coll, sim.Dataset().Docs()); err != nil || res.Updated != 1 || res.Inserted != 0 {
		t.Fatalf("re-seed after a fix = %+v (err %v), want 1 updated", res, err)
	}
	found, _, err = bookings.Lookup(ctx, coll, []string{target.Row.AuthorizationReference}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := found[target.Row.AuthorizationReference]
	if r := faulty.Check(target.Row.AuthorizationReference, &got, creds[target.Row.PartyID]); r != faulty.ReasonAlreadyInvoiced {
		t.Fatalf("after the fix the predicate says %q, want ALREADY_INVOICED", r)
	}
}

func TestLookupDecodesOddDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	coll := setup(t)
	oid := func(last byte) primitive.ObjectID {
		var o primitive.ObjectID
		o[0], o[11] = 0x66, last
		return o
	}
	cred := oid(0xcc)
	docs := []any{
		bson.D{{Key: "_id", Value: oid(1)}, {Key: "is_ocpi_based_booking", Value: true}, {Key: "is_emsp_based_booking", Value: true},
			{Key: "faulty_booking_reason", Value: bson.A{"CDR_MISSING", 7}}, {Key: "payment_status", Value: "action_required"},
			{Key: "ocpiCredential", Value: cred}, {Key: "driver_name", Value: "not projected"}},
		bson.D{{Key: "_id", Value: oid(2)}, {Key: "invoice", Value: nil}, {Key: "is_ocpi_based_booking", Value: "true"}},
		bson.D{{Key: "_id", Value: oid(3)}, {Key: "invoice", Value: bson.D{}}, {Key: "faulty_booking_reason", Value: "TARIFF"}},
		bson.D{{Key: "_id", Value: oid(4)}, {Key: "invoice", Value: ""}, {Key: "ocpiCredential", Value: strings.ToUpper(cred.Hex())}},
		bson.D{{Key: "_id", Value: oid(5)}, {Key: "invoice", Value: bson.D{{Key: "number", Value: "INV-1"}}}, {Key: "payment_status", Value: 3}},
		bson.D{{Key: "_id", Value: oid(6)}, {Key: "invoice", Value: "INV-2"}, {Key: "faulty_booking_reason", Value: nil}},
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	refs := []string{oid(1).Hex(), oid(2).Hex(), oid(3).Hex(), oid(4).Hex(), oid(5).Hex(), oid(6).Hex(), oid(7).Hex(), "nonsense"}
	found, st, err := bookings.Lookup(ctx, coll, refs, 4)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requested != 7 || st.Queries != 2 || st.Found != 6 {
		t.Fatalf("stats %+v, want 7 requested, 2 queries, 6 found", st)
	}
	want := map[string]faulty.Booking{
		oid(1).Hex(): {ID: oid(1).Hex(), IsOCPI: true, IsEMSP: true, FaultReasons: []string{"CDR_MISSING"}, PaymentStatus: "action_required", Credential: cred.Hex()},
		oid(2).Hex(): {ID: oid(2).Hex()},
		oid(3).Hex(): {ID: oid(3).Hex(), FaultReasons: []string{"TARIFF"}},
		oid(4).Hex(): {ID: oid(4).Hex(), Credential: cred.Hex()},
		oid(5).Hex(): {ID: oid(5).Hex(), Invoiced: true},
		oid(6).Hex(): {ID: oid(6).Hex(), Invoiced: true},
	}
	if !reflect.DeepEqual(found, want) {
		t.Fatalf("Lookup() =\n%+v\nwant\n%+v", found, want)
	}
}

func TestLookupNothingValid(t *testing.T) {
	t.Parallel()
	// No query is made, so a nil collection is never touched.
	found, st, err := bookings.Lookup(context.Background(), nil, []string{"", "BK-1", "N/A"}, 0)
	if err != nil || len(found) != 0 || st.Queries != 0 || st.RoundTrips != 0 {
		t.Fatalf("Lookup() = %v, %+v, %v; want nothing and no queries", found, st, err)
	}
}

func TestSeedRejectsBadIDs(t *testing.T) {
	t.Parallel()
	_, err := bookings.Seed(context.Background(), nil, []faulty.Booking{{ID: "xyz"}})
	if err == nil || !strings.Contains(err.Error(), `invalid _id "xyz"`) {
		t.Fatalf("Seed() = %v, want an invalid _id error", err)
	}
}
