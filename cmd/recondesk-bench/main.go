// Command recondesk-bench builds the benchmark data sets, measures
// Recondesk's bulk paths side by side with their stated baselines, and
// prints a table of figures and ratios (`make bench`).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Section  string
	Name     string
	Value    string // the figure measured for Recondesk
	Baseline string // the figure of the baseline it is compared with
	Ratio    string // Value / Baseline, or another comparison
	Target   string // the stated target
	Met      string // "yes", "no" or "" when no target applies
	Note     string
}

// Env is what every section gets: where to work and how large to go.
type Env struct {
	// AdminURL connects to the PostgreSQL server; each section creates its own database.
	AdminURL string
	Dir      string
	Scale    float64 // 1 = the sizes stated in the issues; smaller for a quick run
	Out      io.Writer
	// KeepWeb, when set, names the web section's databases (KeepWeb_20k,
	// KeepWeb_1m): kept after the run and reused by the next one.
	KeepWeb string
	// WebProfile, when set, is the file the web section writes a CPU
	// profile of its requests on the large data set to.
	WebProfile string
	// DBSuffix is appended to the names of the databases a section
	// creates, so two runs on one server do not drop each other's.
	DBSuffix string
	// CPUProfile, when set, is the file name prefix of CPU profiles that
	// sections write of their main step (e.g. PREFIX.xlsx-import.pprof).
	CPUProfile string
	// Handoff, when set, carries the ezpass-match section's database (a
	// million tolls × scale, associated and posted by the real use cases)
	// to the web section as its large data set, so one run builds it once.
	Handoff *Handoff
}

// Handoff is a database one section leaves for a later one.
type Handoff struct {
	db    string // "" when nothing is handed over (or it was taken)
	tolls int
	build webBuildTimes
	drop  func() // drops the database
}

// section is one benchmark area.
type section struct {
	name string
	run  func(ctx context.Context, env Env) ([]Row, error)
	// part marks a piece of a larger section, run only when named in -only.
	part bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "recondesk-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recondesk-bench", flag.ContinueOnError)
	scale := fs.Float64("scale", 1, "fraction of the full data set sizes (1 = as stated in the issues)")
	only := fs.String("only", "", "comma-separated sections to run (ezpass-import, ezpass-match, faulty, web; or faulty-pipeline, faulty-ladder alone)")
	dir := fs.String("dir", "", "working directory for generated files (default: a temporary one)")
	admin := fs.String("db", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL admin URL")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile (allocations) at the end of the run to this file")
	keepWeb := fs.String("keep-web", "", "name prefix of the web section's databases, kept and reused across runs (drop them yourself)")
	webProfile := fs.String("web-cpuprofile", "", "write a CPU profile of the web section's requests on the large set to this file")
	dbSuffix := fs.String("db-suffix", "", "suffix of the names of the databases sections create (runs side by side on one server)")
	sectionProfile := fs.String("section-cpuprofile", "", "file name prefix for CPU profiles of the sections' main steps (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(*memProfile)
			if err != nil {
				fmt.Fprintln(os.Stderr, "recondesk-bench: memprofile:", err)
				return
			}
			defer f.Close()
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
		}()
	}
	workDir := *dir
	if workDir == "" {
		d, err := os.MkdirTemp("", "recondesk-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	env := Env{AdminURL: *admin, Dir: workDir, Scale: *scale, Out: stdout, KeepWeb: *keepWeb, WebProfile: *webProfile, DBSuffix: *dbSuffix, CPUProfile: *sectionProfile}
	runs := func(s section) bool {
		named := strings.Contains(","+*only+",", ","+s.name+",")
		return (*only == "" || named) && (*only != "" || !s.part)
	}
	if runs(section{name: "ezpass-match"}) && runs(section{name: "web"}) && *keepWeb == "" {
		env.Handoff = &Handoff{}
		defer func() {
			if env.Handoff.drop != nil {
				env.Handoff.drop()
			}
		}()
	}
	var rows []Row
	whole := time.Now()
	for _, s := range sections() {
		if !runs(s) {
			continue
		}
		fmt.Fprintf(stdout, "== %s\n", s.name)
		began := time.Now()
		r, err := s.run(ctx, env)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(stdout, "   (%s took %v)\n", s.name, time.Since(began).Round(time.Second))
		rows = append(rows, r...)
	}
	took := time.Since(whole)
	if *only == "" && *scale == 1 {
		met := "yes"
		if took > 30*time.Minute {
			met = "no"
		}
		rows = append(rows, Row{Section: "bench", Name: "the whole run at scale 1", Value: took.Round(time.Second).String(),
			Target: "< 30m", Met: met, Note: fmt.Sprintf("%d cores", runtime.NumCPU())})
	} else {
		fmt.Fprintf(stdout, "   (the run took %v)\n", took.Round(time.Second))
	}
	printTable(stdout, rows)
	return nil
}

// sections lists the benchmark areas in the order they run.
func sections() []section {
	return []section{
		{"ezpass-import", ezpassImportBench, false},
		{"ezpass-match", ezpassMatchBench, false},
		{"faulty", faultyBench, false},
		{"faulty-pipeline", faultyPipelineBench, true},
		{"faulty-ladder", faultyLadderBench, true},
		{"web", webBench, false},
	}
}

func printTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tMEASURE\tRECONDESK\tBASELINE\tRATIO\tTARGET\tMET\tNOTE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Section, r.Name, r.Value, r.Baseline, r.Ratio, r.Target, r.Met, r.Note)
	}
	tw.Flush()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
