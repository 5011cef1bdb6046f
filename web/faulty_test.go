package web

// faultyMatrix lists the faulty-bookings routes with the role each needs.
var faultyMatrix = []access{}
