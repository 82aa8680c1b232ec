package scimserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// listRequest is the query of a list or search request (RFC 7644 §3.4.2,
// §3.4.3), read from URL parameters or from a SearchRequest body.
type listRequest struct {
	Schemas            []string   `json:"schemas"`
	Attributes         stringList `json:"attributes"`
	ExcludedAttributes stringList `json:"excludedAttributes"`
	Filter             string     `json:"filter"`
	SortBy             string     `json:"sortBy"`
	SortOrder          string     `json:"sortOrder"`
	StartIndex         *int       `json:"startIndex"`
	Count              *int       `json:"count"`
	// Cursor is nil for index pagination; "" starts cursor pagination
	// (RFC 9865).
	Cursor *string `json:"cursor"`
}

// stringList is a list of attribute names. RFC 7644 §3.4.3 sends a JSON
// array; a comma-separated string, as in a URL, is accepted too.
type stringList []string

func (l *stringList) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*l = splitList(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*l = list
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// listRequestFromURL reads the query parameters of a GET request.
func listRequestFromURL(r *http.Request) (*listRequest, error) {
	q := r.URL.Query()
	req := &listRequest{
		Attributes:         splitList(q.Get("attributes")),
		ExcludedAttributes: splitList(q.Get("excludedAttributes")),
		Filter:             q.Get("filter"),
		SortBy:             q.Get("sortBy"),
		SortOrder:          q.Get("sortOrder"),
	}
	for _, p := range []struct {
		name string
		dst  **int
	}{{"startIndex", &req.StartIndex}, {"count", &req.Count}} {
		if !q.Has(p.name) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(q.Get(p.name)))
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalidValue",
				"%s must be an integer, not %q", p.name, q.Get(p.name))
		}
		*p.dst = &n
	}
	if q.Has("cursor") {
		c := q.Get("cursor")
		req.Cursor = &c
	}
	return req, nil
}

// listSource is one resource type that a list request reads.
type listSource struct {
	rt     *schemas.ResourceType
	filter schemas.Filter
	sortBy *schemas.Path
	proj   *schemas.Projection
}

// prepareSources parses the filter, sortBy and projection of req for each
// resource type. A search at the server root covers several types: a type
// for which the filter or projection names unknown attributes then
// contributes no results, and only an error for every type fails the
// request.
func prepareSources(rts []*schemas.ResourceType, req *listRequest) ([]*listSource, error) {
	var (
		sources  []*listSource
		firstErr error
	)
	for _, rt := range rts {
		src, err := prepareSource(rt, req)
		if err != nil {
			if len(rts) == 1 {
				return nil, err
			}
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		return nil, firstErr
	}
	return sources, nil
}

func prepareSource(rt *schemas.ResourceType, req *listRequest) (*listSource, error) {
	src := &listSource{rt: rt}
	if f := strings.TrimSpace(req.Filter); f != "" {
		filter, err := rt.ParseFilter(f)
		if err != nil {
			return nil, asInvalidFilter(err)
		}
		src.filter = filter
	}
	if req.SortBy != "" {
		p, err := rt.ParseSortBy(req.SortBy)
		if err != nil {
			return nil, err
		}
		src.sortBy = &p
	}
	proj, err := rt.ParseProjection(strings.Join(req.Attributes, ","), strings.Join(req.ExcludedAttributes, ","))
	if err != nil {
		return nil, err
	}
	src.proj = proj
	return src, nil
}

// asInvalidFilter gives a filter parse error the scimType invalidFilter
// unless the parser chose a more precise one.
func asInvalidFilter(err error) error {
	var se *schemas.Error
	if errors.As(err, &se) {
		if se.ScimType == "" || se.ScimType == "invalidPath" {
			return schemas.Errorf("invalidFilter", "%s", se.Detail)
		}
		return se
	}
	return fmt.Errorf("parse filter: %w", err)
}

// listPage is one page of a list request, ready to render.
type listPage struct {
	items      []listItem
	total      int
	startIndex int    // index pagination only
	nextCursor string // cursor pagination only
	cursorMode bool
}

// listItem is one resource of a page: a user with its groups in the
// tenant, or a group.
type listItem struct {
	src    *listSource
	user   *storage.User
	groups []storage.GroupRef
	group  *storage.Group
}

func (it listItem) id() string {
	if it.user != nil {
		return it.user.ID
	}
	return it.group.ID
}

// endpointKey names the endpoint in a cursor's query hash: the resource
// type for /Users and /Groups, "" for a search at the server root.
func endpointKey(rts []*schemas.ResourceType) string {
	if len(rts) == 1 {
		return rts[0].Name
	}
	return ""
}

// pageSize returns the count to use: the requested count clamped to
// [0, MaxPageSize], or MaxPageSize when none was requested.
func (s *Server) pageSize(req *listRequest) int {
	if req.Count == nil {
		return s.cfg.MaxPageSize
	}
	return min(max(*req.Count, 0), s.cfg.MaxPageSize)
}

// list runs a list or search request over the given resource types and
// writes the ListResponse.
func (s *Server) list(w http.ResponseWriter, r *http.Request, rts []*schemas.ResourceType, req *listRequest) error {
	t, err := requestTenant(r)
	if err != nil {
		return err
	}
	sources, err := prepareSources(rts, req)
	if err != nil {
		return err
	}
	var page *listPage
	if req.Cursor != nil {
		page, err = s.cursorPage(r.Context(), t, rts, sources, req)
	} else {
		page, err = s.indexPage(r.Context(), t, sources, req)
	}
	if err != nil {
		return err
	}
	return s.writeList(w, r, t, page)
}

// indexPage reads one page by startIndex and count. For several resource
// types the results are the users followed by the groups, and startIndex
// counts across both.
//
// NOTE: with several resource types, sortBy orders the users and the
// groups each on their own; the two lists are not merged into one order.
func (s *Server) indexPage(ctx context.Context, t *tenants.Tenant, sources []*listSource, req *listRequest) (*listPage, error) {
	start := 1
	if req.StartIndex != nil && *req.StartIndex > 1 {
		start = *req.StartIndex
	}
	descending, err := sortDescending(req.SortOrder)
	if err != nil {
		return nil, err
	}
	page := &listPage{startIndex: start}
	offset, remaining := start-1, s.pageSize(req)
	for _, src := range sources {
		q := storage.Query{
			Filter:     src.filter,
			SortBy:     src.sortBy,
			Descending: descending && src.sortBy != nil,
			Offset:     offset,
			Limit:      remaining,
			Count:      true,
		}
		res, err := s.querySource(ctx, t, src, q)
		if err != nil {
			return nil, err
		}
		page.items = append(page.items, res.items...)
		page.total += res.total
		remaining -= len(res.items)
		offset = max(offset-res.total, 0)
	}
	return page, nil
}

func sortDescending(order string) (bool, error) {
	switch strings.ToLower(order) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, errorf(http.StatusBadRequest, "invalidValue",
		"sortOrder must be ascending or descending, not %q", order)
}

// cursorPage reads one page by cursor (RFC 9865). The position is the
// resource type and the store's key of the last resource returned (its
// sort value and id), and the store continues strictly after that key in
// the requested order: by id, or by sortBy, which RFC 9865 §5 asks cursor
// pages to follow. Resources created or deleted between pages
// neither repeat nor shift the rest.
func (s *Server) cursorPage(ctx context.Context, t *tenants.Tenant, rts []*schemas.ResourceType, sources []*listSource, req *listRequest) (*listPage, error) {
	if req.StartIndex != nil {
		return nil, errorf(http.StatusBadRequest, "invalidValue",
			"startIndex and cursor cannot be combined: use one pagination method")
	}
	descending, err := sortDescending(req.SortOrder)
	if err != nil {
		return nil, err
	}

	hash := queryHash(t.Key, endpointKey(rts), strings.TrimSpace(req.Filter),
		strings.TrimSpace(req.SortBy), strings.ToLower(req.SortOrder))
	state := cursorState{Phase: sources[0].rt.Name, Query: hash}
	if *req.Cursor != "" {
		var err error
		state, err = decodeCursor(s.cursorKey(), *req.Cursor, hash, time.Now())
		if err != nil {
			return nil, err
		}
	}
	phase := slices.IndexFunc(sources, func(src *listSource) bool { return src.rt.Name == state.Phase })
	if phase < 0 {
		return nil, errorf(http.StatusBadRequest, scimTypeInvalidCursor,
			"the cursor is invalid: start again with an empty cursor")
	}

	page := &listPage{cursorMode: true}
	remaining, more, lastKey := s.pageSize(req), false, ""
	for i, src := range sources {
		q := storage.Query{
			Filter:     src.filter,
			SortBy:     src.sortBy,
			Descending: descending && src.sortBy != nil,
			Count:      true,
		}
		switch {
		case i < phase:
			q.Limit = 0 // counted for totalResults, already returned
		case i == phase:
			q.AfterKey, q.Limit = state.After, remaining
		default:
			q.Limit = remaining
		}
		res, err := s.querySource(ctx, t, src, q)
		if err != nil {
			return nil, err
		}
		page.total += res.total
		switch {
		case i == phase && q.Limit == 0:
			// A count of 0 reads nothing, so the store cannot tell what
			// follows the position; anything counted may.
			more = more || res.more || res.total > 0
		case i == phase:
			more = more || res.more
		case i > phase:
			// Read from the start, so the count includes what was left.
			more = more || res.total > len(res.items)
		}
		if i >= phase {
			page.items = append(page.items, res.items...)
			remaining -= len(res.items)
			if len(res.items) > 0 {
				lastKey = res.lastKey
			}
		}
	}

	if more {
		next := state
		if n := len(page.items); n > 0 {
			next.Phase, next.After = page.items[n-1].src.rt.Name, lastKey
		}
		next.Expires = time.Now().Add(s.cfg.CursorTTL).Unix()
		page.nextCursor = encodeCursor(s.cursorKey(), next)
	}
	return page, nil
}

// sourcePage is one page of one resource type.
type sourcePage struct {
	items []listItem
	total int
	// more reports whether results follow the last one returned.
	more bool
	// lastKey is the store's position of the last item
	// (storage.Page.LastKey).
	lastKey string
}

// querySource runs q against one resource type.
func (s *Server) querySource(ctx context.Context, t *tenants.Tenant, src *listSource, q storage.Query) (*sourcePage, error) {
	switch src.rt {
	case schemas.User:
		// Groups are read even when not returned: the version tag covers them.
		page, err := s.svc.QueryUsers(ctx, t, q, true)
		if err != nil {
			return nil, fmt.Errorf("query users: %w", err)
		}
		out := &sourcePage{total: page.Total, more: page.More, lastKey: page.LastKey}
		for _, u := range page.Users {
			out.items = append(out.items, listItem{src: src, user: u, groups: page.Groups[u.ID]})
		}
		return out, nil
	case schemas.Group:
		page, err := s.svc.QueryGroups(ctx, t, q)
		if err != nil {
			return nil, fmt.Errorf("query groups: %w", err)
		}
		out := &sourcePage{total: page.Total, more: page.More, lastKey: page.LastKey}
		for _, g := range page.Groups {
			out.items = append(out.items, listItem{src: src, group: g})
		}
		return out, nil
	}
	return nil, fmt.Errorf("query: unknown resource type %q", src.rt.Name)
}

// writeList streams a ListResponse: the resources are encoded one at a
// time and group members in pieces, so no page is held in memory as one
// document.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, t *tenants.Tenant, page *listPage) error {
	head := map[string]any{
		"schemas":      []string{schemas.ListResponseURN},
		"totalResults": page.total,
		"itemsPerPage": len(page.items),
	}
	if page.cursorMode {
		if page.nextCursor != "" {
			head["nextCursor"] = page.nextCursor
		}
	} else {
		head["startIndex"] = page.startIndex
	}
	headJSON, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("encode list response: %w", err)
	}

	out := newBufferedResponse(w, http.StatusOK)
	out.Write(headJSON[:len(headJSON)-1])
	out.Write([]byte(`,"Resources":[`))
	base := baseURL(r)
	for i, it := range page.items {
		if i > 0 {
			out.Write([]byte{','})
		}
		if it.user != nil {
			doc := userDocument(base, it.user, it.groups, it.src.proj.Includes("groups"))
			err = writeDocument(out, it.src.proj.Apply(doc))
		} else {
			err = s.writeGroupJSON(r.Context(), out, t, base, it.group, it.src.proj)
		}
		if err != nil {
			return out.fail(err)
		}
	}
	out.Write([]byte("]}\n"))
	return out.finish()
}

// writeDocument encodes one resource document without a newline.
func writeDocument(out *bufferedResponse, doc map[string]any) error {
	body, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode resource: %w", err)
	}
	_, err = out.Write(body)
	return err
}

// listRoot serves GET on the base URL, a query over the users and groups
// of the caller's tenant (RFC 7644 §3.4.2.1).
func (s *Server) listRoot(w http.ResponseWriter, r *http.Request) error {
	req, err := listRequestFromURL(r)
	if err != nil {
		return err
	}
	return s.list(w, r, schemas.ResourceTypes(), req)
}

// searchRoot serves POST /.search at the base URL: the users and groups
// of the caller's tenant.
func (s *Server) searchRoot(w http.ResponseWriter, r *http.Request) error {
	return s.search(w, r, schemas.ResourceTypes())
}

// search serves POST /.search with a SearchRequest body.
func (s *Server) search(w http.ResponseWriter, r *http.Request, rts []*schemas.ResourceType) error {
	var req listRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Schemas) > 0 && !slices.Contains(req.Schemas, schemas.SearchRequestURN) {
		return schemas.Errorf("invalidSyntax", "schemas must contain %s", schemas.SearchRequestURN)
	}
	return s.list(w, r, rts, &req)
}

// listResources serves GET on a resource endpoint.
func (s *Server) listResources(w http.ResponseWriter, r *http.Request, rt *schemas.ResourceType) error {
	req, err := listRequestFromURL(r)
	if err != nil {
		return err
	}
	return s.list(w, r, []*schemas.ResourceType{rt}, req)
}
