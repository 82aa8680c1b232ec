package scimserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cursor pagination (RFC 9865). A cursor is an opaque token that the
// server signs, so a client can neither forge a position nor move a cursor
// to another query or tenant:
//
//	base64url(JSON state) "." base64url(HMAC-SHA256(key, JSON state))
//
// The state names the resource type and the store's key of the last
// resource returned (its sort value and id; the store continues strictly
// after it in the query's order), a hash of the query it belongs to, and
// its expiry. Nothing is kept on the server, so any replica that shares
// Config.CursorKey continues a cursor.
type cursorState struct {
	// Phase is the resource type the position is in: "User" or "Group".
	// A search at the server root lists users first, then groups.
	Phase string `json:"p"`
	// After is the storage.Page.LastKey of the last resource returned,
	// sorted or not; "" is the start of Phase.
	After string `json:"a,omitempty"`
	// Query is queryHash of the tenant, endpoint and filter.
	Query string `json:"q"`
	// Expires is the expiry in Unix seconds.
	Expires int64 `json:"e"`
}

// fallbackCursorKey signs cursors when Config.CursorKey is empty. It is
// random per process, so such cursors work only against the replica that
// issued them and not across a restart.
var fallbackCursorKey = sync.OnceValue(func() []byte {
	key := make([]byte, 32)
	// crypto/rand.Read never returns an error (Go 1.24 and later).
	_, _ = rand.Read(key)
	return key
})

func (s *Server) cursorKey() []byte {
	if len(s.cfg.CursorKey) > 0 {
		return s.cfg.CursorKey
	}
	return fallbackCursorKey()
}

// queryHash binds a cursor to the query that produced it: the tenant key,
// the endpoint ("" for a search at the root), the filter text and the
// sort parameters. count may change from one page to the next, as
// RFC 9865 allows.
func queryHash(tenantKey, endpoint, filter, sortBy, sortOrder string) string {
	sum := sha256.Sum256([]byte(tenantKey + "\x00" + endpoint + "\x00" + filter +
		"\x00" + sortBy + "\x00" + sortOrder))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// encodeCursor signs state and returns the token.
func encodeCursor(key []byte, state cursorState) string {
	payload, _ := json.Marshal(state) // a struct of strings and ints always encodes
	mac := hmac.New(sha256.New, key)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// decodeCursor verifies a token and returns its state. A token that is
// malformed, signed with another key or issued for another query is
// rejected with invalidCursor. A valid token past its expiry is rejected
// with expiredCursor. Both have status 400 (RFC 9865 §3).
func decodeCursor(key []byte, token, wantQuery string, now time.Time) (cursorState, error) {
	invalid := errorf(http.StatusBadRequest, scimTypeInvalidCursor,
		"the cursor is invalid: start again with an empty cursor")
	encodedPayload, encodedMAC, ok := strings.Cut(token, ".")
	if !ok {
		return cursorState{}, invalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(encodedPayload)
	if err != nil {
		return cursorState{}, invalid
	}
	gotMAC, err := base64.RawURLEncoding.DecodeString(encodedMAC)
	if err != nil {
		return cursorState{}, invalid
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(payload)
	if !hmac.Equal(gotMAC, mac.Sum(nil)) {
		return cursorState{}, invalid
	}

	var state cursorState
	if err := json.Unmarshal(payload, &state); err != nil {
		return cursorState{}, invalid
	}
	if state.Query != wantQuery {
		return cursorState{}, errorf(http.StatusBadRequest, scimTypeInvalidCursor,
			"the cursor belongs to another query: repeat the filter it was issued for, or start again")
	}
	if now.Unix() >= state.Expires {
		return cursorState{}, errorf(http.StatusBadRequest, scimTypeExpiredCursor,
			"the cursor has expired: start again with an empty cursor")
	}
	return state, nil
}
