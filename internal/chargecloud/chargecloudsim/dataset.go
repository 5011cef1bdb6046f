package chargecloudsim

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"recondesk/internal/faulty"
)

// Partner is a roaming partner (CPO) of the data set, as configured in Recondesk.
type Partner struct {
	PartyID string
	Name    string
	// Credentials are the partner's OCPI credential ObjectIds (24 hex digits).
	Credentials []string
	country     string
}

// Personal is the fake personal data a report row carries; Recondesk must drop all of it.
type Personal struct {
	VehicleID, VehicleMake, VehicleModel, VIN, MaxChargingCapacity, UserName, UserPhone string
}

// Values returns the personal values in report column order.
func (p Personal) Values() []string {
	return []string{p.VehicleID, p.VehicleMake, p.VehicleModel, p.VIN, p.MaxChargingCapacity, p.UserName, p.UserPhone}
}

// Booking is one booking of the data set: its report row and its MongoDB document.
type Booking struct {
	Period faulty.Period
	// Row is the report row as ChargeCloud writes it (Row number unset).
	Row      faulty.ReportRow
	Personal Personal
	// Doc is the chargerbookings document; nil when MongoDB has none for the reference.
	Doc *faulty.Booking
	// Expect is the predicate outcome Recondesk should reach for the row.
	Expect faulty.Reason
	// Fixed bookings were fixed upstream: absent from reports, paid and invoiced in MongoDB.
	Fixed bool
}

// Dataset is the simulator's whole data set, for seeding MongoDB and partners.
type Dataset struct {
	Partners []Partner
	// UnknownPartyIDs are party ids that appear in reports but belong to no partner.
	UnknownPartyIDs []string
	Bookings        []Booking
}

// Docs returns the MongoDB documents of the data set (bookings without one are left out).
func (d Dataset) Docs() []faulty.Booking {
	docs := make([]faulty.Booking, 0, len(d.Bookings))
	for _, b := range d.Bookings {
		if b.Doc != nil {
			docs = append(docs, *b.Doc)
		}
	}
	return docs
}

// catalog holds the partners the simulator can use, in order.
var catalog = []Partner{
	{PartyID: "DE*VLT", Name: "Voltwerk Laden GmbH", country: "DE"},
	{PartyID: "NL*GRN", Name: "Groenlaad B.V.", country: "NL"},
	{PartyID: "FR*ELM", Name: "Elan Mobilité SAS", country: "FR"},
	{PartyID: "AT*ALP", Name: "Alpenstrom Laden GmbH", country: "AT"},
	{PartyID: "BE*FLX", Name: "Fluxpoint NV", country: "BE"},
	{PartyID: "DK*NRD", Name: "Nordlys Ladning ApS", country: "DK"},
	{PartyID: "SE*FJR", Name: "Fjärrladd AB", country: "SE"},
	{PartyID: "IT*VOL", Name: "Voltaria S.p.A.", country: "IT"},
	{PartyID: "ES*SOL", Name: "Solcarga S.L.", country: "ES"},
	{PartyID: "CH*BRG", Name: "Bergstrom Charge AG", country: "CH"},
	{PartyID: "PL*ISK", Name: "Iskra Ładowanie Sp. z o.o.", country: "PL"},
	{PartyID: "NO*FJD", Name: "Fjordlad AS", country: "NO"},
	{PartyID: "FI*REV", Name: "Revontuli Lataus Oy", country: "FI"},
	{PartyID: "CZ*PRU", Name: "Proud Nabíjení s.r.o.", country: "CZ"},
	{PartyID: "PT*LUZ", Name: "Luzcarga Lda.", country: "PT"},
	{PartyID: "IE*SHN", Name: "Shannon Charge Ltd", country: "IE"},
	{PartyID: "LU*MOS", Name: "Moselstrom S.à r.l.", country: "LU"},
	{PartyID: "GB*KNG", Name: "Kingsway Charging Ltd", country: "GB"},
	{PartyID: "HU*DUN", Name: "Duna Töltő Kft.", country: "HU"},
	{PartyID: "SI*TRI", Name: "Triglav Polnjenje d.o.o.", country: "SI"},
	{PartyID: "DE*HNS", Name: "Hanse Ladepunkt GmbH", country: "DE"},
	{PartyID: "NL*DLT", Name: "Delta Laadnet B.V.", country: "NL"},
}

// MaxPartners is the largest number of partners a simulator can have.
var MaxPartners = len(catalog)

// unknownParties appear in reports but are configured nowhere.
var unknownParties = []struct{ id, name, country string }{
	{"DE*ZKL", "Zukunftsladen GmbH", "DE"},
	{"FR*ARC", "Arc Recharge SARL", "FR"},
}

type place struct{ city, state string }

var places = map[string][]place{
	"DE": {{"Berlin", "BE"}, {"Hamburg", "HH"}, {"München", "BY"}, {"Köln", "NW"}, {"Leipzig", "SN"}},
	"NL": {{"Amsterdam", "NH"}, {"Utrecht", "UT"}, {"Rotterdam", "ZH"}},
	"FR": {{"Paris", "IDF"}, {"Lyon", "ARA"}, {"Lille", "HDF"}},
	"AT": {{"Wien", "W"}, {"Graz", "ST"}, {"Linz", "OÖ"}},
	"BE": {{"Antwerpen", "VAN"}, {"Gent", "VOV"}, {"Bruxelles", "BRU"}},
	"DK": {{"København", "84"}, {"Aarhus", "82"}},
	"SE": {{"Stockholm", "AB"}, {"Göteborg", "O"}},
	"IT": {{"Milano", "MI"}, {"Torino", "TO"}, {"Bologna", "BO"}},
	"ES": {{"Madrid", "MD"}, {"Barcelona", "CT"}, {"Valencia", "VC"}},
	"CH": {{"Zürich", "ZH"}, {"Bern", "BE"}},
	"PL": {{"Warszawa", "MZ"}, {"Kraków", "MA"}},
	"NO": {{"Oslo", "03"}, {"Bergen", "46"}},
	"FI": {{"Helsinki", "18"}, {"Tampere", "11"}},
	"CZ": {{"Praha", "PR"}, {"Brno", "JM"}},
	"PT": {{"Lisboa", "11"}, {"Porto", "13"}},
	"IE": {{"Dublin", "D"}, {"Cork", "CO"}},
	"LU": {{"Luxembourg", "LU"}},
	"GB": {{"London", "LND"}, {"Manchester", "MAN"}},
	"HU": {{"Budapest", "BU"}, {"Debrecen", "HB"}},
	"SI": {{"Ljubljana", "061"}, {"Maribor", "070"}},
}

var (
	stationWords = []string{"Hauptbahnhof", "Retail Park", "Autobahn Rastplatz", "City Garage", "Messe", "Airport P3", "Marktplatz", "Business Park", "Harbour", "Stadium"}
	reportFaults = []string{"CDR missing", "Tariff mismatch", "Session not closed", "Energy reading invalid", "Duplicate CDR"}
	mongoFaults  = []string{"CDR_MISSING", "TARIFF_MISMATCH", "SESSION_NOT_CLOSED", "METER_VALUES_INVALID", "DUPLICATE_CDR"}
	makes        = []struct{ make, model string }{{"Volkswagen", "ID.4"}, {"Tesla", "Model Y"}, {"Hyundai", "Ioniq 5"}, {"BMW", "i4"}, {"Renault", "Megane E-Tech"}, {"Kia", "EV6"}}
	capacities   = []string{"11 kW AC", "22 kW AC", "50 kW DC", "150 kW DC"}
	firstNames   = []string{"Erika", "Lars", "Sofia", "Jan", "Marie", "Luca", "Ana", "Tomasz", "Ingrid", "Pieter"}
	lastNames    = []string{"Mustermann", "Jansen", "Rossi", "Nowak", "Dubois", "Larsen", "García", "Novák", "Murphy", "Virtanen"}
	vinChars     = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
)

// kind is the planted outcome of a booking.
type kind int

const (
	kindConfirmed kind = iota
	kindForeign
	kindNotOCPI
	kindNotEMSP
	kindInvoiced
	kindNoFault
	kindNotActionRequired
	kindNotFound
	kindInvalidRef
	kindUnknownPartner
	numKinds
)

var kindReason = [numKinds]faulty.Reason{
	faulty.ReasonNone, faulty.ReasonForeignCredential, faulty.ReasonNotOCPI, faulty.ReasonNotEMSP,
	faulty.ReasonAlreadyInvoiced, faulty.ReasonNoFaultReason, faulty.ReasonNotActionRequired,
	faulty.ReasonNotFound, faulty.ReasonInvalidReference, faulty.ReasonUnknownPartner,
}

// kindWeights sum to 100: about 70% of the rows are confirmed faulty.
var kindWeights = [numKinds]int{70, 3, 3, 3, 4, 4, 5, 3, 2, 3}

// generator derives everything from the seed; it holds no per-booking state.
type generator struct {
	seed     uint64
	partners []Partner
	loc      *time.Location
}

func newGenerator(seed int64, nPartners int, loc *time.Location) *generator {
	g := &generator{seed: uint64(seed), loc: loc}
	rng := rand.New(rand.NewPCG(g.seed, 0x9e3779b97f4a7c15))
	for i := range nPartners {
		p := catalog[i]
		n := 1 + rng.IntN(2)
		for range n {
			p.Credentials = append(p.Credentials, objectID(rng, uint32(1700000000+i)))
		}
		g.partners = append(g.partners, p)
	}
	return g
}

func objectID(rng *rand.Rand, ts uint32) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], ts)
	binary.BigEndian.PutUint64(b[4:], rng.Uint64())
	return hex.EncodeToString(b[:])
}

func periodKey(p faulty.Period) uint64 {
	h := fnv.New64a()
	fmt.Fprint(h, p.String())
	return h.Sum64()
}

// booking generates booking i of period p; the same inputs always give the same booking.
func (g *generator) booking(p faulty.Period, i, planned int) Booking {
	rng := rand.New(rand.NewPCG(g.seed^periodKey(p), uint64(i)))
	k := kind(0)
	if i < int(numKinds) {
		k = kind(i) // every kind shows up even in a tiny data set
	} else {
		r := rng.IntN(100)
		for k = 0; r >= kindWeights[k]; k++ {
			r -= kindWeights[k]
		}
	}

	// Skewed partner choice so batches differ in size.
	pi := min(int(float64(len(g.partners))*rng.Float64()*rng.Float64()), len(g.partners)-1)
	partner := g.partners[pi]
	partyID, partnerName, country := partner.PartyID, partner.Name, partner.country
	if k == kindUnknownPartner {
		u := unknownParties[rng.IntN(len(unknownParties))]
		partyID, partnerName, country = u.id, u.name, u.country
	}

	// Times spread through the month in index order, so reports come out roughly sorted.
	from := time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, g.loc)
	to := time.Date(p.Year, p.Month+1, 1, 0, 0, 0, 0, g.loc)
	span := to.Sub(from) - 5*time.Hour
	slot := span / time.Duration(max(planned, 1))
	idx := i % max(planned, 1)
	start := from.Add(slot*time.Duration(idx) + time.Duration(rng.Int64N(int64(max(slot, time.Minute))))).Truncate(time.Second)
	end := start.Add(time.Duration(20+rng.IntN(220)) * time.Minute).Add(time.Duration(rng.IntN(60)) * time.Second)
	scheduled := start.Add(-time.Duration(rng.IntN(60)) * time.Minute).Truncate(time.Minute)

	pl := places[country]
	where := pl[rng.IntN(len(pl))]
	station := 1000 + rng.IntN(40)
	startSoC := 5 + rng.IntN(55)

	id := objectIDAt(uint32(start.Unix()), periodKey(p), uint32(i))
	ref := id
	if k == kindInvalidRef {
		ref = []string{"BK-" + fmt.Sprint(100000+i), id[:23], "N/A", id[:20] + "zzzz"}[rng.IntN(4)]
	}

	mk := makes[rng.IntN(len(makes))]
	b := Booking{
		Period: p,
		Row: faulty.ReportRow{
			PartyID:                partyID,
			PartnerName:            partnerName,
			AuthorizationReference: ref,
			ChargerStationID:       fmt.Sprintf("%s*E%d", partyID, station),
			StationName:            fmt.Sprintf("%s %s %d", where.city, stationWords[station%len(stationWords)], station%7+1),
			City:                   where.city,
			State:                  where.state,
			ConnectorID:            fmt.Sprint(1 + rng.IntN(4)),
			EnergyConsumed:         faulty.Energy(1500 + rng.IntN(78000)),
			PaymentStatus:          faulty.PaymentActionRequired,
			FaultyReasons:          reportFaults[rng.IntN(len(reportFaults))],
			CDRID:                  fmt.Sprintf("CDR-%s-%06d", p, i),
			OCPISessionID:          sessionID(rng),
			ScheduledTime:          scheduled.UTC(),
			StartTime:              start.UTC(),
			EndTime:                end.UTC(),
			StartSoC:               fmt.Sprint(startSoC),
			StopSoC:                fmt.Sprint(min(100, startSoC+10+rng.IntN(60))),
		},
		Personal: Personal{
			VehicleID:           fmt.Sprintf("VEH-%06d", rng.IntN(1000000)),
			VehicleMake:         mk.make,
			VehicleModel:        mk.model,
			VIN:                 vin(rng),
			MaxChargingCapacity: capacities[rng.IntN(len(capacities))],
			UserName:            firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))],
			UserPhone:           fmt.Sprintf("+49 15%d %07d", rng.IntN(10), rng.IntN(10000000)),
		},
		Expect: kindReason[k],
	}
	if k == kindNotFound || k == kindInvalidRef {
		return b
	}
	cred := partner.Credentials[rng.IntN(len(partner.Credentials))]
	switch {
	case k == kindForeign && len(g.partners) > 1:
		other := g.partners[(pi+1+rng.IntN(len(g.partners)-1))%len(g.partners)]
		cred = other.Credentials[0]
	case k == kindForeign || k == kindUnknownPartner:
		cred = objectID(rng, uint32(start.Unix())) // a credential nobody configured
	}
	doc := &faulty.Booking{
		ID: id, IsOCPI: true, IsEMSP: true, Credential: cred,
		FaultReasons:  []string{mongoFaults[rng.IntN(len(mongoFaults))]},
		PaymentStatus: faulty.PaymentActionRequired,
	}
	switch k {
	case kindNotOCPI:
		doc.IsOCPI = false
	case kindNotEMSP:
		doc.IsEMSP = false
	case kindInvoiced:
		doc.Invoiced = true
	case kindNoFault:
		doc.FaultReasons = []string{}
	case kindNotActionRequired:
		doc.PaymentStatus = []string{"paid", "pending", "refunded"}[rng.IntN(3)]
	}
	b.Doc = doc
	return b
}

// objectIDAt builds a unique ObjectId: time, 5 bytes of the period key, 3 bytes of the index.
func objectIDAt(ts uint32, key uint64, i uint32) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], ts)
	copy(b[4:9], binary.BigEndian.AppendUint64(nil, key)[:5])
	b[9], b[10], b[11] = byte(i>>16), byte(i>>8), byte(i)
	return hex.EncodeToString(b[:])
}

func sessionID(rng *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func vin(rng *rand.Rand) string {
	b := make([]byte, 17)
	for i := range b {
		b[i] = vinChars[rng.IntN(len(vinChars))]
	}
	return string(b)
}
