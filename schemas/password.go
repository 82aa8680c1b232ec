package schemas

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// passwordIterations is the PBKDF2-HMAC-SHA256 iteration count for new
// hashes, the value OWASP's Password Storage Cheat Sheet recommends (2023).
// Tests lower it.
var passwordIterations = 600_000

const passwordHashPrefix = "$pbkdf2-sha256$"

// hashSlots bounds the PBKDF2 computations that run at once to half the
// CPUs Go may use (at least one), so that password writes cannot occupy
// every CPU and starve other requests. It is sized once, from GOMAXPROCS at
// package initialisation.
//
// NOTE: a caller waits for a slot without a deadline, because Normalize and
// ApplyPatch take no context. Each wait is bounded by the hashes queued
// ahead of it, each about 0.1 s at passwordIterations, and every call
// hashes at most one password.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// deriveKey computes a PBKDF2-HMAC-SHA256 key. Tests replace it to count
// and time the derivations.
var deriveKey = func(password string, salt []byte, iterations, length int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, salt, iterations, length)
}

// boundedDeriveKey runs deriveKey once a slot of hashSlots is free.
func boundedDeriveKey(password string, salt []byte, iterations, length int) ([]byte, error) {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return deriveKey(password, salt, iterations, length)
}

// hashPassword returns a hash of password in the form
// $pbkdf2-sha256$i=<iterations>$<salt>$<key>, with salt and key in
// unpadded standard base64.
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key, err := boundedDeriveKey(password, salt, passwordIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%si=%d$%s$%s", passwordHashPrefix, passwordIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by
// Normalize or ApplyPatch. It compares in constant time and shares the
// bound on concurrent hashing with them.
func VerifyPassword(hash, password string) bool {
	rest, ok := strings.CutPrefix(hash, passwordHashPrefix)
	if !ok {
		return false
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "i=") {
		return false
	}
	iterations, err := strconv.Atoi(strings.TrimPrefix(parts[0], "i="))
	if err != nil || iterations < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[1])
	want, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := boundedDeriveKey(password, salt, iterations, len(want))
	return err == nil && hmac.Equal(got, want)
}

// pendingPassword is the plain text of a writeOnly value while Normalize
// or ApplyPatch work on a document. hashPending replaces it by its hash as
// their last step, so that a request that sets the password many times
// pays for one hash.
type pendingPassword string

// hashPending returns v, a document or a value in one, with every
// pendingPassword replaced by its hash. Maps and lists are changed in
// place.
func hashPending(v any) (any, error) {
	return hashPendingWith(v, nil)
}

// hashPendingWith is hashPending that takes hashes from hashes (which may
// be nil) before computing one.
func hashPendingWith(v any, hashes *PasswordHashes) (any, error) {
	switch v := v.(type) {
	case pendingPassword:
		if hash, ok := hashes.lookup(string(v)); ok {
			return hash, nil
		}
		return hashPassword(string(v))
	case map[string]any:
		for k, e := range v {
			hashed, err := hashPendingWith(e, hashes)
			if err != nil {
				return nil, err
			}
			v[k] = hashed
		}
	case []any:
		for i, e := range v {
			hashed, err := hashPendingWith(e, hashes)
			if err != nil {
				return nil, err
			}
			v[i] = hashed
		}
	}
	return v, nil
}

// PasswordHashes holds password hashes made before a PATCH is applied, by
// HashPatchPasswords, for ApplyPatchHashed. A nil *PasswordHashes holds
// none.
type PasswordHashes struct {
	byPlain map[string]string
}

func (h *PasswordHashes) lookup(plain string) (string, bool) {
	if h == nil {
		return "", false
	}
	hash, ok := h.byPlain[plain]
	return hash, ok
}

// addPending hashes every pendingPassword in v that h does not hold yet.
func (h *PasswordHashes) addPending(v any) error {
	switch v := v.(type) {
	case pendingPassword:
		if _, ok := h.byPlain[string(v)]; ok {
			return nil
		}
		hash, err := hashPassword(string(v))
		if err != nil {
			return err
		}
		h.byPlain[string(v)] = hash
	case map[string]any:
		for _, e := range v {
			if err := h.addPending(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := h.addPending(e); err != nil {
				return err
			}
		}
	}
	return nil
}
