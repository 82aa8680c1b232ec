package schemas

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// passwordIterations is the PBKDF2-HMAC-SHA256 iteration count for new
// hashes, the value OWASP's Password Storage Cheat Sheet recommends (2023).
// Tests lower it.
var passwordIterations = 600_000

const passwordHashPrefix = "$pbkdf2-sha256$"

// hashPassword returns a hash of password in the form
// $pbkdf2-sha256$i=<iterations>$<salt>$<key>, with salt and key in
// unpadded standard base64.
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, passwordIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%si=%d$%s$%s", passwordHashPrefix, passwordIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by
// Normalize or ApplyPatch. It compares in constant time.
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
	got, err := pbkdf2.Key(sha256.New, password, salt, iterations, len(want))
	return err == nil && hmac.Equal(got, want)
}
