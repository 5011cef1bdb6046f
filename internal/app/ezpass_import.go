package app

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"recondesk/internal/apperror"
	"recondesk/internal/store"
)

// EZPassImportDeps are what the E-ZPass import use cases need
// (EZPassDeps.Import). Zero fields are filled from Config.
type EZPassImportDeps struct {
	// Accounts are the account labels an import may name, lower case;
	// empty accepts any (EZPASS_ACCOUNTS).
	Accounts []string
	// DefaultAccount is the account of an upload that names none (EZPASS_ACCOUNT).
	DefaultAccount string
	// TZ is the zone of the files' wall-clock times (EZPASS_TZ).
	TZ *time.Location
	// Options tunes loading (tests lower the caps); Finish is set by RunImport.
	Options store.ImportOptions
}

// importDeps returns d.EZPass.Import with the configuration's defaults.
func (a *App) importDeps() EZPassImportDeps {
	d := a.EZPass.Import
	if d.Accounts == nil {
		d.Accounts = a.Config.EZPassAccounts
	}
	if d.DefaultAccount == "" {
		d.DefaultAccount = cmpOr(a.Config.EZPassAccount, "main")
	}
	if d.TZ == nil {
		d.TZ = a.Config.EZPassTZ
	}
	if d.TZ == nil {
		d.TZ, _ = time.LoadLocation("America/New_York")
	}
	return d
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// EZPassAccount normalises the account an import names: blank means the
// default account, labels are compared in lower case, and with a configured
// list (EZPASS_ACCOUNTS) an unknown label is refused naming the known ones.
func (a *App) EZPassAccount(label string) (string, error) {
	d := a.importDeps()
	label = strings.TrimSpace(label)
	if label == "" {
		label = d.DefaultAccount
	}
	account, err := store.CleanAccount(strings.ToLower(label))
	if err != nil {
		return "", err
	}
	if len(d.Accounts) > 0 && !slices.Contains(d.Accounts, account) {
		msg := fmt.Sprintf("%q is not a configured E-ZPass account; use one of: %s (EZPASS_ACCOUNTS).",
			clipText(label, 64), strings.Join(d.Accounts, ", "))
		return "", &apperror.Error{Code: apperror.Invalid, Message: msg, Fields: map[string]string{"account": msg}}
	}
	return account, nil
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// EZPassUpload is a received E-ZPass file.
type EZPassUpload struct {
	// Account is the account label as given; blank means the default.
	Account  string
	FileName string
	Size     int64
	// SHA256 is the file's hex SHA-256.
	SHA256 string
	// File yields the bytes; it is streamed into the database.
	File io.Reader
}

// StartImport records an upload as a queued import: it checks the account,
// refuses a file already imported (a *store.DuplicateImportError; a failed
// import does not count), stores the original, queues the unique
// ezpass.import job and writes the audit event, all in one transaction.
func (a *App) StartImport(ctx context.Context, actor Actor, up EZPassUpload) (store.EZPassImport, error) {
	imp, err := a.startImport(ctx, actor, up)
	outcome := "accepted"
	if err != nil {
		outcome = string(apperror.CodeOf(err))
	}
	a.Metrics.Events.WithLabelValues("ezpass.import.upload", outcome).Inc()
	return imp, err
}

func (a *App) startImport(ctx context.Context, actor Actor, up EZPassUpload) (store.EZPassImport, error) {
	account, err := a.EZPassAccount(up.Account)
	if err != nil {
		return store.EZPassImport{}, err
	}
	var imp store.EZPassImport
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		imp, err = store.CreateEZPassImport(ctx, tx, store.NewEZPassImport{
			Account: account, FileName: up.FileName, CreatedBy: actor.String(), TimeZone: a.importDeps().TZ.String(),
			SHA256: up.SHA256, Size: up.Size, File: up.File,
		})
		if err != nil {
			return err
		}
		if _, err := a.insertTx(ctx, tx, EZPassImportArgs{ImportID: imp.ID}, nil); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.String(), "ezpass.import.upload", "ezpass_import", strconv.FormatInt(imp.ID, 10), nil,
			map[string]any{"file_name": imp.FileName, "size_bytes": imp.SizeBytes, "sha256": imp.SHA256, "account": imp.Account},
			"file uploaded")
	})
	return imp, err
}

// RunImport is what the ezpass.import job does: it parses and loads the
// import's file (store.RunEZPassImport: one transaction, audited as the
// uploader's) and, when rows were stored, queues association in that same
// transaction. An import that already finished is returned unchanged.
func (a *App) RunImport(ctx context.Context, importID int64) (store.EZPassImport, error) {
	opts := a.importDeps().Options
	opts.Finish = func(ctx context.Context, tx pgx.Tx, imp store.EZPassImport) error {
		if imp.Inserted == 0 {
			return nil
		}
		_, err := a.insertTx(ctx, tx, EZPassAssociateArgs{ImportID: imp.ID, Trigger: "import"}, nil)
		return err
	}
	return store.RunEZPassImport(ctx, a.Pool, importID, opts)
}

// ImportFile imports a file synchronously (the CLI, the demo seed): the
// same StartImport as an upload (audit and queued job included), then the
// same RunImport as the job, inline; the queued job then finds it done.
func (a *App) ImportFile(ctx context.Context, actor Actor, r io.ReadSeeker, name, account string) (store.EZPassImport, error) {
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return store.EZPassImport{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return store.EZPassImport{}, err
	}
	imp, err := a.StartImport(ctx, actor, EZPassUpload{Account: account, FileName: name, Size: size,
		SHA256: hex.EncodeToString(h.Sum(nil)), File: bufio.NewReader(r)})
	if err != nil {
		return imp, err
	}
	return a.RunImport(ctx, imp.ID)
}

// importGaveUp is what an import shows when its job stopped retrying.
const importGaveUp = "The import stopped on a server error after several attempts; it has been logged. " +
	"Upload the file again later, or ask an administrator."

// importInterrupted is what an import shows when the process running it died.
const importInterrupted = "The import was interrupted (the server running it stopped) and nothing of it was applied. " +
	"Upload the file again."

// FailImport ends an import whose job gave up as failed (audited), unless
// it has finished; the same file can then be uploaded again.
func (a *App) FailImport(ctx context.Context, importID int64) error {
	return store.FailEZPassImport(ctx, a.Pool, importID, importGaveUp)
}

// RecoverImports ends as failed every import left running by a process
// that died (see store.FailStrandedEZPassImports); the schedule runs it
// every minute and on start. It returns the ids it failed.
func (a *App) RecoverImports(ctx context.Context) ([]int64, error) {
	ids, err := store.FailStrandedEZPassImports(ctx, a.Pool, importInterrupted)
	for range ids {
		a.Metrics.Events.WithLabelValues("ezpass.import", "interrupted").Inc()
	}
	return ids, err
}

// EZPassImportRecoverArgs asks for imports stranded by a dead process to be
// ended as failed (periodic, see RecoverImports).
type EZPassImportRecoverArgs struct{}

// Kind is the stable job kind.
func (EZPassImportRecoverArgs) Kind() string { return "ezpass.import.recover" }
