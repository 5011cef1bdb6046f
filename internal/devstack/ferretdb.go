package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// FerretOptions configures the embedded MongoDB-compatible server.
type FerretOptions struct {
	// Dir holds the SQLite data files; it is created if missing. Required unless PostgreSQLURL
	// is set.
	Dir string
	// PostgreSQLURL selects the PostgreSQL backend instead of SQLite (e.g. for benchmarks).
	PostgreSQLURL string
	// Addr is the TCP listen address. Default "127.0.0.1:0" (a free port).
	Addr string
	// Logger receives FerretDB's logs. Default: warnings and errors to stderr.
	Logger *slog.Logger
	// StartTimeout bounds the wait until the server accepts connections. Default 30s.
	StartTimeout time.Duration
}

// StartFerretDB starts an embedded FerretDB and waits until it accepts connections. It returns
// the MongoDB URI and a stop function that shuts the server down and waits for it.
func StartFerretDB(ctx context.Context, opts FerretOptions) (uri string, stop func(), err error) {
	cfg := &ferretdb.Config{Logger: opts.Logger}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg.Listener.TCP = opts.Addr
	if cfg.Listener.TCP == "" {
		cfg.Listener.TCP = "127.0.0.1:0"
	}
	switch {
	case opts.PostgreSQLURL != "":
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", opts.PostgreSQLURL
	case opts.Dir != "":
		dir, err := filepath.Abs(opts.Dir)
		if err != nil {
			return "", nil, fmt.Errorf("devstack: ferretdb dir: %w", err)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", nil, fmt.Errorf("devstack: ferretdb dir: %w", err)
		}
		cfg.Handler, cfg.SQLiteURL = "sqlite", (&url.URL{Scheme: "file", Opaque: filepath.ToSlash(dir) + "/"}).String()
	default:
		return "", nil, errors.New("devstack: ferretdb needs a data directory or a PostgreSQL URL")
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("devstack: start ferretdb: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx)
	}()
	stop = func() {
		cancel()
		<-done
	}

	uri = f.MongoDBURI()
	u, err := url.Parse(uri)
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("devstack: ferretdb uri %q: %w", uri, err)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if err := waitForTCP(ctx, u.Host, timeout); err != nil {
		stop()
		return "", nil, fmt.Errorf("devstack: ferretdb did not start: %w", err)
	}
	return uri, stop, nil
}

// waitForTCP dials addr until a connection succeeds, ctx ends or timeout passes.
func waitForTCP(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", addr, errors.Join(ctx.Err(), err))
		case <-time.After(20 * time.Millisecond):
		}
	}
}
