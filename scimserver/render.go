package scimserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// serverURLKey is the context key under which scimHandler stores the
// external server URL, so that baseURL needs only the request.
type serverURLKey struct{}

// scimHandler wraps h as the handler of a SCIM route: it records the
// server URL for baseURL and hands the route to s.handle.
func (s *Server) scimHandler(route string, h handlerFunc) http.Handler {
	return s.handle(route, func(w http.ResponseWriter, r *http.Request) error {
		ctx := context.WithValue(r.Context(), serverURLKey{}, s.serverURL(r))
		return h(w, r.WithContext(ctx))
	})
}

// baseURL returns the SCIM base URL of the request's tenant, such as
// https://scim.example.com/sandboxes/acme-test/scim/v2. It honours
// Config.BaseURL for requests served by scimHandler and otherwise derives
// the server URL from the request.
func baseURL(r *http.Request) string {
	root, _ := r.Context().Value(serverURLKey{}).(string)
	if root == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		root = scheme + "://" + r.Host
	}
	t := tenantFrom(r.Context())
	if t == nil || t.IsMain() {
		return root + "/scim/v2"
	}
	return root + "/sandboxes/" + url.PathEscape(t.ID) + "/scim/v2"
}

// etag returns the weak entity tag of a group version.
func etag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// userETag returns the weak entity tag of a tenant's view of a user: a
// hash of what the view shows, its attributes, lastModified and the
// tenant's groups of the user. The store version is not part of it: it
// also grows when the user's memberships change in other tenants, and a
// tag built on it would let a sandbox watch activity it cannot see.
func userETag(u *storage.User, groups []storage.GroupRef) string {
	h := sha256.New()
	// Encoding a map sorts its keys, so equal attributes hash equally. A
	// hash.Hash never fails to write, and the attributes were decoded
	// from JSON, so they encode.
	_ = json.NewEncoder(h).Encode(u.Attributes)
	fmt.Fprintf(h, "%d\x00", u.LastModified.UnixNano())
	for _, g := range groups {
		fmt.Fprintf(h, "%s\x00%s\x00", g.GroupID, g.DisplayName)
	}
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// formatTime renders a SCIM dateTime (RFC 7643 §2.3.5) in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

func meta(resourceType, location string, created, modified time.Time, tag string) map[string]any {
	return map[string]any{
		"resourceType": resourceType,
		"created":      formatTime(created),
		"lastModified": formatTime(modified),
		"location":     location,
		"version":      tag,
	}
}

// copyAttributes returns a shallow copy of attrs with room for the keys
// that rendering adds.
func copyAttributes(attrs map[string]any) map[string]any {
	doc := make(map[string]any, len(attrs)+4)
	for k, v := range attrs {
		doc[k] = v
	}
	return doc
}

// userDocument renders the tenant's view of a user. groups are all of the
// tenant's groups of the user, which the version tag covers; they are
// rendered only when withGroups is set.
func userDocument(base string, u *storage.User, groups []storage.GroupRef, withGroups bool) map[string]any {
	doc := copyAttributes(u.Attributes)
	dropNeverReturned(schemas.User, doc)
	doc["id"] = u.ID
	if _, ok := doc["schemas"]; !ok {
		doc["schemas"] = userSchemas(doc)
	}
	doc["meta"] = meta("User", base+"/Users/"+u.ID, u.Created, u.LastModified, userETag(u, groups))
	if withGroups {
		refs := make([]any, 0, len(groups))
		for _, g := range groups {
			refs = append(refs, map[string]any{
				"value":   g.GroupID,
				"$ref":    base + "/Groups/" + g.GroupID,
				"display": g.DisplayName,
				"type":    "direct",
			})
		}
		if len(refs) > 0 {
			doc["groups"] = refs
		}
	}
	return doc
}

// dropNeverReturned deletes the top-level attributes with returned
// "never", such as password, from doc. The projection drops them too; this
// keeps them out of a response whatever the projection does.
func dropNeverReturned(rt *schemas.ResourceType, doc map[string]any) {
	for _, a := range rt.Schema.Attributes {
		if a.Returned == "never" {
			delete(doc, a.Name)
		}
	}
	for _, sc := range rt.Extensions {
		ext, ok := doc[sc.ID].(map[string]any)
		if !ok {
			continue
		}
		// doc is a shallow copy, so the extension map is copied before
		// anything is deleted from it.
		ext = copyAttributes(ext)
		for _, a := range sc.Attributes {
			if a.Returned == "never" {
				delete(ext, a.Name)
			}
		}
		doc[sc.ID] = ext
	}
}

func userSchemas(doc map[string]any) []any {
	s := []any{schemas.UserURN}
	if _, ok := doc[schemas.EnterpriseUserURN]; ok {
		s = append(s, schemas.EnterpriseUserURN)
	}
	return s
}

// groupDocument renders a group without its members, which writeGroup
// streams after the rest of the document.
func groupDocument(base string, g *storage.Group) map[string]any {
	doc := copyAttributes(g.Attributes)
	dropNeverReturned(schemas.Group, doc)
	doc["id"] = g.ID
	if _, ok := doc["schemas"]; !ok {
		doc["schemas"] = []any{schemas.GroupURN}
	}
	doc["meta"] = meta("Group", base+"/Groups/"+g.ID, g.Created, g.LastModified, etag(g.Version))
	return doc
}

// writeJSON writes v as a SCIM response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", scimContentType)
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		return fmt.Errorf("%w: write response: %w", errResponseStarted, err)
	}
	return nil
}

// bufferedResponse holds back the status line and the first bytes of a
// streamed response. An error before responseBufferSize bytes were
// written can still become a proper error response. After that, the
// error is wrapped with errResponseStarted.
type bufferedResponse struct {
	w       http.ResponseWriter
	status  int
	buf     bytes.Buffer
	started bool
}

// responseBufferSize is how much of a streamed response is held back
// before the status line goes out: enough for most single groups and
// short lists, so that they fail cleanly.
const responseBufferSize = 64 << 10

func newBufferedResponse(w http.ResponseWriter, status int) *bufferedResponse {
	w.Header().Set("Content-Type", scimContentType)
	return &bufferedResponse{w: w, status: status}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.started {
		return b.w.Write(p)
	}
	b.buf.Write(p)
	if b.buf.Len() >= responseBufferSize {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (b *bufferedResponse) flush() error {
	if !b.started {
		b.started = true
		b.w.WriteHeader(b.status)
	}
	_, err := b.w.Write(b.buf.Bytes())
	b.buf.Reset()
	return err
}

// finish sends what is still held back.
func (b *bufferedResponse) finish() error {
	if err := b.flush(); err != nil {
		return fmt.Errorf("%w: write response: %w", errResponseStarted, err)
	}
	return nil
}

// fail returns err as it should reach writeError: unchanged while nothing
// was sent, and marked with errResponseStarted afterwards.
func (b *bufferedResponse) fail(err error) error {
	if !b.started {
		b.w.Header().Del("Content-Type")
		return err
	}
	return fmt.Errorf("%w: %w", errResponseStarted, err)
}

// checkContentType rejects a request body that is neither
// application/scim+json nor application/json. Parameters such as charset
// are accepted, and so is a request without a Content-Type.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "", "invalid Content-Type %q", ct)
	}
	if mediaType != scimContentType && mediaType != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "",
			"unsupported Content-Type %q: send application/scim+json or application/json", mediaType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType, "", "unsupported charset %q: send utf-8", cs)
	}
	return nil
}

// decodeBody reads a JSON request body of at most limit bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return fmt.Errorf("read request body: %w", err)
	}
	return unmarshalBody(body, v)
}

// unmarshalBody decodes one JSON value and rejects trailing data. Syntax
// and type errors become 400 invalidSyntax with the decoder's message,
// which names only positions and JSON types.
func unmarshalBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return schemas.Errorf("invalidSyntax", "the request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return schemas.Errorf("invalidSyntax", "the request body is not valid JSON: %s", decodeErrorText(err))
	}
	if dec.More() {
		return schemas.Errorf("invalidSyntax", "the request body has data after its JSON value")
	}
	return nil
}

func decodeErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field != "" {
			return fmt.Sprintf("%s must not be a JSON %s", typeErr.Field, typeErr.Value)
		}
		return fmt.Sprintf("unexpected JSON %s", typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("%s at offset %d", syntaxErr.Error(), syntaxErr.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed input"
}

// requestTenant returns the tenant that the authentication middleware
// resolved. Its absence is a wiring error, never a client error.
func requestTenant(r *http.Request) (*tenants.Tenant, error) {
	t := tenantFrom(r.Context())
	if t == nil {
		return nil, errors.New("request has no tenant: authentication middleware missing")
	}
	return t, nil
}
