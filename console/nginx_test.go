package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"msgo/config"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

// TestNginxSample runs docs/nginx/msgo.conf in a real Nginx (Debian's
// package) in front of two msgo nodes, with a certificate made here, and
// connects with wss:// through it. Each node allows one connection per client
// IP and trusts only Nginx's address, so the limit counts the clients' own
// addresses (127.0.0.2, 127.0.0.3), never Nginx's; a client that reaches a
// node directly cannot claim another address with X-Real-IP.
func TestNginxSample(t *testing.T) {
	nginx := needNginx(t)
	secret := "nginx-test-secret"
	env := []string{"MSGO_AUTH_SECRET=" + secret, "MSGO_OUTSIDE_MAX_CONNS_PER_IP=1", "MSGO_OUTSIDE_TRUSTED_PROXIES=127.0.0.1"}
	a, b := newInstance(t, env...), newInstance(t, env...)
	a.must("start", "-d")
	b.must("start", "-d")

	dir := t.TempDir()
	pool := selfSigned(t, dir, "msgo.example.com")
	https, plain := freePort(t), freePort(t)
	conf := nginxConf(t, dir, map[string]string{
		"server 10.0.0.11:9501":               "server " + a.ws,
		"server 10.0.0.12:9501":               "server " + b.ws,
		"listen 443 ssl;":                     "listen " + https + " ssl;",
		"listen 80;":                          "listen " + plain + ";",
		"/etc/nginx/tls/msgo.example.com.crt": filepath.Join(dir, "cert.pem"),
		"/etc/nginx/tls/msgo.example.com.key": filepath.Join(dir, "key.pem"),
	})
	runNginx(t, nginx, dir, conf, https)

	codec := encrypt.New(secret, time.Hour)
	dial := func(from string, id string) (*msgotest.Client, error) {
		tok, err := codec.Mint(encrypt.Claims{ID: id, Type: framework.TypeWechatUser, Nickname: id})
		if err != nil {
			t.Fatal(err)
		}
		d := ws.Dialer{
			Timeout:   10 * time.Second,
			TLSConfig: &tls.Config{RootCAs: pool, ServerName: "msgo.example.com"},
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
				return nd.DialContext(ctx, network, addr)
			},
		}
		return msgotest.Connect("wss://"+https+"/ws?auth="+tok, d)
	}
	// Two nodes, one connection per IP each: two connections from one
	// address get through (least_conn puts them on different nodes), the
	// third is refused with 429; another address still gets its two.
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		for i := range 2 {
			c, err := dial(from, from+"-"+strconv.Itoa(i))
			if err != nil {
				t.Fatalf("wss from %s, connection %d: %v", from, i+1, err)
			}
			t.Cleanup(c.Close)
			if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
				t.Fatalf("whoami through nginx: %+v", r)
			}
		}
		_, err := dial(from, from+"-extra")
		if se := ws.StatusError(0); !errors.As(err, &se) || int(se) != http.StatusTooManyRequests {
			t.Fatalf("third wss from %s: %v, want 429 (the per-IP limit must see the client, not nginx)", from, err)
		}
	}

	// Straight to a node from an untrusted address, X-Real-IP is ignored:
	// claiming to be a fresh address does not get past 127.0.0.5's own limit.
	tok, _ := codec.Mint(encrypt.Claims{ID: "direct", Type: framework.TypeWechatUser})
	direct := func(claim string) error {
		d := ws.Dialer{
			Timeout: 5 * time.Second,
			Header:  ws.HandshakeHeaderHTTP(http.Header{"X-Real-Ip": {claim}}),
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.5")}}
				return nd.DialContext(ctx, network, addr)
			},
		}
		c, err := msgotest.Connect("ws://"+a.ws+"/ws?auth="+tok, d)
		if err == nil {
			t.Cleanup(c.Close)
		}
		return err
	}
	if err := direct("10.9.9.1"); err != nil {
		t.Fatalf("first direct connection: %v", err)
	}
	if err := direct("10.9.9.2"); err == nil {
		t.Fatal("a forged X-Real-IP from an untrusted peer got past the per-IP limit")
	}

	// Plain http is redirected to https.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get("http://" + plain + "/live/wall")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
		t.Fatalf("http on the plain port: %d %q, want a 301 to https", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestNginxTimeoutsOutlastHeartbeat: the sample's proxy timeouts are longer
// than msgo's idle timeout, so msgo, not Nginx, ends quiet connections.
func TestNginxTimeoutsOutlastHeartbeat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "nginx", "msgo.conf"))
	if err != nil {
		t.Fatal(err)
	}
	idle := config.Default().Outside.HeartbeatIdleTime
	for _, d := range []string{"proxy_read_timeout", "proxy_send_timeout"} {
		m := regexp.MustCompile(`(?m)^\s*` + d + `\s+(\d+)s;`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("docs/nginx/msgo.conf has no %s in seconds", d)
		}
		if n, _ := strconv.Atoi(string(m[1])); n <= idle {
			t.Errorf("%s %ds is not longer than outside.heartbeat_idle_time %ds", d, n, idle)
		}
	}
}

// needNginx returns Nginx's path; a missing Nginx fails the test in CI and
// skips it elsewhere.
func needNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is required in CI (apt-get install nginx; .ci/run does)")
	}
	t.Skip("nginx not installed (apt-get install nginx)")
	return ""
}

// selfSigned writes cert.pem and key.pem for host and 127.0.0.1 into dir
// and returns a pool that trusts the certificate.
func selfSigned(t *testing.T, dir, host string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "PRIVATE KEY", kder)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// nginxConf writes a whole nginx.conf into dir around the sample, with
// each key of swap (which must occur in the sample) replaced, and returns
// its path. Everything Nginx writes stays in dir.
func nginxConf(t *testing.T, dir string, swap map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "nginx", "msgo.conf"))
	if err != nil {
		t.Fatal(err)
	}
	sample := string(b)
	for from, to := range swap {
		if !strings.Contains(sample, from) {
			t.Fatalf("docs/nginx/msgo.conf no longer has %q; update this test with it", from)
		}
		sample = strings.ReplaceAll(sample, from, to)
	}
	var temps strings.Builder
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p := filepath.Join(dir, "tmp", kind)
		if err := os.MkdirAll(p, 0o777); err != nil {
			t.Fatal(err)
		}
		temps.WriteString(kind + "_temp_path " + p + ";\n")
	}
	conf := "worker_processes 1;\npid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log stderr warn;\n" +
		"events { worker_connections 256; }\n" +
		"http {\naccess_log " + filepath.Join(dir, "access.log") + ";\n" + temps.String() + sample + "\n}\n"
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runNginx starts Nginx in the foreground as the test's child and waits
// until it accepts on addr; cleanup stops it and waits for it.
func runNginx(t *testing.T, nginx, dir, conf, addr string) {
	t.Helper()
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", conf, "-e", "stderr").CombinedOutput(); err != nil {
		t.Fatalf("nginx -t on the sample: %v\n%s", err, out)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-e", "stderr", "-g", "daemon off;")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: workers finish, then exit
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("nginx said:\n%s", stderr.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not accepting on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
