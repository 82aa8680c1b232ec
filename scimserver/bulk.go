package scimserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// Bulk (RFC 7644 §3.7).
//
// Each operation is applied on its own, through the same tenants.Service
// call as the single request it replaces, so a Bulk request is not one
// transaction. Operations run in request order, except that an operation
// that refers to the bulkId of a later POST waits until that POST has run.
// If the server stops half-way (a crash, a lost connection, a deploy),
// the operations that ran before stay applied and the rest did not
// happen, and the client gets no response at all. A client then reads the
// resources back (for example by filtering on externalId or userName) to
// learn which operations took effect, and repeats only the others.
//
// failOnErrors stops the request after that many failed operations; the
// response lists only the operations that ran, so those after the stop
// are absent from it.

// bulkRequest is a BulkRequest body.
type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors *int            `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

// bulkResult is one operation of a BulkResponse.
type bulkResult struct {
	Location string     `json:"location,omitempty"`
	Method   string     `json:"method"`
	BulkID   string     `json:"bulkId,omitempty"`
	Version  string     `json:"version,omitempty"`
	Status   string     `json:"status"`
	Response *errorBody `json:"response,omitempty"`
}

// bulkIDPrefix marks a reference to the resource that the POST with that
// bulkId created, anywhere in an operation's path or data.
const bulkIDPrefix = "bulkId:"

func (s *Server) bulk(w http.ResponseWriter, r *http.Request) error {
	t, err := requestTenant(r)
	if err != nil {
		return err
	}
	req, err := s.decodeBulk(w, r)
	if err != nil {
		return err
	}
	failOnErrors := 0 // no limit
	if req.FailOnErrors != nil {
		if *req.FailOnErrors < 1 {
			return errorf(http.StatusBadRequest, "invalidValue",
				"failOnErrors must be at least 1, not %d", *req.FailOnErrors)
		}
		failOnErrors = *req.FailOnErrors
	}
	seen := make(map[string]bool)
	for _, op := range req.Operations {
		if op.BulkID == "" {
			continue
		}
		if seen[op.BulkID] {
			return errorf(http.StatusBadRequest, "invalidValue",
				"bulkId %q is used by more than one operation", op.BulkID)
		}
		seen[op.BulkID] = true
	}

	run := &bulkRun{
		s:            s,
		r:            r,
		t:            t,
		base:         baseURL(r),
		ops:          req.Operations,
		results:      make([]*bulkResult, len(req.Operations)),
		created:      make(map[string]string),
		failOnErrors: failOnErrors,
	}
	run.execute()

	out := make([]*bulkResult, 0, len(run.results))
	for _, res := range run.results {
		if res != nil {
			out = append(out, res)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"schemas":    []string{schemas.BulkResponseURN},
		"Operations": out,
	})
}

// decodeBulk reads a BulkRequest and enforces the advertised limits. Both
// limits return 413 as RFC 7644 §3.7.4 requires. Too many operations
// also carry scimType tooMany.
func (s *Server) decodeBulk(w http.ResponseWriter, r *http.Request) (*bulkRequest, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBulkPayloadBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "",
				"the size of the bulk request exceeds the maxPayloadSize (%d bytes)", s.cfg.MaxBulkPayloadBytes)
		}
		return nil, fmt.Errorf("read bulk request: %w", err)
	}
	var req bulkRequest
	if err := unmarshalBody(body, &req); err != nil {
		return nil, err
	}
	if len(req.Schemas) > 0 && !slices.Contains(req.Schemas, schemas.BulkRequestURN) {
		return nil, schemas.Errorf("invalidSyntax", "schemas must contain %s", schemas.BulkRequestURN)
	}
	if len(req.Operations) > s.cfg.MaxBulkOperations {
		return nil, errorf(http.StatusRequestEntityTooLarge, "tooMany",
			"the bulk request has %d operations, more than the maxOperations (%d)",
			len(req.Operations), s.cfg.MaxBulkOperations)
	}
	return &req, nil
}

// bulkRun is the state of one Bulk request while its operations run.
type bulkRun struct {
	s    *Server
	r    *http.Request
	t    *tenants.Tenant
	base string
	ops  []bulkOperation
	// results has one entry per operation, nil until it ran.
	results []*bulkResult
	// created maps the bulkId of each successful POST to the new id.
	created      map[string]string
	errors       int
	failOnErrors int
}

// execute runs the operations in request order, deferring an operation
// while it refers to the bulkId of a POST that has not run yet. It stops
// when failOnErrors operations have failed.
//
// NOTE: circular references are not broken up into a create and a later
// update as RFC 7644 §3.7.1 suggests. When group A lists group B as a
// member and B lists A, both created in the request, both operations fail
// with 409 invalidValue.
func (b *bulkRun) execute() {
	pendingPOST := make(map[string]bool)
	for _, op := range b.ops {
		if op.BulkID != "" && strings.EqualFold(op.Method, http.MethodPost) {
			pendingPOST[op.BulkID] = true
		}
	}
	// References are found once: finding them decodes an operation's data,
	// and a chain of forward references takes one pass per operation.
	refs := make([][]string, len(b.ops))
	for i, op := range b.ops {
		refs[i] = bulkReferences(op)
	}
	waitsFor := func(i int) bool {
		for _, ref := range refs[i] {
			if ref != b.ops[i].BulkID && pendingPOST[ref] {
				return true
			}
		}
		return false
	}

	pending := make([]int, len(b.ops))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		var deferred []int
		for _, i := range pending {
			if waitsFor(i) {
				deferred = append(deferred, i)
				continue
			}
			b.run(i)
			delete(pendingPOST, b.ops[i].BulkID)
			if b.stopped() {
				return
			}
		}
		if len(deferred) == len(pending) {
			// Every remaining operation waits for another: a cycle.
			for _, i := range deferred {
				b.fail(i, errorf(http.StatusConflict, "invalidValue",
					"the bulkId references of this operation form a cycle"))
				if b.stopped() {
					return
				}
			}
			return
		}
		pending = deferred
	}
}

func (b *bulkRun) stopped() bool {
	return b.failOnErrors > 0 && b.errors >= b.failOnErrors
}

// run executes operation i and records its result.
func (b *bulkRun) run(i int) {
	op := b.ops[i]
	res, err := b.apply(op)
	if err != nil {
		b.fail(i, err)
		return
	}
	res.Method, res.BulkID = strings.ToUpper(op.Method), op.BulkID
	b.results[i] = res
}

// fail records err as the result of operation i. A server-side error is
// logged and reported with a fixed text, exactly as for single requests.
func (b *bulkRun) fail(i int, err error) {
	status, scimType, detail, internal := classifyError(err)
	if internal {
		b.s.logger.ErrorContext(b.r.Context(), "bulk operation failed",
			"request_id", requestIDFrom(b.r.Context()), "operation", i,
			"method", b.ops[i].Method, "error", err)
	}
	body := newErrorBody(status, scimType, detail)
	b.results[i] = &bulkResult{
		Method:   strings.ToUpper(b.ops[i].Method),
		BulkID:   b.ops[i].BulkID,
		Status:   body.Status,
		Response: &body,
	}
	b.errors++
}

// apply performs one operation through tenants.Service.
func (b *bulkRun) apply(op bulkOperation) (*bulkResult, error) {
	rt, id, err := parseBulkPath(op.Path)
	if err != nil {
		return nil, err
	}
	if id, err = b.resolveString(id); err != nil {
		return nil, err
	}
	method := strings.ToUpper(op.Method)
	if (method == http.MethodPost) != (id == "") {
		return nil, errorf(http.StatusBadRequest, "invalidPath",
			"%s needs path %s, not %q", method, bulkPathHint(method, rt), op.Path)
	}
	ifVersion := tenants.AnyVersion
	if op.Version != "" && id != "" {
		current := b.s.groupTag(b.r.Context(), b.t, id)
		if rt == schemas.User {
			current = b.s.userTag(b.r.Context(), b.t, id)
		}
		if ifVersion, err = matchVersion(op.Version, current); err != nil {
			return nil, err
		}
	}

	switch method {
	case http.MethodPost:
		if op.BulkID == "" {
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "a POST operation needs a bulkId")
		}
		data, err := b.decodeData(op.Data)
		if err != nil {
			return nil, err
		}
		return b.create(rt, op.BulkID, data)
	case http.MethodPut:
		data, err := b.decodeData(op.Data)
		if err != nil {
			return nil, err
		}
		return b.replace(rt, id, data, ifVersion)
	case http.MethodPatch:
		return b.patch(rt, id, op.Data, ifVersion)
	case http.MethodDelete:
		return b.delete(rt, id, ifVersion)
	}
	return nil, errorf(http.StatusMethodNotAllowed, "",
		"method %q is not allowed in a bulk operation: use POST, PUT, PATCH or DELETE", op.Method)
}

func bulkPathHint(method string, rt *schemas.ResourceType) string {
	if method == http.MethodPost {
		return rt.Endpoint
	}
	return rt.Endpoint + "/{id}"
}

// parseBulkPath splits "/Users" or "/Groups/{id}" into the resource type
// and id.
func parseBulkPath(path string) (*schemas.ResourceType, string, error) {
	endpoint, id, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	for _, rt := range schemas.ResourceTypes() {
		if strings.EqualFold("/"+endpoint, rt.Endpoint) && !strings.Contains(id, "/") {
			return rt, id, nil
		}
	}
	return nil, "", errorf(http.StatusBadRequest, "invalidPath",
		"path %q names no resource: use /Users, /Groups or one of their resources", path)
}

func (b *bulkRun) decodeData(raw json.RawMessage) (map[string]any, error) {
	var data map[string]any
	if len(raw) == 0 {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "the operation has no data")
	}
	if err := unmarshalBody(raw, &data); err != nil {
		return nil, err
	}
	resolved, err := b.resolve(data)
	if err != nil {
		return nil, err
	}
	return resolved.(map[string]any), nil
}

func (b *bulkRun) result(status int, location string, tag string) *bulkResult {
	return &bulkResult{Location: location, Version: tag, Status: fmt.Sprint(status)}
}

// userResult is the result of a user write, with the user's version tag
// in this tenant.
func (b *bulkRun) userResult(status int, u *storage.User) (*bulkResult, error) {
	groups, err := b.s.svc.UserGroups(b.r.Context(), b.t, []string{u.ID})
	if err != nil {
		return nil, fmt.Errorf("read groups of user: %w", err)
	}
	return b.result(status, b.base+schemas.User.Endpoint+"/"+u.ID, userETag(u, groups[u.ID])), nil
}

func (b *bulkRun) create(rt *schemas.ResourceType, bulkID string, data map[string]any) (*bulkResult, error) {
	ctx := b.r.Context()
	var id, tag string
	switch rt {
	case schemas.User:
		u, err := b.s.svc.CreateUser(ctx, b.t, data)
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		id, tag = u.ID, userETag(u, nil) // a new user is in no group
	default:
		g, err := b.s.svc.CreateGroup(ctx, b.t, data)
		if err != nil {
			return nil, fmt.Errorf("create group: %w", err)
		}
		id, tag = g.ID, etag(g.Version)
	}
	b.created[bulkID] = id
	return b.result(http.StatusCreated, b.base+rt.Endpoint+"/"+id, tag), nil
}

func (b *bulkRun) replace(rt *schemas.ResourceType, id string, data map[string]any, ifVersion int64) (*bulkResult, error) {
	ctx := b.r.Context()
	switch rt {
	case schemas.User:
		u, err := b.s.svc.ReplaceUser(ctx, b.t, id, data, ifVersion)
		if err != nil {
			return nil, fmt.Errorf("replace user: %w", err)
		}
		return b.userResult(http.StatusOK, u)
	default:
		g, err := b.s.svc.ReplaceGroup(ctx, b.t, id, data, ifVersion)
		if err != nil {
			return nil, fmt.Errorf("replace group: %w", err)
		}
		return b.result(http.StatusOK, b.base+rt.Endpoint+"/"+id, etag(g.Version)), nil
	}
}

func (b *bulkRun) patch(rt *schemas.ResourceType, id string, raw json.RawMessage, ifVersion int64) (*bulkResult, error) {
	data, err := b.decodeData(raw)
	if err != nil {
		return nil, err
	}
	// Re-encode the resolved data to decode it as a PATCH request.
	resolved, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode patch data: %w", err)
	}
	var req patchRequest
	if err := unmarshalBody(resolved, &req); err != nil {
		return nil, err
	}
	ops, err := checkPatch(&req)
	if err != nil {
		return nil, err
	}

	ctx := b.r.Context()
	switch rt {
	case schemas.User:
		u, err := b.s.svc.PatchUser(ctx, b.t, id, ops, ifVersion)
		if err != nil {
			return nil, fmt.Errorf("patch user: %w", err)
		}
		return b.userResult(http.StatusOK, u)
	default:
		g, err := b.s.svc.PatchGroup(ctx, b.t, id, ops, ifVersion)
		if err != nil {
			return nil, fmt.Errorf("patch group: %w", err)
		}
		return b.result(http.StatusOK, b.base+rt.Endpoint+"/"+id, etag(g.Version)), nil
	}
}

func (b *bulkRun) delete(rt *schemas.ResourceType, id string, ifVersion int64) (*bulkResult, error) {
	ctx := b.r.Context()
	var err error
	if rt == schemas.User {
		err = b.s.svc.DeleteUser(ctx, b.t, id, ifVersion)
	} else {
		err = b.s.svc.DeleteGroup(ctx, b.t, id, ifVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("delete %s: %w", strings.ToLower(rt.Name), err)
	}
	return &bulkResult{Location: b.base + rt.Endpoint + "/" + id, Status: fmt.Sprint(http.StatusNoContent)}, nil
}

// resolve returns a copy of v in which every string "bulkId:<id>", at any
// depth, is replaced by the id of the resource that the POST with that
// bulkId created.
func (b *bulkRun) resolve(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return b.resolveString(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			resolved, err := b.resolve(item)
			if err != nil {
				return nil, err
			}
			out[k] = resolved
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			resolved, err := b.resolve(item)
			if err != nil {
				return nil, err
			}
			out[i] = resolved
		}
		return out, nil
	}
	return v, nil
}

// resolveString replaces a value "bulkId:<id>", such as a member value or
// the id of a path like /Groups/bulkId:qwerty, with the id it refers to.
func (b *bulkRun) resolveString(s string) (string, error) {
	ref, ok := strings.CutPrefix(s, bulkIDPrefix)
	if !ok {
		return s, nil
	}
	id, ok := b.created[ref]
	if !ok {
		return "", errorf(http.StatusConflict, "invalidValue",
			"bulkId %q refers to no POST operation of this request that succeeded", ref)
	}
	return id, nil
}

// bulkReferences returns the bulkIds that an operation's path and data
// refer to.
func bulkReferences(op bulkOperation) []string {
	var refs []string
	if _, id, ok := strings.Cut(strings.TrimPrefix(op.Path, "/"), "/"); ok {
		if ref, ok := strings.CutPrefix(id, bulkIDPrefix); ok {
			refs = append(refs, ref)
		}
	}
	var data any
	if json.Unmarshal(op.Data, &data) != nil {
		return refs // the operation fails on its own when it runs
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if ref, ok := strings.CutPrefix(v, bulkIDPrefix); ok {
				refs = append(refs, ref)
			}
		case map[string]any:
			for _, item := range v {
				walk(item)
			}
		case []any:
			for _, item := range v {
				walk(item)
			}
		}
	}
	walk(data)
	return refs
}
