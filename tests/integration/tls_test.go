package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, all generated for the test and written as PEM files.
type testPKI struct {
	dir                  string
	caFile               string
	serverCert, srvKey   string
	clientCert, cliKey   string
	pool                 *x509.CertPool
	client               tls.Certificate
	caKey                *ecdsa.PrivateKey
	caCert               *x509.Certificate
	serverSerial, serial int64
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), serial: 1}
	var err error
	p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: "cachalot test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(der)
	p.caFile = filepath.Join(p.dir, "ca.crt")
	writePEM(t, p.caFile, "CERTIFICATE", der)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.caCert)
	p.serverCert, p.srvKey = p.issue(t, "server", true)
	p.clientCert, p.cliKey = p.issue(t, "client", false)
	p.client, err = tls.LoadX509KeyPair(p.clientCert, p.cliKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// issue signs a new leaf and writes it; a server leaf is valid for
// 127.0.0.1 and localhost.
func (p *testPKI) issue(t *testing.T, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
		p.serverSerial = p.serial
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.dir, name+".crt"), filepath.Join(p.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSDaemon starts cachalot with a TLS port next to its plain port.
func startTLSDaemon(t *testing.T, p *testPKI, extra ...string) (d *daemon, tlsAddr string) {
	t.Helper()
	tlsPort := difftest.FreePort(t)
	args := append([]string{"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", p.serverCert,
		"--tls-key-file", p.srvKey, "--tls-ca-cert-file", p.caFile}, extra...)
	d = startDaemon(t, nil, args...)
	return d, net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
}

// goRedisTLS runs PING, SET and GET over TLS with go-redis.
func goRedisTLS(addr string, tc *tls.Config) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: tc, MaxRetries: -1,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	if err := rdb.Set(ctx, "tls:key", "over tls", 0).Err(); err != nil {
		return err
	}
	v, err := rdb.Get(ctx, "tls:key").Result()
	if err != nil {
		return err
	}
	if v != "over tls" {
		return &net.AddrError{Err: "GET returned " + strconv.Quote(v), Addr: addr}
	}
	return nil
}

func TestTLSMutualAuth(t *testing.T) {
	p := newTestPKI(t)
	d, tlsAddr := startTLSDaemon(t, p) // tls-auth-clients yes (the default)

	withCert := &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}
	if err := goRedisTLS(tlsAddr, withCert); err != nil {
		t.Fatalf("go-redis with a client certificate: %v", err)
	}
	noCert := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}
	if err := goRedisTLS(tlsAddr, noCert); err == nil {
		t.Error("tls-auth-clients yes accepted a client without a certificate")
	}
	// A certificate from another CA is refused too.
	other := newTestPKI(t)
	foreign := &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{other.client}, ServerName: "127.0.0.1"}
	if err := goRedisTLS(tlsAddr, foreign); err == nil {
		t.Error("accepted a client certificate signed by an unknown CA")
	}
	// The plain port still works and sees the key written over TLS.
	c := difftest.Dial(t, d.addr)
	defer c.Close()
	if got := string(c.Do("GET", "tls:key")); got != "$8\r\nover tls\r\n" {
		t.Errorf("plain GET of the key written over TLS = %q", got)
	}

	if cli, err := exec.LookPath("redis-cli"); err == nil {
		host, port, _ := net.SplitHostPort(tlsAddr)
		out, err := exec.Command(cli, "--tls", "--cacert", p.caFile, "--cert", p.clientCert, "--key", p.cliKey,
			"-h", host, "-p", port, "GET", "tls:key").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "over tls" {
			t.Errorf("redis-cli --tls GET: %v %q", err, out)
		}
	} else {
		t.Log("redis-cli not installed: redis-cli --tls not tried")
	}
}

func TestTLSOptionalAndNoClientAuth(t *testing.T) {
	p := newTestPKI(t)
	noCert := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}
	withCert := &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}
	for _, mode := range []string{"optional", "no"} {
		_, tlsAddr := startTLSDaemon(t, p, "--tls-auth-clients", mode)
		if err := goRedisTLS(tlsAddr, noCert); err != nil {
			t.Errorf("tls-auth-clients %s, no client certificate: %v", mode, err)
		}
		if err := goRedisTLS(tlsAddr, withCert); err != nil {
			t.Errorf("tls-auth-clients %s, with a client certificate: %v", mode, err)
		}
	}
	if cli, err := exec.LookPath("redis-cli"); err == nil {
		_, tlsAddr := startTLSDaemon(t, p, "--tls-auth-clients", "no")
		host, port, _ := net.SplitHostPort(tlsAddr)
		out, err := exec.Command(cli, "--tls", "--cacert", p.caFile, "-h", host, "-p", port, "PING").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "PONG" {
			t.Errorf("redis-cli --tls without a client certificate: %v %q", err, out)
		}
	}
}

func TestTLSProtocols(t *testing.T) {
	p := newTestPKI(t)
	_, tlsAddr := startTLSDaemon(t, p, "--tls-protocols", "TLSv1.3", "--tls-auth-clients", "no")
	old := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12}
	if err := goRedisTLS(tlsAddr, old); err == nil {
		t.Error("tls-protocols TLSv1.3 accepted a TLS 1.2 client")
	}
	current := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}
	if err := goRedisTLS(tlsAddr, current); err != nil {
		t.Errorf("TLS 1.3 client: %v", err)
	}
}

// TestTLSCertificateReloadOnSIGHUP replaces the server certificate files
// and checks that new connections get the new certificate after SIGHUP.
func TestTLSCertificateReloadOnSIGHUP(t *testing.T) {
	p := newTestPKI(t)
	d, tlsAddr := startTLSDaemon(t, p, "--tls-auth-clients", "no")
	serial := func() int64 {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr,
			&tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	first := serial()
	if first != p.serverSerial {
		t.Fatalf("server presents serial %d, want %d", first, p.serverSerial)
	}
	p.issue(t, "server", true) // overwrites server.crt and server.key
	d.signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	got := first
	for time.Now().Before(deadline) && got != p.serverSerial {
		time.Sleep(50 * time.Millisecond)
		got = serial()
	}
	if got != p.serverSerial {
		t.Errorf("after SIGHUP the server presents serial %d, want the new %d", got, p.serverSerial)
	}
}
