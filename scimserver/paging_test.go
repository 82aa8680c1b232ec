package scimserver

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCursorRoundTrip(t *testing.T) {
	key := []byte("test key")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	want := cursorState{Phase: "User", After: "u-42", Query: queryHash("main", "User", "", "", ""), Expires: now.Add(time.Hour).Unix()}

	got, err := decodeCursor(key, encodeCursor(key, want), want.Query, now)
	if err != nil {
		t.Fatalf("decodeCursor: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded state (-want +got):\n%s", diff)
	}
}

func TestCursorRejected(t *testing.T) {
	key := []byte("test key")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	query := queryHash("main", "User", `userName sw "a"`, "", "")
	valid := cursorState{Phase: "User", After: "u-1", Query: query, Expires: now.Add(time.Minute).Unix()}
	token := encodeCursor(key, valid)
	payload, mac, _ := strings.Cut(token, ".")

	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"p":"User","a":"u-999","q":"` + query + `","e":9999999999}`))

	expired := valid
	expired.Expires = now.Add(-time.Second).Unix()

	tests := []struct {
		name     string
		token    string
		query    string
		scimType string
	}{
		{"garbage", "not-a-cursor", query, scimTypeInvalidCursor},
		{"bad base64", "!!!." + mac, query, scimTypeInvalidCursor},
		{"other key", encodeCursor([]byte("other key"), valid), query, scimTypeInvalidCursor},
		{"payload swapped", forgedPayload + "." + mac, query, scimTypeInvalidCursor},
		{"mac missing", payload + ".", query, scimTypeInvalidCursor},
		{"other query", token, queryHash("main", "User", "", "", ""), scimTypeInvalidCursor},
		{"other sort", token, queryHash("main", "User", `userName sw "a"`, "userName", ""), scimTypeInvalidCursor},
		{"other tenant", token, queryHash("sandbox-key", "User", `userName sw "a"`, "", ""), scimTypeInvalidCursor},
		{"expired", encodeCursor(key, expired), query, scimTypeExpiredCursor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCursor(key, tt.token, tt.query, now)
			var he *httpError
			if !errors.As(err, &he) {
				t.Fatalf("decodeCursor error = %v, want *httpError", err)
			}
			if he.Status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", he.Status)
			}
			if he.ScimType != tt.scimType {
				t.Errorf("scimType = %q, want %q", he.ScimType, tt.scimType)
			}
		})
	}
}

func TestSameTag(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`W/"3"`, `W/"3"`, true},
		{`"3"`, `W/"3"`, true},
		{` W/"ab12" `, `W/"ab12"`, true},
		{`W/"3"`, `W/"4"`, false},
		{`W/"3"`, `W/"03"`, false},
		{``, ``, false},
	}
	for _, tt := range tests {
		if got := sameTag(tt.a, tt.b); got != tt.want {
			t.Errorf("sameTag(%q, %q) = %t, want %t", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestIfMatchVersion(t *testing.T) {
	current := func() (currentTag, error) { return currentTag{tag: `W/"c0ffee"`, version: 5}, nil }
	tests := []struct {
		name   string
		header string
		want   int64
	}{
		{"absent", "", 0},
		{"star", "*", 0},
		{"current tag", `W/"c0ffee"`, 5},
		{"current tag, strong form", `"c0ffee"`, 5},
		{"other tag", `W/"beef"`, -1},
		{"malformed", `garbage`, -1},
		{"list with current", `W/"beef", W/"c0ffee"`, 5},
		{"list without current", `W/"beef", W/"f00d"`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPut, "/", nil)
			if tt.header != "" {
				r.Header.Set("If-Match", tt.header)
			}
			got, err := ifMatchVersion(r, current)
			if err != nil {
				t.Fatalf("ifMatchVersion: %v", err)
			}
			if got != tt.want {
				t.Errorf("ifMatchVersion(%q) = %d, want %d", tt.header, got, tt.want)
			}
		})
	}
}

func TestPreferMinimal(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"return=minimal", true},
		{"Return=Minimal", true},
		{`respond-async, return="minimal"`, true},
		{"return=representation", false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodPatch, "/", nil)
		if tt.header != "" {
			r.Header.Set("Prefer", tt.header)
		}
		if got := preferMinimal(r); got != tt.want {
			t.Errorf("preferMinimal(%q) = %t, want %t", tt.header, got, tt.want)
		}
	}
}
