package schemas

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countDerivations replaces deriveKey for the rest of the test with one
// that counts its calls.
func countDerivations(t *testing.T) *atomic.Int64 {
	t.Helper()
	var calls atomic.Int64
	original := deriveKey
	deriveKey = func(password string, salt []byte, iterations, length int) ([]byte, error) {
		calls.Add(1)
		return original(password, salt, iterations, length)
	}
	t.Cleanup(func() { deriveKey = original })
	return &calls
}

func TestPatchHashesPasswordOnce(t *testing.T) {
	var list []string
	for i := range 200 {
		list = append(list, fmt.Sprintf(`{"op":"replace","path":"password","value":"pw-%d"}`, i))
	}
	list = append(list, `{"op":"replace","value":{"password":"pathless"}}`,
		`{"op":"add","path":"password","value":"final"}`)
	calls := countDerivations(t)

	got, err := User.ApplyPatch(storedUser(), ops(t, "["+strings.Join(list, ",")+"]"))
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("ApplyPatch derived %d keys, want 1", n)
	}
	hash, ok := got.Attributes["password"].(string)
	if !ok {
		t.Fatalf("password = %#v (%T), want a hash string", got.Attributes["password"], got.Attributes["password"])
	}
	if !VerifyPassword(hash, "final") {
		t.Errorf("password = %q, want a hash of the last value", hash)
	}
}

func TestPatchPasswordSetThenRemoved(t *testing.T) {
	calls := countDerivations(t)
	got, err := User.ApplyPatch(storedUser(), ops(t, `[
		{"op":"replace","path":"password","value":"a"},
		{"op":"remove","path":"password"}]`))
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("ApplyPatch derived %d keys, want 0", n)
	}
	if v, ok := got.Attributes["password"]; ok {
		t.Errorf("password = %#v, want none", v)
	}
}

func TestNormalizeHashesPasswordOnce(t *testing.T) {
	calls := countDerivations(t)
	got, err := User.Normalize(map[string]any{
		"userName":              "bjensen",
		"password":              "first",
		UserURN + ":password":   "second",
		UserURN + ":PASSWORD":   "third",
		"urn:unknown:password":  "ignored",
		"name":                  map[string]any{"givenName": "Barbara"},
		EnterpriseUserURN + ":": "ignored",
	})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Normalize derived %d keys, want 1", n)
	}
	hash, _ := got["password"].(string)
	if !VerifyPassword(hash, "second") {
		t.Errorf("password = %q, want a hash of the value under the last key in sorted order", hash)
	}
}

func TestPasswordHashingConcurrencyBounded(t *testing.T) {
	var active, peak atomic.Int64
	original := deriveKey
	deriveKey = func(password string, salt []byte, iterations, length int) ([]byte, error) {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		active.Add(-1)
		return original(password, salt, iterations, length)
	}
	t.Cleanup(func() { deriveKey = original })

	limit := cap(hashSlots)
	var wg sync.WaitGroup
	for i := range 4*limit + 4 {
		wg.Go(func() {
			if _, err := hashPassword(fmt.Sprint("pw-", i)); err != nil {
				t.Errorf("hashPassword: %v", err)
			}
		})
	}
	wg.Wait()

	if got := peak.Load(); got > int64(limit) {
		t.Errorf("%d hashes ran at once, want at most %d", got, limit)
	}
	if limit < 1 {
		t.Errorf("cap(hashSlots) = %d, want at least 1", limit)
	}
}

func TestPatchHashedUsesHashesMadeBefore(t *testing.T) {
	patch := ops(t, `[{"op":"replace","path":"displayName","value":"x"},
		{"op":"replace","value":{"password":"s3cret"}}]`)
	calls := countDerivations(t)

	hashes, err := User.HashPatchPasswords(storedUser(), patch)
	if err != nil {
		t.Fatalf("HashPatchPasswords: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("HashPatchPasswords derived %d keys, want 1", n)
	}

	// Applied to a later version of the resource, the hash made before
	// is used and no key is derived.
	later := storedUser()
	later["title"] = "changed meanwhile"
	got, err := User.ApplyPatchHashed(later, patch, hashes)
	if err != nil {
		t.Fatalf("ApplyPatchHashed: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("ApplyPatchHashed derived %d more keys, want 0", n-1)
	}
	hash, _ := got.Attributes["password"].(string)
	if !VerifyPassword(hash, "s3cret") {
		t.Errorf("password = %q, want a hash of s3cret", hash)
	}
	if got.Attributes["title"] != "changed meanwhile" {
		t.Errorf("title = %v, want the later version's value", got.Attributes["title"])
	}
}

func TestHashPatchPasswordsInvalidPatch(t *testing.T) {
	hashes, err := User.HashPatchPasswords(storedUser(), ops(t, `[{"op":"replace","path":"nosuch[","value":"x"}]`))
	if err != nil || hashes != nil {
		t.Errorf("HashPatchPasswords on an invalid patch = %v, %v; want nil, nil (ApplyPatchHashed reports it)", hashes, err)
	}
}
