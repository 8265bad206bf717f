package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// ErrNoCertificate is a client hello no certificate of the listener answers.
var ErrNoCertificate = errors.New("no certificate")

// certStore holds a listener's certificates by SNI name and swaps them as a whole on reload.
// Handshakes read the current set through GetCertificate, so a reload never touches
// established connections and never leaves a half-loaded set visible.
type certStore struct {
	configs []CertificateConfig
	set     atomic.Pointer[certSet]
}

type certSet struct {
	exact    map[string]*tls.Certificate
	wildcard map[string]*tls.Certificate // key: ".example.com"
	fallback *tls.Certificate
	stamps   []fileStamp // what was loaded, to notice changes
}

type fileStamp struct {
	path  string
	mtime time.Time
	size  int64
}

func newCertStore(configs []CertificateConfig) (*certStore, error) {
	s := &certStore{configs: configs}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads every file again. On any error the old set stays in use.
func (s *certStore) reload() error {
	set := &certSet{exact: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}}
	for _, cc := range s.configs {
		stamps := statFiles(cc.Cert, cc.Key)
		cert, err := tls.LoadX509KeyPair(cc.Cert, cc.Key)
		if err != nil {
			return fmt.Errorf("load certificate %s: %w", cc.Cert, err)
		}
		if cert.Leaf == nil {
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return fmt.Errorf("parse certificate %s: %w", cc.Cert, err)
			}
		}
		names := cc.Names
		if len(names) == 0 {
			names = cert.Leaf.DNSNames
		}
		for _, n := range names {
			n = strings.ToLower(n)
			if suffix, ok := strings.CutPrefix(n, "*"); ok {
				if _, dup := set.wildcard[suffix]; !dup {
					set.wildcard[suffix] = &cert
				}
			} else if _, dup := set.exact[n]; !dup {
				set.exact[n] = &cert
			}
		}
		if set.fallback == nil {
			set.fallback = &cert
		}
		set.stamps = append(set.stamps, stamps...)
	}
	s.set.Store(set)
	return nil
}

// changed reports whether any file differs from what was loaded.
func (s *certStore) changed() bool {
	set := s.set.Load()
	for _, st := range set.stamps {
		now := statFiles(st.path)
		if len(now) == 0 || !now[0].mtime.Equal(st.mtime) || now[0].size != st.size {
			return true
		}
	}
	return false
}

func statFiles(paths ...string) []fileStamp {
	var out []fileStamp
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			out = append(out, fileStamp{p, fi.ModTime(), fi.Size()})
		}
	}
	return out
}

// getCertificate picks by SNI: exact name, then a wildcard for the parent domain (one label,
// as X.509 wildcards match), then the listener's first certificate (clients without SNI).
func (s *certStore) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := s.set.Load()
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if c := set.exact[name]; c != nil {
		return c, nil
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c := set.wildcard[name[i:]]; c != nil {
			return c, nil
		}
	}
	if set.fallback == nil {
		return nil, ErrNoCertificate
	}
	return set.fallback, nil
}

// tlsConfig is TLS 1.2 and 1.3 only with forward-secret AEAD suites for 1.2 (1.3's are fixed).
func (s *certStore) tlsConfig(nextProtos []string) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.getCertificate,
		NextProtos:     nextProtos,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
