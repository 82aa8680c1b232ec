package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// buildStep is one step of building the dataset.
type buildStep struct {
	Name     string
	Requests int
	Clients  int
	Elapsed  time.Duration
	P50, P99 time.Duration // zero when not recorded per request
}

// report collects everything the benchmark measured.
type report struct {
	cfg     *config
	started time.Time
	args    []string

	build      []buildStep
	bigPush    *pushStats
	results    []*result
	small      []*result // lookups at smallUsers users
	smallUsers int
	paging     []*paging

	// baselines[0] is the raw engine baseline that the insert ratio uses;
	// others follow for comparison.
	baselines   []*baselineResult
	baselineErr string

	rssAfterBuild, peakRSS, hwm int64
	dataBytes                   int64 // size of scimd's SQLite data directory at the end
	elapsed                     time.Duration
	source                      string
}

func newReport(cfg *config, started time.Time) *report {
	return &report{cfg: cfg, started: started, args: os.Args[1:]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// write renders the report as markdown to path, or to standard output
// when path is "-".
func (r *report) write(path string) error {
	var sb strings.Builder
	r.writeHeader(&sb)
	r.writeDataset(&sb)
	r.writeWorkloads(&sb)
	r.writePaging(&sb)
	r.writeMemory(&sb)
	r.writeBaseline(&sb)
	r.writeRatios(&sb)
	if path == "-" {
		_, err := os.Stdout.WriteString(sb.String())
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *report) writeHeader(sb *strings.Builder) {
	fmt.Fprintf(sb, "# scimd benchmark run, %s\n\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(sb, "Written by `cmd/scimbench`. Total run time %s.\n\n", r.elapsed.Round(time.Second))
	fmt.Fprintf(sb, "Command:\n\n    go run ./cmd/scimbench %s\n\n", strings.Join(r.args, " "))
	store := "embedded SQLite store in a fresh temporary data directory"
	if r.cfg.mongoURI != "" {
		store = "MongoDB (`--mongodb-uri`), fresh database"
	}
	fmt.Fprintf(sb, "## Machine\n\n| item | value |\n| --- | --- |\n")
	fmt.Fprintf(sb, "| CPUs (runtime.NumCPU) | %d |\n", runtime.NumCPU())
	fmt.Fprintf(sb, "| CPU model | %s |\n", procField("/proc/cpuinfo", "model name"))
	fmt.Fprintf(sb, "| memory | %s |\n", procField("/proc/meminfo", "MemTotal"))
	fmt.Fprintf(sb, "| kernel | %s |\n", strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")))
	fmt.Fprintf(sb, "| Go | %s %s/%s |\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(sb, "| store | %s |\n", store)
	fmt.Fprintf(sb, "| scimd source | %s |\n\n", r.source)
	sb.WriteString("scimd, the benchmark and the baseline run on the same machine, so the client's " +
		"CPU use is part of every figure. Latency is measured by the client around one request " +
		"(one request pair for Okta provisioning), over a kept-alive connection to 127.0.0.1.\n\n")
}

func (r *report) writeDataset(sb *strings.Builder) {
	c := r.cfg
	fmt.Fprintf(sb, "## Dataset\n\n")
	fmt.Fprintf(sb, "- %d users created through `POST /Users` by %d concurrent clients, each with userName, "+
		"name, displayName, work and home emails, a phone number, externalId and the enterprise extension "+
		"(employeeNumber, department, costCenter, and a manager for every user from the 101st on)\n", c.users, c.buildClients)
	fmt.Fprintf(sb, "- main-account groups: a big group of %d members and a small group of %d, pushed by "+
		"`PATCH` add in batches of %d members\n", c.bigGroup, c.smallGroup, c.batch)
	fmt.Fprintf(sb, "- %d sandboxes with %d groups each, %d members per group\n", c.sandboxes, c.groupsPerSandbox, c.sandboxMembers)
	fmt.Fprintf(sb, "- the `POST /Users` and provisioning workloads add up to %d users each per client count\n", c.ops)
	fmt.Fprintf(sb, "- limits per workload and client count: %d operations or %s, whichever comes first\n\n", c.ops, c.duration)

	fmt.Fprintf(sb, "| build step | requests | clients | time | requests/s | p50 | p99 |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range r.build {
		p50, p99 := "", ""
		if s.P50 > 0 {
			p50, p99 = ms(s.P50), ms(s.P99)
		}
		fmt.Fprintf(sb, "| %s | %d | %d | %s | %.1f | %s | %s |\n", s.Name, s.Requests, s.Clients,
			s.Elapsed.Round(time.Millisecond), float64(s.Requests)/s.Elapsed.Seconds(), p50, p99)
	}
	if p := r.bigPush; p != nil && len(p.Batches) > 0 {
		b := append([]time.Duration(nil), p.Batches...)
		fmt.Fprintf(sb, "\nBig group membership push: %d PATCH requests of up to %d members, one at a time, "+
			"%s in total; first batch %s, last batch %s, p50 %s, p99 %s.\n",
			len(p.Batches), c.batch, p.Elapsed.Round(time.Millisecond), ms(p.Batches[0]),
			ms(p.Batches[len(p.Batches)-1]), ms(percentile(b, 0.5)), ms(percentile(b, 0.99)))
	}
	sb.WriteString("\n")
}

func writeResultTable(sb *strings.Builder, rs []*result) {
	sb.WriteString("| clients | ops | errors | ops/s | p50 | p99 |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, res := range rs {
		fmt.Fprintf(sb, "| %d | %d | %d | %.1f | %s | %s |\n", res.Clients, res.Ops, res.Errors,
			res.opsPerSec(), ms(res.p(0.5)), ms(res.p(0.99)))
	}
	for _, res := range rs {
		if res.FirstErr != "" {
			fmt.Fprintf(sb, "\nFirst error at %d clients: `%s`\n", res.Clients, truncate(res.FirstErr, 300))
		}
	}
	sb.WriteString("\n")
}

func (r *report) writeWorkloads(sb *strings.Builder) {
	sb.WriteString("## Workloads over HTTP\n\n")
	var names []string
	byName := map[string][]*result{}
	for _, res := range r.results {
		if byName[res.Name] == nil {
			names = append(names, res.Name)
		}
		byName[res.Name] = append(byName[res.Name], res)
	}
	for _, name := range names {
		fmt.Fprintf(sb, "### %s\n\n", name)
		writeResultTable(sb, byName[name])
	}
	if len(r.small) > 0 {
		fmt.Fprintf(sb, "### Lookups while the dataset had %d users\n\n", r.smallUsers)
		for _, res := range r.small {
			fmt.Fprintf(sb, "%s:\n\n", res.Name)
			writeResultTable(sb, []*result{res})
		}
	}
}

func (r *report) writePaging(sb *strings.Builder) {
	sb.WriteString("## Paging through all users, count=100\n\n")
	sb.WriteString("Each client reads every user once, page by page. \"last full page\" is the deepest " +
		"page that returned 100 users (the final page is usually partial). First and last full page " +
		"latencies are medians over the clients' complete passes.\n\n")
	sb.WriteString("| paging | clients | users per pass | pages | errors | timed out | first page | last full page | all pages p50 | all pages p99 | pass time (median) |\n")
	sb.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range r.paging {
		kind := "startIndex"
		if p.Cursor {
			kind = "cursor"
		}
		fmt.Fprintf(sb, "| %s | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s |\n", kind, p.Clients, p.Users,
			p.Pages, p.Errors, p.Incomplete, ms(percentile(p.First, 0.5)), ms(percentile(p.Last, 0.5)),
			ms(percentile(p.All, 0.5)), ms(percentile(p.All, 0.99)), percentile(p.Passes, 0.5).Round(time.Millisecond))
	}
	for _, p := range r.paging {
		if p.FirstErr != "" {
			fmt.Fprintf(sb, "\nFirst error (cursor=%v, %d clients): `%s`\n", p.Cursor, p.Clients, truncate(p.FirstErr, 300))
		}
	}
	sb.WriteString("\n")
}

func (r *report) writeMemory(sb *strings.Builder) {
	sb.WriteString("## scimd memory\n\n")
	sb.WriteString("Resident set size of the scimd process, read from `/proc/<pid>/status` every 100 ms " +
		"(VmRSS) and once at the end (VmHWM, the kernel's peak). MB is 10^6 bytes.\n\n")
	fmt.Fprintf(sb, "| measure | value |\n| --- | --- |\n")
	fmt.Fprintf(sb, "| VmRSS after building the dataset | %s |\n", mb(r.rssAfterBuild))
	fmt.Fprintf(sb, "| peak sampled VmRSS | %s |\n", mb(r.peakRSS))
	fmt.Fprintf(sb, "| VmHWM at the end | %s |\n", mb(r.hwm))
	if r.dataBytes > 0 {
		fmt.Fprintf(sb, "| SQLite data directory at the end (database, WAL and shared memory files) | %s |\n", mb(r.dataBytes))
	}
	sb.WriteString("\n")
}

func (r *report) writeBaseline(sb *strings.Builder) {
	sb.WriteString("## Baseline: the same operations straight to the store\n\n")
	sb.WriteString("scimd is stopped before the baselines run. Each scratch store is first loaded with " +
		fmt.Sprint(r.cfg.users) + " users (not measured).\n\n")
	if r.baselineErr != "" {
		fmt.Fprintf(sb, "Baseline failed: `%s`\n\n", truncate(r.baselineErr, 300))
	}
	for _, b := range r.baselines {
		fmt.Fprintf(sb, "### %s\n\n%s.\n\n", b.Engine, b.Method)
		var names []string
		byName := map[string][]*result{}
		for _, res := range b.Results {
			if byName[res.Name] == nil {
				names = append(names, res.Name)
			}
			byName[res.Name] = append(byName[res.Name], res)
		}
		for _, name := range names {
			fmt.Fprintf(sb, "%s:\n\n", name)
			writeResultTable(sb, byName[name])
		}
	}
}

// ratio is one target ratio computed from the run.
type ratio struct {
	name   string
	value  float64
	target string
	pass   bool
	ok     bool // false when an input was not measured
	info   bool // shown for comparison, without a target
}

func (r *report) writeRatios(sb *strings.Builder) {
	sb.WriteString("## Target ratios\n\n| ratio | value | target | result |\n| --- | --- | --- | --- |\n")
	for _, x := range r.ratios() {
		if !x.ok {
			fmt.Fprintf(sb, "| %s | not measured | %s | FAIL |\n", x.name, x.target)
			continue
		}
		if x.info {
			fmt.Fprintf(sb, "| %s | %.2f | none | for comparison |\n", x.name, x.value)
			continue
		}
		verdict := "FAIL"
		if x.pass {
			verdict = "PASS"
		}
		fmt.Fprintf(sb, "| %s | %.2f | %s | %s |\n", x.name, x.value, x.target, verdict)
	}
	sb.WriteString("\n")
}

// find returns the result of the named workload at the client count.
func find(rs []*result, name string, clients int) *result {
	for _, res := range rs {
		if res.Name == name && res.Clients == clients && res.Ops > 0 {
			return res
		}
	}
	return nil
}

func atMost(name string, num, den time.Duration, limit float64) ratio {
	x := ratio{name: name, target: fmt.Sprintf("<= %g", limit)}
	if num > 0 && den > 0 {
		x.ok, x.value = true, float64(num)/float64(den)
		x.pass = x.value <= limit
	}
	return x
}

func (r *report) ratios() []ratio {
	var out []ratio
	if len(r.baselines) == 0 {
		out = append(out, ratio{name: "POST /Users ops/s / raw insert ops/s", target: ">= 0.5"})
	}
	for k, b := range r.baselines {
		for _, c := range r.cfg.clients {
			x := ratio{name: fmt.Sprintf("POST /Users ops/s / %s insert ops/s, %s", b.Short, clientsLabel(c)),
				target: ">= 0.5", info: k > 0}
			post := find(r.results, wlPost, c)
			if raw := find(b.Results, blInsert, c); post != nil && raw != nil && raw.opsPerSec() > 0 {
				x.ok, x.value = true, post.opsPerSec()/raw.opsPerSec()
				x.pass = x.value >= 0.5
			}
			out = append(out, x)
		}
	}
	for _, name := range []string{wlUserName, wlExternalID} {
		var full, small time.Duration
		if res := find(r.results, name, 1); res != nil {
			full = res.p(0.5)
		}
		if res := find(r.small, name, 1); res != nil {
			small = res.p(0.5)
		}
		label := fmt.Sprintf("%s p50 at %d users / at %d users, 1 client", name, r.cfg.users, r.smallUsers)
		out = append(out, atMost(label, full, small, 1.5))
	}
	pairs := []struct{ label, big, small string }{
		{"PATCH member remove/add p50, big / small group", wlMemberBig, wlMemberSmall},
		{"PATCH member remove/add?excludedAttributes=members p50, big / small group", wlMemberBigEx, wlMemberSmallEx},
		{"GET group excludedAttributes=members p50, big / small group", wlExcludedBig, wlExcludedSmall},
	}
	for _, p := range pairs {
		for _, c := range r.cfg.clients {
			var big, small time.Duration
			if res := find(r.results, p.big, c); res != nil {
				big = res.p(0.5)
			}
			if res := find(r.results, p.small, c); res != nil {
				small = res.p(0.5)
			}
			out = append(out, atMost(fmt.Sprintf("%s, %s", p.label, clientsLabel(c)), big, small, 2))
		}
	}
	for _, p := range r.paging {
		if p.Cursor {
			label := fmt.Sprintf("cursor paging last full page / first page p50, %s", clientsLabel(p.Clients))
			out = append(out, atMost(label, percentile(p.Last, 0.5), percentile(p.First, 0.5), 2))
		}
	}
	peak := max(r.peakRSS, r.hwm)
	out = append(out, ratio{name: fmt.Sprintf("peak RSS of scimd (%s)", mb(peak)), value: float64(peak) / 1e6,
		target: "<= 200 MB", pass: peak > 0 && peak <= 200e6, ok: peak > 0})
	return out
}

func clientsLabel(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(b)
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
