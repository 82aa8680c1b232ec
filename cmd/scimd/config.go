package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/scimserver"
)

// config is scimd's configuration after parsing and validation.
type config struct {
	listen          string
	opsListen       string // empty: serve /healthz, /readyz and /metrics on listen
	dataDir         string
	mongoURI        string
	mongoDatabase   string
	adminToken      string // from SCIMD_ADMIN_TOKEN or the admin token file
	baseURL         string
	cursorKey       []byte
	maxBodyBytes    int64
	maxBulkOps      int
	maxBulkPayload  int64
	maxPageSize     int
	cursorTTL       time.Duration
	shutdownTimeout time.Duration
}

// minSecretLength is the shortest admin token or cursor key accepted.
// Credentials are compared by SHA-256 hash, which is only safe for secrets
// with enough entropy to rule out guessing; 32 characters of a random
// token carry well over 128 bits.
const minSecretLength = 32

// setting is one option: a flag and the environment variable that sets it
// when the flag is absent from the command line.
type setting struct {
	flag  string // empty: environment only, for secrets that must not show in ps
	env   string
	def   string
	usage string
	value string
}

// settings lists every option, in the order of the help text.
func settings() []*setting {
	d := scimserver.DefaultConfig()
	return []*setting{
		{flag: "listen", env: "SCIMD_LISTEN", def: ":8080",
			usage: "`address` of the SCIM and admin API, as host:port"},
		{flag: "ops-listen", env: "SCIMD_OPS_LISTEN",
			usage: "`address` of /healthz, /readyz and /metrics, as host:port; empty serves them on --listen"},
		{flag: "data-dir", env: "SCIMD_DATA_DIR", def: "./data",
			usage: "`directory` of the embedded SQLite store, used when --mongodb-uri is empty"},
		{flag: "mongodb-uri", env: "SCIMD_MONGODB_URI",
			usage: "MongoDB connection string `uri` (mongodb:// or mongodb+srv://); empty uses the embedded SQLite store"},
		{flag: "mongodb-database", env: "SCIMD_MONGODB_DATABASE", def: "scimd",
			usage: "MongoDB database `name`"},
		{flag: "admin-token-file", env: "SCIMD_ADMIN_TOKEN_FILE",
			usage: "`file` containing the admin API bearer token; SCIMD_ADMIN_TOKEN sets it directly"},
		{env: "SCIMD_ADMIN_TOKEN"},
		{flag: "base-url", env: "SCIMD_BASE_URL",
			usage: "external `URL` of the server root, such as https://scim.example.com; empty derives it from each request"},
		{env: "SCIMD_CURSOR_KEY"},
		{flag: "max-body-bytes", env: "SCIMD_MAX_BODY_BYTES", def: strconv.FormatInt(d.MaxBodyBytes, 10),
			usage: "maximum size of a request body other than Bulk, in `bytes`"},
		{flag: "max-bulk-operations", env: "SCIMD_MAX_BULK_OPERATIONS", def: strconv.Itoa(d.MaxBulkOperations),
			usage: "maximum `number` of operations in one Bulk request"},
		{flag: "max-bulk-payload-bytes", env: "SCIMD_MAX_BULK_PAYLOAD_BYTES", def: strconv.FormatInt(d.MaxBulkPayloadBytes, 10),
			usage: "maximum size of a Bulk request body, in `bytes`"},
		{flag: "max-page-size", env: "SCIMD_MAX_PAGE_SIZE", def: strconv.Itoa(d.MaxPageSize),
			usage: "maximum `number` of resources in one list or search response"},
		{flag: "cursor-ttl", env: "SCIMD_CURSOR_TTL", def: d.CursorTTL.String(),
			usage: "how long a pagination cursor stays valid, as a Go `duration` such as 1h"},
		{flag: "shutdown-timeout", env: "SCIMD_SHUTDOWN_TIMEOUT", def: "25s",
			usage: "how long a graceful shutdown waits for requests in flight, as a Go `duration`"},
	}
}

// parseConfig reads the command line and then, for every option the
// command line leaves out, the SCIMD_* environment variable. It reports
// every invalid value at once. -h returns flag.ErrHelp after printing the
// help text to output.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (*config, error) {
	all := settings()
	fs := flag.NewFlagSet("scimd", flag.ContinueOnError)
	fs.SetOutput(output)
	for _, s := range all {
		if s.flag == "" {
			continue
		}
		fs.StringVar(&s.value, s.flag, s.def, s.usage+" (env "+s.env+")")
	}
	fs.Usage = func() {
		fmt.Fprintln(output, "Usage: scimd [flags]\n\nFlags (each can also be set by the environment variable named):")
		fs.PrintDefaults()
		fmt.Fprintln(output, "\nEnvironment only:\n  SCIMD_ADMIN_TOKEN\tadmin API bearer token (at least 32 characters)\n"+
			"  SCIMD_CURSOR_KEY\tkey that signs pagination cursors (at least 32 characters); "+
			"replicas behind one load balancer need the same key")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: scimd takes only flags", fs.Args())
	}

	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	values := map[string]string{}
	for _, s := range all {
		if s.flag == "" || !onCommandLine[s.flag] {
			if v, ok := lookup(getenv, s.env); ok {
				s.value = v
			}
		}
		values[s.env] = s.value
	}
	return validate(values)
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// validate converts the raw values, keyed by environment variable name,
// into a config and collects every error.
func validate(v map[string]string) (*config, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c := &config{
		listen:        v["SCIMD_LISTEN"],
		opsListen:     v["SCIMD_OPS_LISTEN"],
		dataDir:       v["SCIMD_DATA_DIR"],
		mongoURI:      v["SCIMD_MONGODB_URI"],
		mongoDatabase: v["SCIMD_MONGODB_DATABASE"],
		baseURL:       strings.TrimRight(v["SCIMD_BASE_URL"], "/"),
		cursorKey:     []byte(v["SCIMD_CURSOR_KEY"]),
	}

	if err := checkAddress(c.listen); err != nil {
		fail("--listen: %w", err)
	}
	if c.opsListen != "" {
		if err := checkAddress(c.opsListen); err != nil {
			fail("--ops-listen: %w", err)
		} else if c.opsListen == c.listen && !strings.HasSuffix(c.listen, ":0") {
			// Port 0 picks a free port for each listener, so it may repeat.
			fail("--ops-listen %q is the same address as --listen; leave it empty to share the listener", c.opsListen)
		}
	}
	if c.mongoURI == "" && c.dataDir == "" {
		fail("--data-dir is empty: name a directory for the embedded store, or set --mongodb-uri")
	}
	if c.mongoURI != "" && !strings.HasPrefix(c.mongoURI, "mongodb://") && !strings.HasPrefix(c.mongoURI, "mongodb+srv://") {
		fail("--mongodb-uri must start with mongodb:// or mongodb+srv://")
	}
	if err := checkDatabaseName(c.mongoDatabase); err != nil {
		fail("--mongodb-database: %w", err)
	}
	if err := checkBaseURL(c.baseURL); err != nil {
		fail("--base-url: %w", err)
	}

	token, err := adminToken(v["SCIMD_ADMIN_TOKEN"], v["SCIMD_ADMIN_TOKEN_FILE"])
	if err != nil {
		errs = append(errs, err)
	}
	c.adminToken = token
	if len(c.cursorKey) > 0 && len(c.cursorKey) < minSecretLength {
		fail("SCIMD_CURSOR_KEY is %d characters long; use at least %d random characters", len(c.cursorKey), minSecretLength)
	}

	c.maxBodyBytes = positiveInt(v["SCIMD_MAX_BODY_BYTES"], "--max-body-bytes", &errs)
	c.maxBulkOps = int(positiveInt(v["SCIMD_MAX_BULK_OPERATIONS"], "--max-bulk-operations", &errs))
	c.maxBulkPayload = positiveInt(v["SCIMD_MAX_BULK_PAYLOAD_BYTES"], "--max-bulk-payload-bytes", &errs)
	c.maxPageSize = int(positiveInt(v["SCIMD_MAX_PAGE_SIZE"], "--max-page-size", &errs))
	c.cursorTTL = positiveDuration(v["SCIMD_CURSOR_TTL"], "--cursor-ttl", &errs)
	c.shutdownTimeout = positiveDuration(v["SCIMD_SHUTDOWN_TIMEOUT"], "--shutdown-timeout", &errs)

	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return c, nil
}

func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port %q", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q has an invalid host %q", addr, host)
	}
	return nil
}

// checkDatabaseName applies MongoDB's naming rules for databases.
func checkDatabaseName(name string) error {
	switch {
	case name == "":
		return errors.New("the database name is empty")
	case len(name) >= 64:
		return fmt.Errorf("database name %q is longer than 63 bytes", name)
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("database name %q contains a character MongoDB does not allow (/\\. \"$*<>:|?)", name)
	}
	return nil
}

func checkBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must be scheme://host[:port][/path] with no user, query or fragment", raw)
	}
	return nil
}

// adminToken returns the configured admin token: SCIMD_ADMIN_TOKEN, or the
// trimmed contents of the token file, or "" when neither is set.
func adminToken(direct, file string) (string, error) {
	if direct != "" && file != "" {
		return "", errors.New("SCIMD_ADMIN_TOKEN and --admin-token-file are both set; set only one")
	}
	token := direct
	source := "SCIMD_ADMIN_TOKEN"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--admin-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		source = "--admin-token-file " + file
		if token == "" {
			return "", fmt.Errorf("%s is empty", source)
		}
	}
	if token != "" && len(token) < minSecretLength {
		return "", fmt.Errorf("the admin token from %s is %d characters long; use at least %d random characters",
			source, len(token), minSecretLength)
	}
	return token, nil
}

func positiveInt(raw, name string, errs *[]error) int64 {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a positive whole number", name, raw))
		return 0
	}
	return n
}

func positiveDuration(raw, name string, errs *[]error) time.Duration {
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a positive duration such as 30s or 1h", name, raw))
		return 0
	}
	return d
}
