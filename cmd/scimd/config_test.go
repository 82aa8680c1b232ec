package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", cfg.listen, ":8080"},
		{"opsListen", cfg.opsListen, ""},
		{"dataDir", cfg.dataDir, "./data"},
		{"mongoURI", cfg.mongoURI, ""},
		{"mongoDatabase", cfg.mongoDatabase, "scimd"},
		{"adminToken", cfg.adminToken, ""},
		{"baseURL", cfg.baseURL, ""},
		{"maxBodyBytes", cfg.maxBodyBytes, int64(4 << 20)},
		{"maxBulkOps", cfg.maxBulkOps, 1000},
		{"maxBulkPayload", cfg.maxBulkPayload, int64(4 << 20)},
		{"maxPageSize", cfg.maxPageSize, 1000},
		{"cursorTTL", cfg.cursorTTL, time.Hour},
		{"shutdownTimeout", cfg.shutdownTimeout, 25 * time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseConfigFlagsWinOverEnvironment(t *testing.T) {
	env := envOf(map[string]string{
		"SCIMD_LISTEN":           "127.0.0.1:9000",
		"SCIMD_MONGODB_DATABASE": "fromenv",
		"SCIMD_BASE_URL":         "https://env.example.com/",
		"SCIMD_MAX_PAGE_SIZE":    "50",
	})
	cfg, err := parseConfig([]string{"--listen", "127.0.0.1:9100", "--max-page-size=70"}, env, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	if cfg.listen != "127.0.0.1:9100" {
		t.Errorf("listen = %q, want the flag's 127.0.0.1:9100", cfg.listen)
	}
	if cfg.maxPageSize != 70 {
		t.Errorf("maxPageSize = %d, want the flag's 70", cfg.maxPageSize)
	}
	if cfg.mongoDatabase != "fromenv" {
		t.Errorf("mongoDatabase = %q, want the variable's fromenv", cfg.mongoDatabase)
	}
	if cfg.baseURL != "https://env.example.com" {
		t.Errorf("baseURL = %q, want https://env.example.com without the trailing slash", cfg.baseURL)
	}
}

func TestParseConfigAdminToken(t *testing.T) {
	dir := t.TempDir()
	good := strings.Repeat("s", 40)
	goodFile := filepath.Join(dir, "token")
	if err := os.WriteFile(goodFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "none", want: ""},
		{name: "variable", env: map[string]string{"SCIMD_ADMIN_TOKEN": good}, want: good},
		{name: "file trimmed", args: []string{"--admin-token-file", goodFile}, want: good},
		{name: "file from variable", env: map[string]string{"SCIMD_ADMIN_TOKEN_FILE": goodFile}, want: good},
		{name: "too short", env: map[string]string{"SCIMD_ADMIN_TOKEN": "short"}, wantErr: "at least 32"},
		{name: "empty file", args: []string{"--admin-token-file", emptyFile}, wantErr: "is empty"},
		{name: "missing file", args: []string{"--admin-token-file", filepath.Join(dir, "nope")}, wantErr: "no such file"},
		{
			name:    "both",
			args:    []string{"--admin-token-file", goodFile},
			env:     map[string]string{"SCIMD_ADMIN_TOKEN": good},
			wantErr: "both set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if cfg.adminToken != tt.want {
				t.Errorf("adminToken = %q, want %q", cfg.adminToken, tt.want)
			}
		})
	}
}

// TestParseConfigReportsEveryError sets every option to an invalid value
// and expects one message per option in a single error.
func TestParseConfigReportsEveryError(t *testing.T) {
	args := []string{
		"--listen", "no-port",
		"--ops-listen", "127.0.0.1:99999",
		"--mongodb-uri", "postgres://db",
		"--mongodb-database", "a.b",
		"--base-url", "ftp://example.com",
		"--max-body-bytes", "0",
		"--max-bulk-operations", "-3",
		"--max-bulk-payload-bytes", "lots",
		"--max-page-size", "1.5",
		"--cursor-ttl", "forever",
		"--shutdown-timeout", "-1s",
	}
	env := envOf(map[string]string{
		"SCIMD_ADMIN_TOKEN": "tiny",
		"SCIMD_CURSOR_KEY":  "tiny",
	})
	_, err := parseConfig(args, env, io.Discard)
	if err == nil {
		t.Fatal("parseConfig returned no error")
	}
	for _, want := range []string{
		"--listen:", "--ops-listen:", "--mongodb-uri", "--mongodb-database:", "--base-url:",
		"--max-body-bytes:", "--max-bulk-operations:", "--max-bulk-payload-bytes:",
		"--max-page-size:", "--cursor-ttl:", "--shutdown-timeout:",
		"admin token from SCIMD_ADMIN_TOKEN", "SCIMD_CURSOR_KEY",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if got, want := strings.Count(err.Error(), "\n"), 13; got != want {
		t.Errorf("error has %d lines after the first, want %d (one per invalid value):\n%v", got, want, err)
	}
}

func TestParseConfigInvalidValues(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"ops same as listen", []string{"--listen", ":9000", "--ops-listen", ":9000"}, nil, "same address"},
		{"empty data dir", []string{"--data-dir", ""}, map[string]string{}, "--data-dir is empty"},
		{"base URL with query", []string{"--base-url", "https://x.example?a=b"}, nil, "no user, query or fragment"},
		{"variable checked too", nil, map[string]string{"SCIMD_CURSOR_TTL": "0s"}, "--cursor-ttl"},
		{"positional argument", []string{"serve"}, nil, "takes only flags"},
		{"unknown flag", []string{"--port", "80"}, nil, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseConfig error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseConfigBothListenersOnFreePorts(t *testing.T) {
	cfg, err := parseConfig([]string{"--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	if cfg.opsListen != "127.0.0.1:0" {
		t.Errorf("opsListen = %q, want 127.0.0.1:0", cfg.opsListen)
	}
}

func TestParseConfigMongoDBWithoutDataDir(t *testing.T) {
	_, err := parseConfig([]string{"--data-dir", "", "--mongodb-uri", "mongodb://127.0.0.1:27017"}, envOf(nil), io.Discard)
	if err != nil {
		t.Errorf("parseConfig: %v", err)
	}
}

func TestParseConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseConfig(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"SCIMD_LISTEN", "SCIMD_ADMIN_TOKEN", "SCIMD_CURSOR_KEY", "--mongodb-uri", "-max-page-size"} {
		if !strings.Contains(out.String(), strings.TrimPrefix(want, "--")) {
			t.Errorf("help text does not mention %s", want)
		}
	}
}

func TestExampleURL(t *testing.T) {
	tests := []struct {
		listen, baseURL, want string
	}{
		{":8080", "", "http://localhost:8080"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"[::1]:8080", "", "http://[::1]:8080"},
		{":8080", "https://scim.example.com", "https://scim.example.com"},
	}
	for _, tt := range tests {
		got := exampleURL(&config{listen: tt.listen, baseURL: tt.baseURL})
		if got != tt.want {
			t.Errorf("exampleURL(listen %q, base %q) = %q, want %q", tt.listen, tt.baseURL, got, tt.want)
		}
	}
}
