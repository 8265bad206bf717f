package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleConfigParses(t *testing.T) {
	cfg, err := LoadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 3 || len(cfg.Routes) != 5 || len(cfg.Pools) != 6 {
		t.Fatalf("got %d listeners, %d routes, %d pools", len(cfg.Listeners), len(cfg.Routes), len(cfg.Pools))
	}
	if *cfg.Pools[2].Retries != DefaultRetries || cfg.Listeners[0].Timeouts.Handshake != DefaultHandshakeTimeout {
		t.Error("defaults not applied")
	}
}

func TestParseReportsEveryErrorWithPosition(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	text := `other: {ignored: true}
proxy:
  listeners:
    - name: web
      kind: htp
      address: nowhere
      colour: blue
      accept_toa: true
      accept_proxy_protocol: true
  routes:
    - match: {path_prefix: api, path_regex: "([", sources: [1.2.3.4/40]}
      pool: missing
  pools:
    - name: p
      scheduler: random
      hash_key: body
      backends: [{name: a, address: "127.0.0.1:1", weight: 70000}]
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{
		path + `:7:7: unknown key "colour"`,
		path + `:4:7: listener "web": kind "htp"`,
		`address "nowhere"`,
		path + `:11:7: route "route1": unknown pool "missing"`,
		`path_prefix "api" must start with /`,
		"path_regex: error parsing regexp",
		`source "1.2.3.4/40"`,
		`scheduler "random"`,
		`hash_key "body"`,
		`weight 70000`,
		`listener "web": accept_toa and accept_proxy_protocol both name the client`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseReportsTypeErrors(t *testing.T) {
	_, err := parseText(t, "listeners: [{name: w, kind: http, address: '127.0.0.1:0', max_header_bytes: lots}]\n")
	if err == nil || !strings.Contains(err.Error(), "test.yaml:1:") || !strings.Contains(err.Error(), "lots") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFileWithoutProxySection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	_ = os.WriteFile(path, []byte("services: []\n"), 0o600)
	if _, err := LoadFile(path); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}
