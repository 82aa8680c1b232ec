package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// user is the identity of a user the benchmark created.
type user struct {
	ID, UserName, ExternalID string
}

// sandbox is a sandbox with a client for its SCIM endpoint and the users
// that are members of its groups.
type sandbox struct {
	ID      string
	scim    *client
	members []int // indices into dataset.users
}

// dataset is everything the workloads need to know about what was built.
type dataset struct {
	users       []user
	bigGroup    string // group id in the main account
	smallGroup  string
	bigMembers  int // the first bigMembers users are members of the big group
	smallMember int // the first smallMember users are members of the small group
	sandboxes   []*sandbox
}

// bench holds the running benchmark's clients and results.
type bench struct {
	log  *slog.Logger
	cfg  *config
	srv  *server
	rep  *report
	main *client
	ds   *dataset
}

func newBench(ctx context.Context, log *slog.Logger, cfg *config, srv *server, rep *report) (*bench, error) {
	hc := newHTTPClient()
	admin := adminClient{&client{http: hc, base: srv.baseURL + "/admin/v1", token: srv.adminToken}}
	token, err := admin.issueCredential(ctx, "main")
	if err != nil {
		return nil, fmt.Errorf("issue main-account credential: %w", err)
	}
	b := &bench{
		log: log, cfg: cfg, srv: srv, rep: rep,
		main: &client{http: hc, base: srv.baseURL + "/scim/v2", token: token},
		ds:   &dataset{users: make([]user, cfg.users)},
	}
	for s := range cfg.sandboxes {
		id := fmt.Sprintf("bench-%d", s+1)
		if err := admin.createSandbox(ctx, id, fmt.Sprintf("Benchmark sandbox %d", s+1)); err != nil {
			return nil, fmt.Errorf("create sandbox %s: %w", id, err)
		}
		token, err := admin.issueCredential(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("issue credential for sandbox %s: %w", id, err)
		}
		base := srv.baseURL + "/sandboxes/" + id + "/scim/v2"
		b.ds.sandboxes = append(b.ds.sandboxes, &sandbox{ID: id, scim: &client{http: hc, base: base, token: token}})
	}
	return b, nil
}

var (
	givenNames  = []string{"Ada", "Barbara", "Carlos", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ingrid", "Jamal", "Keiko", "Luis", "Maya", "Nikolai", "Olga", "Priya"}
	familyNames = []string{"Jensen", "Okafor", "Tanaka", "Novak", "Silva", "Kowalski", "Haddad", "Lindqvist", "Moreau", "Chen", "Garcia", "Ivanova", "Mensah", "Rossi", "Schmidt", "Walker"}
	departments = []string{"Engineering", "Sales", "Finance", "Support", "Marketing", "Legal", "Operations"}
)

// newUser returns user number i and its SCIM body. managerID is the id of
// its manager, or "" for none.
func newUser(i int, prefix, managerID string) (user, map[string]any) {
	given, family := givenNames[i%len(givenNames)], familyNames[(i/len(givenNames))%len(familyNames)]
	u := user{
		UserName:   fmt.Sprintf("%s.%s.%s%07d@example.com", lower(given), lower(family), prefix, i),
		ExternalID: fmt.Sprintf("00u%s%014d", prefix, i),
	}
	enterprise := map[string]any{
		"employeeNumber": fmt.Sprintf("%s%07d", prefix, i),
		"department":     departments[i%len(departments)],
		"costCenter":     fmt.Sprintf("CC-%03d", i%200),
	}
	if managerID != "" {
		enterprise["manager"] = map[string]any{"value": managerID}
	}
	body := map[string]any{
		"schemas":     []string{userURN, enterpriseURN},
		"userName":    u.UserName,
		"externalId":  u.ExternalID,
		"active":      true,
		"displayName": given + " " + family,
		"name": map[string]any{
			"givenName": given, "familyName": family, "formatted": given + " " + family,
		},
		"emails": []map[string]any{
			{"type": "work", "value": u.UserName, "primary": true},
			{"type": "home", "value": fmt.Sprintf("%s%07d@mail.example.net", lower(family), i)},
		},
		"phoneNumbers": []map[string]any{
			{"type": "work", "value": fmt.Sprintf("+1 555 %03d %04d", i/10000%1000, i%10000)},
		},
		"title":       "Member of staff",
		"locale":      "en-US",
		"timezone":    "Europe/Berlin",
		enterpriseURN: enterprise,
	}
	return u, body
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// createUser posts the body and returns the new id.
func (c *client) createUser(ctx context.Context, body map[string]any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/Users", body, &out, http.StatusCreated); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("POST /Users: response has no id")
	}
	return out.ID, nil
}

func (c *client) createGroup(ctx context.Context, name string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"schemas": []string{groupURN}, "displayName": name}
	if err := c.do(ctx, http.MethodPost, "/Groups", body, &out, http.StatusCreated); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("POST /Groups: response has no id")
	}
	return out.ID, nil
}

// buildDataset creates the users in rounds, measures lookups once the
// dataset reaches 1,000 users, then creates the groups and pushes their
// memberships.
func (b *bench) buildDataset(ctx context.Context) error {
	// Rounds end at 100 and 1,000 users and then every 1,000 users, so
	// that the manager of user i (user i/10) always exists before user i
	// is created.
	bounds := []int{min(100, b.cfg.users)}
	for n := 1000; n < b.cfg.users; n += 1000 {
		if n > bounds[len(bounds)-1] {
			bounds = append(bounds, n)
		}
	}
	if bounds[len(bounds)-1] != b.cfg.users {
		bounds = append(bounds, b.cfg.users)
	}

	start, from := time.Now(), 0
	var posted []time.Duration
	for _, to := range bounds {
		lat, err := b.createUsers(ctx, from, to)
		if err != nil {
			return err
		}
		posted = append(posted, lat...)
		if to == 1000 && b.cfg.users > 1000 {
			b.measureSmallLookups(ctx)
		}
		from = to
		b.log.Info("users created", "count", to, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	b.rep.build = append(b.rep.build, buildStep{
		Name: "create users (POST /Users)", Requests: len(posted), Clients: b.cfg.buildClients,
		Elapsed: time.Since(start), P50: percentile(posted, 0.5), P99: percentile(posted, 0.99),
	})
	if b.cfg.users <= 1000 {
		b.measureSmallLookups(ctx)
	}
	return b.buildGroups(ctx)
}

// createUsers creates users [from, to) from buildClients goroutines and
// returns the latency of each POST.
func (b *bench) createUsers(ctx context.Context, from, to int) ([]time.Duration, error) {
	var next atomic.Int64
	next.Store(int64(from))
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for range b.cfg.buildClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				manager := ""
				if i >= 100 {
					manager = b.ds.users[i/10].ID
				}
				u, body := newUser(i, "", manager)
				t := time.Now()
				id, err := b.main.createUser(ctx, body)
				d := time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("create user %d: %w", i, err)
				}
				lat = append(lat, d)
				mu.Unlock()
				if err != nil {
					return
				}
				u.ID = id
				b.ds.users[i] = u
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return lat, firstErr
}

// buildGroups creates the big and small main-account groups and each
// sandbox's groups, and pushes their members with PATCH add requests of
// cfg.batch members each, one request at a time per group as Okta does.
func (b *bench) buildGroups(ctx context.Context) error {
	var err error
	if b.ds.bigGroup, err = b.main.createGroup(ctx, "bench-big"); err != nil {
		return fmt.Errorf("create big group: %w", err)
	}
	if b.ds.smallGroup, err = b.main.createGroup(ctx, "bench-small"); err != nil {
		return fmt.Errorf("create small group: %w", err)
	}
	b.ds.bigMembers, b.ds.smallMember = b.cfg.bigGroup, b.cfg.smallGroup

	big, err := b.pushMembers(ctx, b.main, b.ds.bigGroup, seq(0, b.cfg.bigGroup))
	if err != nil {
		return fmt.Errorf("push members of the big group: %w", err)
	}
	b.rep.bigPush = big
	if _, err := b.pushMembers(ctx, b.main, b.ds.smallGroup, seq(0, b.cfg.smallGroup)); err != nil {
		return fmt.Errorf("push members of the small group: %w", err)
	}
	return b.buildSandboxGroups(ctx)
}

// pushStats are the latencies of the PATCH add batches of one group, in
// the order they were sent.
type pushStats struct {
	Batches []time.Duration
	Elapsed time.Duration
}

func (b *bench) pushMembers(ctx context.Context, c *client, groupID string, members []int) (*pushStats, error) {
	st := &pushStats{}
	start := time.Now()
	for lo := 0; lo < len(members); lo += b.cfg.batch {
		hi := min(lo+b.cfg.batch, len(members))
		value := make([]map[string]string, 0, hi-lo)
		for _, m := range members[lo:hi] {
			value = append(value, map[string]string{"value": b.ds.users[m].ID})
		}
		t := time.Now()
		err := c.patch(ctx, "/Groups/"+groupID, map[string]any{"op": "add", "path": "members", "value": value})
		if err != nil {
			return nil, fmt.Errorf("add members %d to %d of group %s: %w", lo, hi, groupID, err)
		}
		st.Batches = append(st.Batches, time.Since(t))
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// buildSandboxGroups creates groupsPerSandbox groups in every sandbox and
// gives each sandboxMembers members. Group g of sandbox s takes a
// consecutive run of users, so every sandbox has its own users. The runs
// wrap around when the sandboxes need more users than exist.
func (b *bench) buildSandboxGroups(ctx context.Context) error {
	type job struct{ s, g int }
	jobs := make(chan job)
	errc := make(chan error, b.cfg.buildClients)
	var wg sync.WaitGroup
	start := time.Now()
	for range b.cfg.buildClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := b.buildSandboxGroup(ctx, j.s, j.g); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	// Feed until every job is taken or a worker fails.
	var firstErr error
feed:
	for s := range b.ds.sandboxes {
		for g := range b.cfg.groupsPerSandbox {
			select {
			case jobs <- job{s, g}:
			case firstErr = <-errc:
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		select {
		case firstErr = <-errc:
		default:
		}
	}
	if firstErr != nil {
		return firstErr
	}

	for s, sb := range b.ds.sandboxes {
		seen := make(map[int]bool)
		for g := range b.cfg.groupsPerSandbox {
			for _, m := range b.sandboxGroupMembers(s, g) {
				if !seen[m] {
					seen[m] = true
					sb.members = append(sb.members, m)
				}
			}
		}
	}
	groups := len(b.ds.sandboxes) * b.cfg.groupsPerSandbox
	b.rep.build = append(b.rep.build, buildStep{
		Name:     fmt.Sprintf("create %d sandbox groups and push their members", groups),
		Requests: groups * (1 + (b.cfg.sandboxMembers+b.cfg.batch-1)/b.cfg.batch), Clients: b.cfg.buildClients,
		Elapsed: time.Since(start),
	})
	return nil
}

func (b *bench) sandboxGroupMembers(s, g int) []int {
	first := (s*b.cfg.groupsPerSandbox + g) * b.cfg.sandboxMembers
	members := make([]int, 0, b.cfg.sandboxMembers)
	for k := range min(b.cfg.sandboxMembers, b.cfg.users) {
		members = append(members, (first+k)%b.cfg.users)
	}
	return members
}

func (b *bench) buildSandboxGroup(ctx context.Context, s, g int) error {
	sb := b.ds.sandboxes[s]
	id, err := sb.scim.createGroup(ctx, fmt.Sprintf("team-%02d", g))
	if err != nil {
		return fmt.Errorf("create group %d of sandbox %s: %w", g, sb.ID, err)
	}
	if _, err := b.pushMembers(ctx, sb.scim, id, b.sandboxGroupMembers(s, g)); err != nil {
		return fmt.Errorf("sandbox %s: %w", sb.ID, err)
	}
	return nil
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
