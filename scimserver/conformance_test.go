package scimserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/scimserver"
)

// The external conformance suites are kept unchanged beside the repository,
// in ../shared/conformance relative to its root. SCIMD_CONFORMANCE_DIR
// points elsewhere.
const (
	oktaSpecTestFile     = "okta-scim-20-spec-test.json"
	microsoftCollection  = "microsoft-scim-postman-collection.json"
	microsoftExpectedTxt = "testdata/conformance/microsoft-expected-failures.txt"
)

// conformanceFile returns the path of an external suite file and fails the
// test when it is missing: CI clones the repository with shared/ beside it,
// so a missing file means a broken checkout, not an optional suite.
func conformanceFile(t *testing.T, name string) string {
	t.Helper()

	dir := os.Getenv("SCIMD_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join(repositoryRoot(t), "..", "shared", "conformance")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("conformance suite %s is missing: %v; check out the shared "+
			"folder beside the repository or set SCIMD_CONFORMANCE_DIR", name, err)
	}
	return path
}

// repositoryRoot walks up from the package directory to the folder that
// holds this module's go.mod.
func repositoryRoot(t *testing.T) string {
	t.Helper()

	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/scimd/scimd\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("repository root not found above the package directory")
		}
		dir = parent
	}
}

// radarTest is a Runscope "radar" test export: a list of request and pause
// steps run in order with shared variables.
type radarTest struct {
	Name  string      `json:"name"`
	Steps []radarStep `json:"steps"`
}

type radarStep struct {
	StepType   string              `json:"step_type"`
	Skipped    bool                `json:"skipped"`
	Note       string              `json:"note"`
	Method     string              `json:"method"`
	URL        string              `json:"url"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	Assertions []radarAssertion    `json:"assertions"`
	Variables  []radarVariable     `json:"variables"`
	Scripts    []string            `json:"scripts"`
	// Duration is the pause length in seconds.
	Duration float64 `json:"duration"`
}

type radarAssertion struct {
	Source     string          `json:"source"`
	Comparison string          `json:"comparison"`
	Property   string          `json:"property"`
	Value      json.RawMessage `json:"value"`
}

type radarVariable struct {
	Source   string `json:"source"`
	Name     string `json:"name"`
	Property string `json:"property"`
}

// radarResponse is what an assertion or a variable reads.
type radarResponse struct {
	status  int
	elapsed time.Duration
	body    []byte
	json    any
	jsonErr error
}

// TestOktaSpecTest runs Okta's SCIM 2.0 spec test, a Runscope export, against
// a live scimd. Every assertion of the export is one subtest.
func TestOktaSpecTest(t *testing.T) {
	var suite radarTest
	readJSONFile(t, conformanceFile(t, oktaSpecTestFile), &suite)
	if len(suite.Steps) == 0 {
		t.Fatalf("%s has no steps", oktaSpecTestFile)
	}

	srv := startTestServer(t, scimserver.Config{})
	seedOktaUser(t, srv)

	vars := oktaInitialVariables(srv.url+"/scim/v2", "Bearer "+srv.mainToken)
	client := &http.Client{Timeout: 30 * time.Second}
	for i, step := range suite.Steps {
		name := fmt.Sprintf("%02d %s", i+1, step.Note)
		switch {
		case step.Skipped:
			continue
		case step.StepType == "pause":
			// Pauses give a hosted service time to settle. scimd reads its
			// own writes at once (read-your-writes), so they are skipped.
			continue
		case step.StepType != "request":
			t.Errorf("step %d: unknown step_type %q", i+1, step.StepType)
			continue
		}
		t.Run(name, func(t *testing.T) {
			runRadarRequest(t, client, step, vars)
		})
	}
}

// oktaInitialVariables returns the variables that Okta's initial script sets
// before the spec test runs: the base URL, the Authorization header value
// and random values for a user that does not exist yet.
func oktaInitialVariables(scimBaseURL, auth string) map[string]string {
	suffix := randomDigits(8)
	userName := "runscope" + suffix + "@atko.example.com"
	return map[string]string{
		"SCIMBaseURL":            scimBaseURL,
		"auth":                   auth,
		"randomUsername":         userName,
		"randomUsernameCaps":     strings.ToUpper(userName),
		"randomEmail":            "runscope" + suffix + ".mail@atko.example.com",
		"randomGivenName":        "Given" + suffix,
		"randomFamilyName":       "Family" + suffix,
		"InvalidUserEmail":       "invalid" + randomDigits(8) + "@atko.example.com",
		"UserIdThatDoesNotExist": "010101" + randomDigits(12),
	}
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err))
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// seedOktaUser creates the user that the spec test's first step expects to
// find, with name, emails and active set, as an Okta tenant would have.
func seedOktaUser(t *testing.T, srv *testServer) {
	t.Helper()

	body := `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "seed.user@atko.example.com",
		"name": {"givenName": "Seed", "familyName": "User"},
		"emails": [{"value": "seed.user@atko.example.com", "type": "work", "primary": true}],
		"active": true
	}`
	srv.mustSend(t, http.StatusCreated, srv.mainToken, http.MethodPost, "/scim/v2/Users", body)
}

func runRadarRequest(t *testing.T, client *http.Client, step radarStep, vars map[string]string) {
	for _, script := range step.Scripts {
		if strings.TrimSpace(script) != "" {
			// NOTE: Runscope runs these JavaScript snippets after the
			// request, and this runner does not. The export's only script,
			// on the Groups step, asserts that Resources is an array when
			// groups exist, and the test server has none at that step.
			t.Logf("script not run: %.60q", script)
		}
	}

	req, err := newRadarRequest(step, vars)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := sendRadarRequest(client, req)
	if err != nil {
		t.Fatalf("send %s %s: %v", req.Method, req.URL, err)
	}
	t.Logf("%s %s: %d in %v", req.Method, req.URL.RequestURI(), resp.status, resp.elapsed)

	for _, a := range step.Assertions {
		t.Run(radarAssertionName(a, vars), func(t *testing.T) {
			if err := checkRadarAssertion(a, resp, vars); err != nil {
				t.Errorf("%v; response %d: %s", err, resp.status, truncate(resp.body, 400))
			}
		})
	}

	for _, v := range step.Variables {
		if v.Source != "response_json" {
			t.Errorf("variable %s: unsupported source %q", v.Name, v.Source)
			continue
		}
		value, ok := jsonProperty(resp.json, v.Property)
		if !ok {
			t.Errorf("variable %s: property %s not in the response", v.Name, v.Property)
			continue
		}
		vars[v.Name] = radarText(value)
	}
}

func newRadarRequest(step radarStep, vars map[string]string) (*http.Request, error) {
	rawURL, err := substituteVariables(step.URL, vars)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	body, err := substituteVariables(step.Body, vars)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	u, err := url.Parse(escapeQuery(rawURL))
	if err != nil {
		return nil, fmt.Errorf("parse url %q: %w", rawURL, err)
	}

	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(step.Method, u.String(), reader)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	for name, values := range step.Headers {
		for _, v := range values {
			v, err := substituteVariables(v, vars)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", name, err)
			}
			req.Header.Add(name, v)
		}
	}
	return req, nil
}

func sendRadarRequest(client *http.Client, req *http.Request) (*radarResponse, error) {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("do: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}

	r := &radarResponse{status: resp.StatusCode, elapsed: time.Since(start), body: body}
	if len(bytes.TrimSpace(body)) > 0 {
		r.jsonErr = json.Unmarshal(body, &r.json)
	} else {
		r.jsonErr = errors.New("empty body")
	}
	return r, nil
}

var variablePattern = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// substituteVariables replaces every {{name}}. An undefined variable is an
// error, as it is in Runscope.
func substituteVariables(s string, vars map[string]string) (string, error) {
	var missing []string
	out := variablePattern.ReplaceAllStringFunc(s, func(m string) string {
		name := variablePattern.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("variables not defined: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// escapeQuery percent-encodes the characters of a URL's query that may not
// appear there unencoded (spaces and double quotes in filters), leaving
// existing escapes, '&', '=' and '+' as written, as a browser or Runscope
// would send them.
func escapeQuery(rawURL string) string {
	base, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return rawURL
	}
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '%' && i+2 < len(query) && isHex(query[i+1]) && isHex(query[i+2]):
			b.WriteByte(c)
		case isQueryByte(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return base + "?" + b.String()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// isQueryByte reports whether c may appear unencoded in a URI query
// (RFC 3986 §3.4: unreserved, sub-delims, ':', '@', '/', '?').
func isQueryByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}

func radarAssertionName(a radarAssertion, vars map[string]string) string {
	parts := []string{a.Source}
	if a.Property != "" {
		parts = append(parts, a.Property)
	}
	parts = append(parts, a.Comparison)
	if want := radarRawText(a.Value); want != "" {
		if v, err := substituteVariables(want, vars); err == nil && strings.HasPrefix(want, "{{") {
			want = strings.Trim(want, "{}") + "=" + v
		}
		parts = append(parts, want)
	}
	return strings.Join(parts, " ")
}

// checkRadarAssertion evaluates one assertion the way Runscope documents
// it: values compare as text, numbers as numbers.
func checkRadarAssertion(a radarAssertion, resp *radarResponse, vars map[string]string) error {
	want, err := substituteVariables(radarRawText(a.Value), vars)
	if err != nil {
		return fmt.Errorf("assertion value: %w", err)
	}

	var actual any
	var present bool
	switch a.Source {
	case "response_status":
		actual, present = float64(resp.status), true
	case "response_time":
		actual, present = float64(resp.elapsed.Milliseconds()), true
	case "response_json":
		if resp.jsonErr != nil {
			return fmt.Errorf("response is not JSON: %w", resp.jsonErr)
		}
		actual, present = jsonProperty(resp.json, a.Property)
	default:
		return fmt.Errorf("unsupported assertion source %q", a.Source)
	}

	return compareRadar(a.Comparison, actual, present, want)
}

func compareRadar(comparison string, actual any, present bool, want string) error {
	got := radarText(actual)
	switch comparison {
	case "not_empty":
		if !present || isEmptyJSON(actual) {
			return fmt.Errorf("got %q, want a non-empty value", got)
		}
	case "equal":
		if !present || got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
	case "equal_number":
		g, gerr := radarNumber(actual)
		w, werr := strconv.ParseFloat(want, 64)
		if !present || gerr != nil || werr != nil || g != w {
			return fmt.Errorf("got %q, want the number %s", got, want)
		}
	case "is_a_number":
		if _, ok := actual.(float64); !ok {
			return fmt.Errorf("got %q (%T), want a JSON number", got, actual)
		}
	case "is_less_than":
		g, gerr := radarNumber(actual)
		w, werr := strconv.ParseFloat(want, 64)
		if !present || gerr != nil || werr != nil || g >= w {
			return fmt.Errorf("got %q, want less than %s", got, want)
		}
	case "has_value", "contains":
		if !present || !containsRadar(actual, want, comparison == "contains") {
			return fmt.Errorf("got %s, want it to %s %q", got, strings.ReplaceAll(comparison, "_", " "), want)
		}
	default:
		return fmt.Errorf("unsupported comparison %q", comparison)
	}
	return nil
}

// containsRadar reports whether an array has an element equal to want, or,
// for "contains", whether a string has want as a substring.
func containsRadar(actual any, want string, substring bool) bool {
	switch v := actual.(type) {
	case []any:
		for _, e := range v {
			if radarText(e) == want {
				return true
			}
		}
		return false
	case string:
		if substring {
			return strings.Contains(v, want)
		}
		return v == want
	default:
		return false
	}
}

func radarNumber(v any) (float64, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case string:
		return strconv.ParseFloat(n, 64)
	default:
		return 0, fmt.Errorf("not a number: %T", v)
	}
}

func isEmptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	default:
		return false
	}
}

// radarText renders a decoded JSON value as Runscope compares it: strings
// as themselves, numbers without trailing zeros, booleans as true/false,
// null as the empty string and anything else as JSON.
func radarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		data, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprintf("%v", x)
		}
		return string(data)
	}
}

// radarRawText returns an assertion value, which exports store as a string,
// a number or null, as text.
func radarRawText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return radarText(v)
}

// jsonProperty resolves a Runscope property path such as
// Resources[0].emails[0].value in a decoded JSON document. A key may itself
// contain dots, as extension URNs do
// (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department):
// the longest key of the object that the path starts with wins.
func jsonProperty(doc any, path string) (any, bool) {
	cur, rest := doc, path
	for rest != "" {
		if strings.HasPrefix(rest, "[") {
			index, after, ok := strings.Cut(rest[1:], "]")
			arr, isArray := cur.([]any)
			n, err := strconv.Atoi(index)
			if !ok || !isArray || err != nil || n < 0 || n >= len(arr) {
				return nil, false
			}
			cur, rest = arr[n], after
		} else {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			key := longestKeyPrefix(obj, rest)
			if key == "" {
				return nil, false
			}
			cur, rest = obj[key], rest[len(key):]
		}
		if strings.HasPrefix(rest, ".") {
			rest = rest[1:]
		}
	}
	return cur, true
}

// longestKeyPrefix returns the longest key of obj that path starts with,
// followed by the end of the path, '.' or '['.
func longestKeyPrefix(obj map[string]any, path string) string {
	best := ""
	for k := range obj {
		if len(k) <= len(best) || !strings.HasPrefix(path, k) {
			continue
		}
		if len(path) == len(k) || path[len(k)] == '.' || path[len(k)] == '[' {
			best = k
		}
	}
	return best
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

// TestMicrosoftPostmanCollection runs Microsoft's Postman collection for
// Entra ID provisioning with newman against a live scimd and compares the
// failed checks with the committed list of expected failures.
func TestMicrosoftPostmanCollection(t *testing.T) {
	newman := findNewman(t)
	collection := filteredCollection(t, conformanceFile(t, microsoftCollection))
	expected := readExpectedFailures(t, microsoftExpectedTxt)

	srv := startTestServer(t, scimserver.Config{})
	u, err := url.Parse(srv.url)
	if err != nil {
		t.Fatalf("parse server URL %q: %v", srv.url, err)
	}

	dir := t.TempDir()
	collectionPath := filepath.Join(dir, "collection.json")
	if err := os.WriteFile(collectionPath, collection.data, 0o600); err != nil {
		t.Fatalf("write collection: %v", err)
	}
	reportPath := filepath.Join(dir, "report.json")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, newman, "run", collectionPath,
		"--env-var", "Protocol="+u.Scheme,
		"--env-var", "Server="+u.Hostname(),
		"--env-var", "Port=:"+u.Port(),
		"--env-var", "Api=scim/v2",
		"--env-var", "token="+srv.mainToken,
		"--reporters", "cli,json",
		"--reporter-json-export", reportPath,
		"--timeout-request", "30000",
		"--disable-unicode", "--color", "off",
	)
	output, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run newman: %v\n%s", err, output)
	}
	if testing.Verbose() {
		t.Logf("newman output:\n%s", output)
	}
	if _, err := os.Stat(reportPath); err != nil {
		t.Fatalf("newman wrote no report (%v); its output:\n%s", err, output)
	}

	report := readNewmanReport(t, reportPath)
	if got, want := report.requests, collection.requests; got != want {
		t.Errorf("newman sent %d requests, want %d (every request of the collection)\n%s",
			got, want, output)
	}
	t.Logf("newman: %d requests, %d assertions, %d failed", report.requests,
		report.assertions, len(report.failures))

	compareFailures(t, report, expected)
}

// findNewman returns the newman executable from $NEWMAN or the project-local
// install that `make test` creates.
func findNewman(t *testing.T) string {
	t.Helper()

	if p := os.Getenv("NEWMAN"); p != "" {
		return p
	}
	local := filepath.Join(repositoryRoot(t), ".ci", "node_modules", ".bin", "newman")
	if _, err := os.Stat(local); err == nil {
		return local
	}
	if p, err := exec.LookPath("newman"); err == nil {
		return p
	}
	t.Fatalf("newman not found: run `make test`, which installs it in .ci/node_modules, " +
		"or set NEWMAN to its path")
	return ""
}

type postmanCollection struct {
	data     []byte
	requests int
}

// filteredCollection removes the "Get Token" folder, which requests a token
// from the server that scimd does not issue; the main credential is passed as
// the token variable instead.
func filteredCollection(t *testing.T, path string) postmanCollection {
	t.Helper()

	var doc map[string]any
	readJSONFile(t, path, &doc)
	items, ok := doc["item"].([]any)
	if !ok {
		t.Fatalf("%s: no top-level item list", path)
	}

	kept := make([]any, 0, len(items))
	removed := false
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["name"] == "Get Token" {
			removed = true
			continue
		}
		kept = append(kept, it)
	}
	if !removed {
		t.Fatalf("%s: folder \"Get Token\" not found; the collection changed", path)
	}
	doc["item"] = kept

	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encode collection: %v", err)
	}
	return postmanCollection{data: data, requests: countPostmanRequests(kept)}
}

func countPostmanRequests(items []any) int {
	n := 0
	for _, it := range items {
		m, _ := it.(map[string]any)
		if sub, ok := m["item"].([]any); ok {
			n += countPostmanRequests(sub)
		} else if _, ok := m["request"]; ok {
			n++
		}
	}
	return n
}

// postmanFailure names one failed check: the request and the assertion
// (or the script error) that failed.
type postmanFailure struct {
	Request string
	Check   string
}

func (f postmanFailure) String() string { return f.Request + " | " + f.Check }

type newmanReport struct {
	requests   int
	assertions int
	failures   []postmanFailure
	messages   map[postmanFailure][]string
}

func readNewmanReport(t *testing.T, path string) newmanReport {
	t.Helper()

	var doc struct {
		Run struct {
			Stats struct {
				Requests   struct{ Total int } `json:"requests"`
				Assertions struct{ Total int } `json:"assertions"`
			} `json:"stats"`
			Failures []struct {
				Error struct {
					Name    string `json:"name"`
					Test    string `json:"test"`
					Message string `json:"message"`
				} `json:"error"`
				Source struct {
					Name string `json:"name"`
				} `json:"source"`
				At string `json:"at"`
			} `json:"failures"`
		} `json:"run"`
	}
	readJSONFile(t, path, &doc)

	r := newmanReport{
		requests:   doc.Run.Stats.Requests.Total,
		assertions: doc.Run.Stats.Assertions.Total,
		messages:   map[postmanFailure][]string{},
	}
	for _, f := range doc.Run.Failures {
		check := f.Error.Test
		if check == "" {
			// Errors outside pm.test, such as a script reading a non-JSON
			// body or a failed connection, have no assertion name.
			check = "error " + f.Error.Name + " at " + f.At
		}
		pf := postmanFailure{Request: f.Source.Name, Check: check}
		r.failures = append(r.failures, pf)
		r.messages[pf] = append(r.messages[pf], f.Error.Message)
	}
	return r
}

// expectedFailure is one line of the expected-failures list.
type expectedFailure struct {
	postmanFailure
	Reason string
	Line   int
}

// readExpectedFailures reads lines "request | check | reason". Blank lines
// and lines starting with '#' are ignored. A line listed twice expects two
// failures, because the collection repeats some request names.
func readExpectedFailures(t *testing.T, path string) []expectedFailure {
	t.Helper()

	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open expected failures: %v", err)
	}
	defer f.Close()

	var list []expectedFailure
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, " | ")
		if len(fields) != 3 || fields[0] == "" || fields[1] == "" || strings.TrimSpace(fields[2]) == "" {
			t.Fatalf("%s:%d: want \"request | check | reason\", got %q", path, n, line)
		}
		list = append(list, expectedFailure{
			postmanFailure: postmanFailure{Request: fields[0], Check: fields[1]},
			Reason:         fields[2],
			Line:           n,
		})
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return list
}

// compareFailures fails the test for every failure not in the list and for
// every listed failure that did not happen, so that a fix is noticed and
// the list shrinks with it.
func compareFailures(t *testing.T, report newmanReport, expected []expectedFailure) {
	t.Helper()

	remaining := map[postmanFailure]int{}
	for _, f := range report.failures {
		remaining[f]++
	}
	for _, e := range expected {
		if remaining[e.postmanFailure] > 0 {
			remaining[e.postmanFailure]--
			continue
		}
		t.Errorf("expected failure now passes (line %d, remove it): %s", e.Line, e.postmanFailure)
	}

	var unexpected []string
	for f, n := range remaining {
		for range n {
			unexpected = append(unexpected, fmt.Sprintf("%s: %s", f, strings.Join(report.messages[f], "; ")))
		}
	}
	sort.Strings(unexpected)
	for _, u := range unexpected {
		t.Errorf("unexpected failure: %s", u)
	}
}

// createSandboxThroughAdminAPI creates a sandbox through the admin API and
// returns a new credential for it.
func createSandboxThroughAdminAPI(t *testing.T, srv *testServer, id string) string {
	t.Helper()

	body := fmt.Sprintf(`{"id": %q, "displayName": %q}`, id, "Sandbox "+id)
	srv.mustSend(t, http.StatusCreated, srv.adminToken, http.MethodPost, "/admin/v1/sandboxes", body)

	body = fmt.Sprintf(`{"tenant": %q, "description": "provisioning fixture"}`, id)
	cred := srv.mustSend(t, http.StatusCreated, srv.adminToken, http.MethodPost, "/admin/v1/credentials", body)
	token, _ := cred["token"].(string)
	if token == "" {
		t.Fatalf("issue credential for %s: no token in %v", id, cred)
	}
	return token
}

func TestJSONProperty(t *testing.T) {
	var doc any
	err := json.Unmarshal([]byte(`{
		"Resources": [{"id": "u1", "emails": [{"value": "a@example.com"}]}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
		"active": false
	}`), &doc)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path    string
		want    any
		present bool
	}{
		{"Resources[0].id", "u1", true},
		{"Resources[0].emails[0].value", "a@example.com", true},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department", "R&D", true},
		{"active", false, true},
		{"Resources[1].id", nil, false},
		{"Resources[0].name.givenName", nil, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		got, present := jsonProperty(doc, tt.path)
		if present != tt.present || !cmp.Equal(got, tt.want) {
			t.Errorf("jsonProperty(%q) = %v, %v; want %v, %v", tt.path, got, present, tt.want, tt.present)
		}
	}
}

func TestCompareRadar(t *testing.T) {
	tests := []struct {
		name       string
		comparison string
		actual     any
		present    bool
		want       string
		ok         bool
	}{
		{"equal number", "equal_number", float64(200), true, "200", true},
		{"unequal number", "equal_number", float64(201), true, "200", false},
		{"equal bool as text", "equal", true, true, "true", true},
		{"equal string status", "equal", "401", true, "401", true},
		{"equal missing", "equal", nil, false, "", false},
		{"not empty false", "not_empty", false, true, "", true},
		{"not empty empty list", "not_empty", []any{}, true, "", false},
		{"not empty missing", "not_empty", nil, false, "", false},
		{"has value", "has_value", []any{"a", "b"}, true, "b", true},
		{"has value absent", "has_value", []any{"a"}, true, "b", false},
		{"contains substring", "contains", "a-b-c", true, "b", true},
		{"is a number", "is_a_number", float64(1), true, "", true},
		{"numeric string is not a number", "is_a_number", "1", true, "", false},
		{"less than", "is_less_than", float64(10), true, "600", true},
		{"not less than", "is_less_than", float64(600), true, "600", false},
		{"unknown comparison", "matches", "x", true, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compareRadar(tt.comparison, tt.actual, tt.present, tt.want)
			if (err == nil) != tt.ok {
				t.Errorf("compareRadar(%s, %v, %q) = %v, want ok=%v", tt.comparison, tt.actual, tt.want, err, tt.ok)
			}
		})
	}
}

func TestEscapeQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{`http://h/Users?count=1&startIndex=1`, `http://h/Users?count=1&startIndex=1`},
		{`http://h/Users?filter=userName eq "a@b.c"`, `http://h/Users?filter=userName%20eq%20%22a@b.c%22`},
		{`http://h/Users?filter=DisplayName+eq+%22Bob%22`, `http://h/Users?filter=DisplayName+eq+%22Bob%22`},
		{`http://h/Users/1`, `http://h/Users/1`},
	}
	for _, tt := range tests {
		if got := escapeQuery(tt.in); got != tt.want {
			t.Errorf("escapeQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSubstituteVariables(t *testing.T) {
	got, err := substituteVariables("{{a}}/{{ b }}", map[string]string{"a": "1", "b": "2"})
	if err != nil || got != "1/2" {
		t.Errorf("substituteVariables = %q, %v; want \"1/2\", nil", got, err)
	}
	if _, err := substituteVariables("{{missing}}", nil); err == nil {
		t.Errorf("substituteVariables with an undefined variable: got nil error")
	}
}
