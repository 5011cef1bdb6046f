// Package auth holds the rules of who may do what: roles, password hashing,
// API tokens and sign-in throttling. It touches no database.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Role is a user's level of access.
type Role string

// The roles, from least to most access.
const (
	Viewer  Role = "viewer"
	Finance Role = "finance"
	Admin   Role = "admin"
)

// Roles lists every role in increasing order of access.
var Roles = []Role{Viewer, Finance, Admin}

var rank = map[Role]int{Viewer: 1, Finance: 2, Admin: 3}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if rank[r] == 0 {
		return "", fmt.Errorf("role %q is not one of viewer, finance, admin", s)
	}
	return r, nil
}

// Allows reports whether a user with role have may do what needs role need.
func (have Role) Allows(need Role) bool {
	return rank[have] > 0 && rank[have] >= rank[need]
}

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CheckPasswordPolicy returns a message when a new password is too weak.
func CheckPasswordPolicy(pw string) string {
	if len([]rune(pw)) < MinPasswordLength {
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLength)
	}
	if len(pw) > 1024 {
		return "Use at most 1024 characters."
	}
	return ""
}

// HashPassword returns the argon2id hash of pw in PHC string format.
func HashPassword(pw string, p Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrBadHash reports a stored hash that is not a PHC argon2id string.
var ErrBadHash = errors.New("stored password hash is not argon2id")

// VerifyPassword reports whether pw matches the PHC hash, in constant time.
func VerifyPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, ErrBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// TokenPrefix starts every API token so that leaked tokens are recognisable.
const TokenPrefix = "rdk_"

// NewToken returns a fresh API token, the hash to store and a short prefix
// to show in lists. The token itself is shown once and never stored.
func NewToken() (token string, hash []byte, display string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, "", err
	}
	token = TokenPrefix + hex.EncodeToString(b)
	return token, HashToken(token), token[:len(TokenPrefix)+6], nil
}

// HashToken returns the SHA-256 of an API token, as stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Throttle limits failed sign-ins per account and per client address.
type Throttle struct {
	Window     time.Duration
	PerAccount int
	PerAddress int
}

// DefaultThrottle allows 5 failures per account and 20 per address in 15 minutes.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerAccount: 5, PerAddress: 20}

// Blocked reports whether another attempt must be refused given the
// failures counted within the window.
func (t Throttle) Blocked(accountFailures, addressFailures int) bool {
	return accountFailures >= t.PerAccount || addressFailures >= t.PerAddress
}

// AccountKey and AddressKey name the counters of failed sign-ins.
func AccountKey(email string) string { return "account:" + NormaliseEmail(email) }

// AddressKey names the failure counter of a client address.
func AddressKey(addr string) string { return "address:" + addr }

// NormaliseEmail lower-cases and trims an email address.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
