// Package metrics holds Recondesk's Prometheus collectors in one registry
// per process (never the global one, so tests can run several servers).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of collectors the app updates.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPDuration *prometheus.HistogramVec
	JobDuration  *prometheus.HistogramVec
	JobsTotal    *prometheus.CounterVec
	// Events counts domain events: imports, rows, matches, postings, emails by state.
	Events *prometheus.CounterVec
}

// New creates the collectors and registers them with a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "recondesk_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status class.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "recondesk_job_duration_seconds",
			Help:    "River job run time by kind and outcome.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 15, 60, 300, 900},
		}, []string{"kind", "outcome"}),
		JobsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recondesk_jobs_total",
			Help: "River jobs finished by kind and outcome.",
		}, []string{"kind", "outcome"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recondesk_events_total",
			Help: "Domain events (imports, rows, matches, postings, emails) by name and outcome.",
		}, []string{"event", "outcome"}),
	}
	m.Registry.MustRegister(m.HTTPDuration, m.JobDuration, m.JobsTotal, m.Events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
