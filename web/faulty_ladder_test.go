package web

import "recondesk/internal/auth"

// faultyLadderMatrix lists the batch, email and faulty API routes.
var faultyLadderMatrix = []access{
	{"GET", "/faulty", auth.Viewer, false},
	{"GET", "/faulty/batches/{id}", auth.Viewer, false},
	{"GET", "/faulty/batches/{id}/items", auth.Viewer, false},
	{"GET", "/faulty/batches/{id}/master-files/{version}", auth.Finance, false},
	{"POST", "/faulty/batches/{id}/run", auth.Finance, false},
	{"POST", "/faulty/batches/{id}/escalate", auth.Finance, false},
	{"POST", "/faulty/batches/{id}/resolve-items", auth.Finance, false},
	{"POST", "/faulty/batches/{id}/resolve", auth.Finance, false},
	{"POST", "/faulty/emails/{id}/mark-sent", auth.Finance, false},
	{"POST", "/faulty/emails/{id}/resend", auth.Finance, false},
	{"GET", "/api/faulty/batches", auth.Viewer, true},
	{"GET", "/api/faulty/batches/{id}", auth.Viewer, true},
	{"POST", "/api/faulty/batches/{id}/escalate", auth.Finance, true},
	{"POST", "/api/faulty/batches/{id}/resolve", auth.Finance, true},
	{"POST", "/api/faulty/ingest", auth.Finance, true},
}
