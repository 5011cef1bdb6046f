package app

// FaultyDeps are the faulty-bookings use cases' own dependencies.
type FaultyDeps struct{}
