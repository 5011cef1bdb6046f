package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// SessionRefresh is how far a session's idle expiry may lag behind what
// its last request asked for before SessionStore writes it again.
const SessionRefresh = time.Minute

// sessionCacheMax bounds SessionStore's memory of read sessions; past it
// the memory is forgotten (a forgotten session is simply written again).
const sessionCacheMax = 10000

// SessionStore keeps browser sessions in the sessions table (the schema of
// scs/pgxstore). With an idle timeout, scs commits every session on every
// request only to push its expiry forward; SessionStore skips that write
// when the data is what it read and the stored expiry is less than
// SessionRefresh behind the new one, so a page view costs one read instead
// of a read and a committed write. A session's idle timeout may then end up
// to SessionRefresh early.
type SessionStore struct {
	db DBTX

	mu   sync.Mutex
	read map[string]sessionRead
}

// sessionRead is what a Find saw of a session.
type sessionRead struct {
	data   []byte
	expiry time.Time
}

// NewSessionStore returns a session store on db.
func NewSessionStore(db DBTX) *SessionStore {
	return &SessionStore{db: db, read: map[string]sessionRead{}}
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// FindCtx returns the data of an unexpired session.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	var expiry time.Time
	err := s.db.QueryRow(ctx, `SELECT data, expiry FROM sessions WHERE token = $1 AND current_timestamp < expiry`, token).Scan(&b, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		s.forget(token)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	if len(s.read) >= sessionCacheMax {
		clear(s.read)
	}
	s.read[token] = sessionRead{data: bytes.Clone(b), expiry: expiry}
	s.mu.Unlock()
	return b, true, nil
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx writes a session unless it is unchanged since it was read and
// its stored expiry is within SessionRefresh of expiry.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	r, ok := s.read[token]
	s.mu.Unlock()
	if ok && bytes.Equal(r.data, b) && !expiry.Before(r.expiry) && expiry.Sub(r.expiry) < SessionRefresh {
		return nil
	}
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry)
	if err != nil {
		s.forget(token)
		return err
	}
	s.mu.Lock()
	s.read[token] = sessionRead{data: bytes.Clone(b), expiry: expiry}
	s.mu.Unlock()
	return nil
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteCtx deletes a session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	s.forget(token)
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// AllCtx returns every unexpired session's data by token.
func (s *SessionStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.Query(ctx, `SELECT token, data FROM sessions WHERE current_timestamp < expiry`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all := map[string][]byte{}
	for rows.Next() {
		var token string
		var data []byte
		if err := rows.Scan(&token, &data); err != nil {
			return nil, err
		}
		all[token] = data
	}
	return all, rows.Err()
}

// All implements scs.IterableStore.
func (s *SessionStore) All() (map[string][]byte, error) { return s.AllCtx(context.Background()) }

func (s *SessionStore) forget(token string) {
	s.mu.Lock()
	delete(s.read, token)
	s.mu.Unlock()
}
