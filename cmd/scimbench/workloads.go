package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// workload is one measured request pattern. newOp is called once per
// client count, so that per-worker state starts fresh.
type workload struct {
	name  string
	newOp func(clients int) operation
}

// Workload names that the report's ratios refer to.
const (
	wlPost          = "POST /Users (create)"
	wlProvision     = "Okta provisioning: GET filter userName eq, then POST"
	wlUserName      = "GET /Users?filter=userName eq (case variants)"
	wlExternalID    = "GET /Users?filter=externalId eq"
	wlGetUser       = "GET /Users/{id}"
	wlActive        = "PATCH /Users/{id} active false/true"
	wlMemberSmall   = "PATCH member remove/add, small group"
	wlMemberBig     = "PATCH member remove/add, big group"
	wlMemberSmallEx = "PATCH member remove/add?excludedAttributes=members, small group"
	wlMemberBigEx   = "PATCH member remove/add?excludedAttributes=members, big group"
	wlExcludedSmall = "GET /Groups/{id}?excludedAttributes=members, small group"
	wlExcludedBig   = "GET /Groups/{id}?excludedAttributes=members, big group"
	wlSandboxList   = "sandbox GET /Users?count=100 (first page)"
	wlSandboxLookup = "sandbox GET /Users?filter=userName eq"
)

func (b *bench) workloads() []workload {
	return []workload{
		{wlPost, b.postOp},
		{wlProvision, b.provisionOp},
		{wlUserName, func(c int) operation { return b.lookupOp(c, b.cfg.users, true) }},
		{wlExternalID, func(c int) operation { return b.lookupOp(c, b.cfg.users, false) }},
		{wlGetUser, b.getUserOp},
		{wlActive, b.activeOp},
		{wlMemberSmall, func(c int) operation { return b.memberOp(c, b.ds.smallGroup, b.ds.smallMember, "") }},
		{wlMemberBig, func(c int) operation { return b.memberOp(c, b.ds.bigGroup, b.ds.bigMembers, "") }},
		{wlMemberSmallEx, func(c int) operation { return b.memberOp(c, b.ds.smallGroup, b.ds.smallMember, excludeMembers) }},
		{wlMemberBigEx, func(c int) operation { return b.memberOp(c, b.ds.bigGroup, b.ds.bigMembers, excludeMembers) }},
		{wlExcludedSmall, func(int) operation { return b.groupExcludedOp(b.ds.smallGroup) }},
		{wlExcludedBig, func(int) operation { return b.groupExcludedOp(b.ds.bigGroup) }},
		{wlSandboxList, b.sandboxListOp},
		{wlSandboxLookup, b.sandboxLookupOp},
	}
}

func (b *bench) runWorkloads(ctx context.Context) error {
	for _, wl := range b.workloads() {
		for _, c := range b.cfg.clients {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := measure(ctx, wl.name, c, b.cfg.ops, b.cfg.duration, wl.newOp(c))
			b.log.Info("measured", "workload", wl.name, "clients", c, "ops", r.Ops, "errors", r.Errors,
				"ops_per_sec", fmt.Sprintf("%.1f", r.opsPerSec()), "p50", r.p(0.5), "p99", r.p(0.99))
			if r.FirstErr != "" {
				b.log.Warn("workload errors", "workload", wl.name, "clients", c, "first", r.FirstErr)
			}
			b.rep.results = append(b.rep.results, r)
		}
	}
	for _, cursor := range []bool{false, true} {
		for _, c := range b.cfg.clients {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := b.pageAll(ctx, c, cursor)
			b.log.Info("paged", "cursor", cursor, "clients", c, "pages", p.Pages, "errors", p.Errors,
				"first_p50", percentile(p.First, 0.5), "last_p50", percentile(p.Last, 0.5))
			b.rep.paging = append(b.rep.paging, p)
		}
	}
	return nil
}

// rngs returns one random source per worker, seeded so that runs pick the
// same users.
func rngs(clients int) []*rand.Rand {
	r := make([]*rand.Rand, clients)
	for w := range r {
		r[w] = rand.New(rand.NewPCG(uint64(w)+1, uint64(clients)))
	}
	return r
}

// postOp creates users that are not part of the dataset, named after the
// client count so that runs at different counts never collide.
func (b *bench) postOp(clients int) operation {
	return func(ctx context.Context, w, i int) error {
		_, body := newUser(i, fmt.Sprintf("p%d-", clients), "")
		_, err := b.main.createUser(ctx, body)
		return err
	}
}

// provisionOp does what Okta does for each assigned user: look the
// userName up, and create the user when the lookup finds none.
func (b *bench) provisionOp(clients int) operation {
	return func(ctx context.Context, w, i int) error {
		u, body := newUser(i, fmt.Sprintf("o%d-", clients), "")
		if err := b.main.lookupOne(ctx, "/Users", "userName", u.UserName, 0); err != nil {
			return err
		}
		_, err := b.main.createUser(ctx, body)
		return err
	}
}

// caseVariant returns userName in one of four spellings; userName matches
// case-insensitively (RFC 7643 §4.1.1), so each must find the user.
func caseVariant(s string, k int) string {
	switch k % 4 {
	case 1:
		return strings.ToUpper(s)
	case 2:
		return strings.ToUpper(s[:1]) + s[1:]
	case 3:
		b := []byte(s)
		for i := 0; i < len(b); i += 2 {
			b[i] = strings.ToUpper(string(b[i]))[0]
		}
		return string(b)
	}
	return s
}

// lookupOp looks up a random user among the first n by userName (in a
// case variant) or by externalId.
func (b *bench) lookupOp(clients, n int, byUserName bool) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := b.ds.users[r[w].IntN(n)]
		if byUserName {
			return b.main.lookupOne(ctx, "/Users", "userName", caseVariant(u.UserName, i), 1)
		}
		return b.main.lookupOne(ctx, "/Users", "externalId", u.ExternalID, 1)
	}
}

func (b *bench) getUserOp(clients int) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := b.ds.users[r[w].IntN(len(b.ds.users))]
		return b.main.do(ctx, http.MethodGet, "/Users/"+u.ID, nil, nil, http.StatusOK)
	}
}

// activeOp deactivates and reactivates users the way Okta does: a
// path-less replace whose value is {"active": false}.
func (b *bench) activeOp(clients int) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := b.ds.users[r[w].IntN(len(b.ds.users))]
		op := map[string]any{"op": "replace", "value": map[string]any{"active": i%2 == 1}}
		return b.main.patch(ctx, "/Users/"+u.ID, op)
	}
}

// excludeMembers is the query that requests a resource without its
// members (RFC 7644 §3.9); PATCH accepts it too (§3.5.2).
const excludeMembers = "?excludedAttributes=members"

// memberOp removes a member of the group and adds it back in the next
// operation of the same worker, sending query (empty or excludeMembers)
// with each PATCH. Without it scimd returns the whole group, members
// included, as Okta receives it. Workers use disjoint members, so the
// group keeps its size except for at most one member per worker when the
// time limit cuts a pair in half.
func (b *bench) memberOp(clients int, groupID string, members int, query string) operation {
	done := make([]int, clients)
	return func(ctx context.Context, w, i int) error {
		n := done[w]
		done[w]++
		u := b.ds.users[(w+clients*(n/2))%members]
		op := "remove"
		value := any(nil)
		path := fmt.Sprintf("members[value eq %q]", u.ID)
		if n%2 == 1 {
			op, path = "add", "members"
			value = []map[string]string{{"value": u.ID}}
		}
		patch := map[string]any{"op": op, "path": path}
		if value != nil {
			patch["value"] = value
		}
		return b.main.patch(ctx, "/Groups/"+groupID+query, patch)
	}
}

func (b *bench) groupExcludedOp(groupID string) operation {
	return func(ctx context.Context, w, i int) error {
		return b.main.do(ctx, http.MethodGet, "/Groups/"+groupID+excludeMembers, nil, nil, http.StatusOK)
	}
}

func (b *bench) sandboxListOp(clients int) operation {
	return func(ctx context.Context, w, i int) error {
		sb := b.ds.sandboxes[i%len(b.ds.sandboxes)]
		lr, err := sb.scim.list(ctx, "/Users", url.Values{"startIndex": {"1"}, "count": {"100"}})
		if err != nil {
			return err
		}
		if want := min(100, len(sb.members)); len(lr.Resources) != want {
			return fmt.Errorf("sandbox %s GET /Users: got %d resources, want %d", sb.ID, len(lr.Resources), want)
		}
		return nil
	}
}

func (b *bench) sandboxLookupOp(clients int) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		sb := b.ds.sandboxes[i%len(b.ds.sandboxes)]
		u := b.ds.users[sb.members[r[w].IntN(len(sb.members))]]
		return sb.scim.lookupOne(ctx, "/Users", "userName", u.UserName, 1)
	}
}

// measureSmallLookups measures the userName and externalId lookups at one
// client while the dataset has 1,000 users (or all of them, if fewer), for
// comparison with the same lookups at full size.
func (b *bench) measureSmallLookups(ctx context.Context) {
	n := min(1000, b.cfg.users)
	for _, byUserName := range []bool{true, false} {
		name := wlExternalID
		if byUserName {
			name = wlUserName
		}
		r := measure(ctx, name, 1, b.cfg.ops, b.cfg.duration, b.lookupOp(1, n, byUserName))
		b.log.Info("measured at 1,000 users", "workload", name, "ops", r.Ops, "errors", r.Errors, "p50", r.p(0.5))
		b.rep.small = append(b.rep.small, r)
	}
	b.rep.smallUsers = n
}

// paging is the outcome of paging through all users from each of Clients
// concurrent clients.
type paging struct {
	Cursor      bool
	Clients     int
	Pages       int
	Errors      int
	FirstErr    string
	Incomplete  int // passes stopped by --paging-timeout
	First, Last []time.Duration
	All         []time.Duration
	Passes      []time.Duration
	Users       int // users read by a complete pass
}

func (b *bench) pageAll(ctx context.Context, clients int, cursor bool) *paging {
	p := &paging{Cursor: cursor, Clients: clients}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.pagingTimeout)
	defer cancel()
	type pass struct {
		lat      []time.Duration
		lastFull int // index in lat of the last page that was full
		elapsed  time.Duration
		users    int
		err      error
	}
	out := make(chan pass, clients)
	for range clients {
		go func() {
			var ps pass
			t := time.Now()
			ps.lat, ps.lastFull, ps.users, ps.err = b.pagePass(ctx, cursor)
			ps.elapsed = time.Since(t)
			out <- ps
		}()
	}
	for range clients {
		ps := <-out
		p.Pages += len(ps.lat)
		p.All = append(p.All, ps.lat...)
		if ps.err != nil {
			if ctx.Err() != nil {
				p.Incomplete++
			} else {
				p.Errors++
				if p.FirstErr == "" {
					p.FirstErr = ps.err.Error()
				}
			}
			continue
		}
		if ps.lastFull >= 0 {
			p.First = append(p.First, ps.lat[0])
			p.Last = append(p.Last, ps.lat[ps.lastFull])
		}
		p.Passes = append(p.Passes, ps.elapsed)
		p.Users = ps.users
	}
	return p
}

// pagePass reads every user 100 at a time, by startIndex or by cursor.
// With RFC 9865 cursors, an empty cursor parameter requests the first
// page, each response's nextCursor leads to the next, and the last page
// has none. It returns each page's latency, the index of the last full
// page and the number of users read. The number of pages is bounded by
// the users the dataset can hold.
//
// The final page is usually partial and cheaper, so the deepest full page
// is the one that shows whether a page costs more the further it is from
// the start.
func (b *bench) pagePass(ctx context.Context, cursor bool) (lat []time.Duration, lastFull, seen int, err error) {
	const count = 100
	next, start := "", 1
	lastFull = -1
	maxPages := (len(b.ds.users)+2*b.cfg.ops*len(b.cfg.clients))/count + 10
	for range maxPages {
		params := url.Values{"count": {strconv.Itoa(count)}}
		if cursor {
			params.Set("cursor", next)
		} else {
			params.Set("startIndex", strconv.Itoa(start))
		}
		t := time.Now()
		lr, err := b.main.list(ctx, "/Users", params)
		d := time.Since(t)
		if err != nil {
			return lat, lastFull, seen, err
		}
		lat = append(lat, d)
		if len(lr.Resources) == count {
			lastFull = len(lat) - 1
		}
		seen += len(lr.Resources)
		if cursor {
			if lr.NextCursor == "" {
				return lat, lastFull, seen, nil
			}
			next = lr.NextCursor
			continue
		}
		start += len(lr.Resources)
		if len(lr.Resources) == 0 || start > lr.TotalResults {
			return lat, lastFull, seen, nil
		}
	}
	return lat, lastFull, seen, fmt.Errorf("paging by cursor=%v did not end after %d pages", cursor, maxPages)
}
