package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDefaults(t *testing.T) {
	want := &Config{
		RuntimeDir: "runtime",
		Outside: Outside{
			Listen:            "0.0.0.0:9501",
			Paths:             []string{"/", "/ws"},
			HeartbeatIdleTime: 60,
			MaxFrameSize:      65536,
			MaxMessageSize:    262144,
			RateLimit:         100,
			MaxConnections:    100000,
			AllowedOrigins:    []string{},
			TrustedProxies:    []string{},
			WriteQueueBytes:   1048576,
			HandshakeTimeout:  5,
			StopTimeout:       10,
			DrainWindow:       5,
		},
		Manager: Manager{Listen: "127.0.0.1:9502", AllowedOrigins: []string{}, AllowedHosts: []string{}},
		Auth:    Auth{TTL: 86400},
		Log:     Log{Level: "info", Format: "text"},
		Kefu:    Kefu{Canned: defaultCanned},
		Live:    Live{Moderation: LiveModeration{Mode: "off", HoldWords: []string{}, DropWords: []string{}}},
		Proxy: Proxy{Timeout: 5, Methods: []string{}, Workers: 64, Queue: 4096, DisconnectRetention: 86400,
			RetryMinMS: 500, RetryMax: 30},
		DB:    DB{Driver: "sqlite", MaxOpenConns: 32, MaxIdleConns: 8, ConnMaxLifetime: 300, AutoMigrate: true},
		Cache: Cache{Driver: "memory", Redis: Redis{Addr: "127.0.0.1:6379", Prefix: "msgo:"}},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Default() =\n%+v\nwant\n%+v", got, want)
	}
}

// defaultCanned is the built-in kefu.canned: the usual openings and
// closings of a Chinese support team, and a few in English.
var defaultCanned = []string{
	"您好，请问有什么可以帮您？",
	"请提供一下您的订单号，我帮您查询。",
	"好的，我这边帮您查一下，请稍等。",
	"已为您登记退款，款项将在 3 个工作日内原路退回。",
	"请问还有其他可以帮您的吗？",
	"感谢您的耐心等待，祝您生活愉快！",
	"Hello! How can I help you today?",
	"Could you share your order number? I will look it up.",
	"Thank you for waiting. Is there anything else I can do for you?",
}

func TestCannedValidated(t *testing.T) {
	c := Default()
	c.Kefu.Canned = []string{"ok", "", strings.Repeat("字", 2001)}
	err := c.Validate()
	if err == nil || strings.Count(err.Error(), "kefu.canned (MSGO_KEFU_CANNED)") != 2 {
		t.Errorf("an empty and a 2001-character reply: %v, want two kefu.canned errors", err)
	}
	c.Kefu.Canned = []string{strings.Repeat("字", 2000)}
	if err := c.Validate(); err != nil {
		t.Errorf("a 2000-character reply: %v", err)
	}
}

// TestDefaultFilesListEveryKey keeps the default files a complete reference:
// every key of Config appears in exactly the file that owns it.
func TestDefaultFilesListEveryKey(t *testing.T) {
	var inFiles []string
	for _, name := range fileNames {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		embedded, _ := defaults.ReadFile(name)
		if string(data) != string(embedded) {
			t.Errorf("%s on disk differs from the embedded copy", name)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		inFiles = append(inFiles, leafPaths(m, "")...)
	}
	var want []string
	for _, s := range settings(new(Config)) {
		want = append(want, s.path)
	}
	slices.Sort(inFiles)
	slices.Sort(want)
	if !slices.Equal(inFiles, want) {
		t.Errorf("keys in the default files:\n%v\nkeys of Config:\n%v", inFiles, want)
	}
}

func leafPaths(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out = append(out, leafPaths(sub, prefix+k+".")...)
		} else {
			out = append(out, prefix+k)
		}
	}
	return out
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"app.yaml": "outside:\n  max_frame_size: 1024\n  paths: [/chat]\nauth:\n  ttl: 60\n",
		"db.yaml":  "db:\n  driver: mysql\n  dsn: u:p@tcp(db:3306)/msgo\n",
		// no cache.yaml: its defaults stay
	})
	c, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outside.MaxFrameSize != 1024 || !slices.Equal(c.Outside.Paths, []string{"/chat"}) || c.Auth.TTL != 60 {
		t.Errorf("app.yaml not applied: %+v %+v", c.Outside, c.Auth)
	}
	if c.Outside.MaxMessageSize != 262144 || c.Outside.Listen != "0.0.0.0:9501" {
		t.Errorf("keys app.yaml does not set lost their defaults: %+v", c.Outside)
	}
	if c.DB.Driver != "mysql" || c.DB.DSN != "u:p@tcp(db:3306)/msgo" || c.DB.MaxOpenConns != 32 {
		t.Errorf("db.yaml not applied: %+v", c.DB)
	}
	if c.Cache.Driver != "memory" {
		t.Errorf("cache = %+v, want defaults", c.Cache)
	}
}

func TestLoadEmptyFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.yaml": "", "db.yaml": "# nothing\n"})
	c, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("empty files changed the config: %+v", c)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"app.yaml", "outside:\n  max_frame_sise: 1\n", []string{"app.yaml", "line 2", "unknown key outside.max_frame_sise"}},
		{"app.yaml", "colour: red\n", []string{"unknown key colour"}},
		{"app.yaml", "db:\n  driver: mysql\n", []string{"key db belongs in db.yaml"}},
		{"cache.yaml", "outside:\n  listen: :1\n", []string{"key outside belongs in app.yaml"}},
		{"cache.yaml", "cache:\n  redis:\n    adr: x\n", []string{"unknown key cache.redis.adr"}},
		{"app.yaml", "outside:\n  max_frame_size: big\n", []string{"app.yaml", "big"}},
		{"app.yaml", "outside: [1, 2]\n", []string{"app.yaml"}},
		{"app.yaml", "outside:\n  max_frame_size: -1\n", []string{"outside.max_frame_size (MSGO_OUTSIDE_MAX_FRAME_SIZE): must be > 0, got -1"}},
		{"app.yaml", "a: [\n", []string{"app.yaml"}},
	}
	for _, tt := range tests {
		_, err := Load(writeFiles(t, map[string]string{tt.name: tt.body}), nil)
		if err == nil {
			t.Errorf("%s %q: no error", tt.name, tt.body)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %q: error %q does not mention %q", tt.name, tt.body, err, w)
			}
		}
	}
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// TestEnvProtocolNames sets every variable the operations contract promises (docs/operations.md).
func TestEnvProtocolNames(t *testing.T) {
	env := map[string]string{
		"MSGO_OUTSIDE_LISTEN":              "127.0.0.1:0",
		"MSGO_MANAGER_LISTEN":              "0.0.0.0:9600",
		"MSGO_MANAGER_TOKEN":               "tok",
		"MSGO_AUTH_SECRET":                 "sec",
		"MSGO_AUTH_TTL":                    "120",
		"MSGO_OUTSIDE_HEARTBEAT_IDLE_TIME": "7",
		"MSGO_OUTSIDE_MAX_FRAME_SIZE":      "100",
		"MSGO_OUTSIDE_MAX_MESSAGE_SIZE":    "200",
		"MSGO_OUTSIDE_RATE_LIMIT":          "5",
		"MSGO_OUTSIDE_MAX_CONNECTIONS":     "10",
		"MSGO_OUTSIDE_MAX_CONNS_PER_IP":    "2",
		"MSGO_OUTSIDE_ALLOWED_ORIGINS":     "https://a.example, http://b.example:8080",
		"MSGO_MANAGER_ALLOWED_ORIGINS":     "https://admin.example",
		"MSGO_MANAGER_ALLOWED_HOSTS":       "msgo.internal, 10.0.0.5",
		"MSGO_RUNTIME_DIR":                 "/var/lib/msgo",
		"MSGO_CACHE_DRIVER":                "redis",
		"MSGO_CACHE_REDIS_ADDR":            "redis:6380",
		"MSGO_DB_DRIVER":                   "mysql",
		"MSGO_DB_DSN":                      "u:p@tcp(db)/m",
		"MSGO_NODE_ID":                     "node-1",
		"MSGO_KEFU_FAQ":                    "/etc/faq.yaml",
		"MSGO_LIVE_MODERATION_MODE":        "hold_all",
		"MSGO_LIVE_MODERATION_HOLD_WORDS":  "广告, 微信",
		"MSGO_PROXY_ENDPOINT":              "http://php.local:8080/msgo",
		"MSGO_PROXY_TOKEN":                 "ptok",
		"MSGO_PROXY_TIMEOUT":               "3",
		"MSGO_PROXY_METHODS":               "shop, order.pay",
		"MSGO_PROXY_CONNECT":               "true",
		"MSGO_PROXY_DISCONNECT":            "1",
	}
	c, err := Load("", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Outside.Listen = "127.0.0.1:0"
	want.Manager.Listen = "0.0.0.0:9600"
	want.Manager.Token = "tok"
	want.Auth = Auth{Secret: "sec", TTL: 120}
	want.Outside.HeartbeatIdleTime = 7
	want.Outside.MaxFrameSize = 100
	want.Outside.MaxMessageSize = 200
	want.Outside.RateLimit = 5
	want.Outside.MaxConnections = 10
	want.Outside.MaxConnsPerIP = 2
	want.Outside.AllowedOrigins = []string{"https://a.example", "http://b.example:8080"}
	want.Manager.AllowedOrigins = []string{"https://admin.example"}
	want.Manager.AllowedHosts = []string{"msgo.internal", "10.0.0.5"}
	want.RuntimeDir = "/var/lib/msgo"
	want.Cache.Driver = "redis"
	want.Cache.Redis.Addr = "redis:6380"
	want.DB.Driver = "mysql"
	want.DB.DSN = "u:p@tcp(db)/m"
	want.NodeID = "node-1"
	want.Kefu.FAQ = "/etc/faq.yaml"
	want.Live.Moderation.Mode = "hold_all"
	want.Live.Moderation.HoldWords = []string{"广告", "微信"}
	want.Proxy.Endpoint = "http://php.local:8080/msgo"
	want.Proxy.Token = "ptok"
	want.Proxy.Timeout = 3
	want.Proxy.Methods = []string{"shop", "order.pay"}
	want.Proxy.Connect = true
	want.Proxy.Disconnect = true
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
}

// TestEnvEveryKey checks that each leaf key has a variable that changes it.
func TestEnvEveryKey(t *testing.T) {
	for _, s := range settings(new(Config)) {
		name := EnvName(s.path)
		raw := map[reflect.Kind]string{reflect.String: "x", reflect.Int: "12345", reflect.Bool: "true", reflect.Slice: "a,b"}[s.v.Kind()]
		c := new(Config)
		if err := applyEnv(c, envMap(map[string]string{name: raw})); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := settings(c); slices.IndexFunc(got, func(g setting) bool { return g.path == s.path && !g.v.IsZero() }) < 0 {
			t.Errorf("%s did not set %s", name, s.path)
		}
	}
}

func TestEnvSyntax(t *testing.T) {
	c, err := Load("", envMap(map[string]string{
		"MSGO_OUTSIDE_PATHS":           " /a ,, /b ",
		"MSGO_OUTSIDE_TRUSTED_PROXIES": "",
		"MSGO_MANAGER_PPROF":           "1",
		"MSGO_DB_AUTO_MIGRATE":         "false",
		"MSGO_OUTSIDE_WORKERS":         " 8 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Outside.Paths, []string{"/a", "/b"}) || len(c.Outside.TrustedProxies) != 0 ||
		!c.Manager.Pprof || c.DB.AutoMigrate || c.Outside.Workers != 8 {
		t.Fatalf("got %+v %+v %+v", c.Outside, c.Manager, c.DB)
	}

	for name, val := range map[string]string{
		"MSGO_OUTSIDE_MAX_FRAME_SIZE": "64k",
		"MSGO_CACHE_REDIS_DB":         "",
		"MSGO_MANAGER_PPROF":          "yes",
	} {
		_, err := Load("", envMap(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "("+name+")") {
			t.Errorf("%s=%q: err = %v, want it to name the variable", name, val, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Outside.MaxFrameSize = -1 }, "config: outside.max_frame_size (MSGO_OUTSIDE_MAX_FRAME_SIZE): must be > 0, got -1"},
		{func(c *Config) { c.Outside.MaxMessageSize = 1000 }, "outside.max_message_size (MSGO_OUTSIDE_MAX_MESSAGE_SIZE): must be >= outside.max_frame_size"},
		{func(c *Config) { c.Outside.Listen = "9501" }, "outside.listen (MSGO_OUTSIDE_LISTEN): must be host:port"},
		{func(c *Config) { c.Outside.Listen = "0.0.0.0:http" }, "outside.listen (MSGO_OUTSIDE_LISTEN)"},
		{func(c *Config) { c.Outside.Listen = "0.0.0.0:70000" }, "outside.listen (MSGO_OUTSIDE_LISTEN)"},
		{func(c *Config) { c.Outside.Paths = nil }, "outside.paths (MSGO_OUTSIDE_PATHS)"},
		{func(c *Config) { c.Outside.Paths = []string{"ws"} }, "outside.paths (MSGO_OUTSIDE_PATHS)"},
		{func(c *Config) { c.Outside.HeartbeatIdleTime = 0 }, "outside.heartbeat_idle_time (MSGO_OUTSIDE_HEARTBEAT_IDLE_TIME)"},
		{func(c *Config) { c.Outside.RateLimit = 0 }, "outside.rate_limit (MSGO_OUTSIDE_RATE_LIMIT)"},
		{func(c *Config) { c.Outside.MaxConnections = 0 }, "outside.max_connections (MSGO_OUTSIDE_MAX_CONNECTIONS)"},
		{func(c *Config) { c.Outside.MaxConnsPerIP = -1 }, "outside.max_conns_per_ip (MSGO_OUTSIDE_MAX_CONNS_PER_IP)"},
		{func(c *Config) { c.Outside.AllowedOrigins = []string{"example.com"} }, "outside.allowed_origins (MSGO_OUTSIDE_ALLOWED_ORIGINS)"},
		{func(c *Config) { c.Manager.AllowedOrigins = []string{"example.com"} }, "manager.allowed_origins (MSGO_MANAGER_ALLOWED_ORIGINS)"},
		{func(c *Config) { c.Manager.AllowedHosts = []string{"http://example.com"} }, "manager.allowed_hosts (MSGO_MANAGER_ALLOWED_HOSTS)"},
		{func(c *Config) { c.Manager.AllowedHosts = []string{"example.com:9502"} }, "manager.allowed_hosts"},
		{func(c *Config) { c.Manager.AllowedHosts = []string{""} }, "manager.allowed_hosts"},
		{func(c *Config) { c.Outside.AllowedOrigins = []string{"https://example.com/"} }, "outside.allowed_origins"},
		{func(c *Config) { c.Outside.AllowedOrigins = []string{"https://Example.com"} }, "outside.allowed_origins"},
		{func(c *Config) { c.Outside.AllowedOrigins = []string{"https://u@example.com"} }, "outside.allowed_origins"},
		{func(c *Config) { c.Outside.TrustedProxies = []string{"10.0.0.0/33"} }, "outside.trusted_proxies (MSGO_OUTSIDE_TRUSTED_PROXIES)"},
		{func(c *Config) { c.Outside.WriteQueueBytes = 0 }, "outside.write_queue_bytes (MSGO_OUTSIDE_WRITE_QUEUE_BYTES)"},
		{func(c *Config) { c.Outside.Workers = -1 }, "outside.workers (MSGO_OUTSIDE_WORKERS)"},
		{func(c *Config) { c.Outside.HandshakeTimeout = 0 }, "outside.handshake_timeout (MSGO_OUTSIDE_HANDSHAKE_TIMEOUT)"},
		{func(c *Config) { c.Outside.StopTimeout = -1 }, "outside.stop_timeout (MSGO_OUTSIDE_STOP_TIMEOUT)"},
		{func(c *Config) { c.Outside.DrainWindow = -1 }, "outside.drain_window (MSGO_OUTSIDE_DRAIN_WINDOW)"},
		{func(c *Config) { c.Manager.Listen = "0.0.0.0:9502" }, "manager.token (MSGO_MANAGER_TOKEN): must be set when manager.listen (MSGO_MANAGER_LISTEN) is not a loopback address"},
		{func(c *Config) { c.Manager.Listen = ":9502" }, "manager.token (MSGO_MANAGER_TOKEN)"},
		{func(c *Config) { c.Auth.TTL = 0 }, "auth.ttl (MSGO_AUTH_TTL)"},
		{func(c *Config) { c.Log.Level = "verbose" }, "log.level (MSGO_LOG_LEVEL)"},
		{func(c *Config) { c.Log.Format = "xml" }, `log.format (MSGO_LOG_FORMAT): must be text or json, got "xml"`},
		{func(c *Config) { c.Live.Moderation.Mode = "all" }, `live.moderation.mode (MSGO_LIVE_MODERATION_MODE): must be off or hold_all, got "all"`},
		{func(c *Config) { c.DB.Driver = "postgres" }, `db.driver (MSGO_DB_DRIVER): must be sqlite or mysql, got "postgres"`},
		{func(c *Config) { c.DB.Driver = "mysql" }, "db.dsn (MSGO_DB_DSN)"},
		{func(c *Config) { c.DB.MaxOpenConns = 0 }, "db.max_open_conns (MSGO_DB_MAX_OPEN_CONNS)"},
		{func(c *Config) { c.Cache.Driver = "memcached" }, "cache.driver (MSGO_CACHE_DRIVER)"},
		{func(c *Config) { c.Cache.Driver = "redis"; c.Cache.Redis.Addr = "redis" }, "cache.redis.addr (MSGO_CACHE_REDIS_ADDR)"},
		{func(c *Config) { c.NodeID = "a:b" }, "node_id (MSGO_NODE_ID)"},
		{func(c *Config) { c.RuntimeDir = "" }, "runtime_dir (MSGO_RUNTIME_DIR)"},
	}
	for _, tt := range tests {
		c := Default()
		tt.change(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want it to contain %q", err, tt.want)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	c := Default()
	c.Outside.Listen = "[::1]:0"
	c.Outside.AllowedOrigins = []string{"https://example.com", "http://localhost:8080", "https://[::1]:443"}
	c.Outside.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8"}
	c.Manager.Listen = "localhost:9502"
	c.Log.Level = "DEBUG"
	c.NodeID = "node-1.eu_west"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Manager.Listen = "0.0.0.0:9502"
	c.Manager.Token = "t"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.Auth.Secret = "hunter2-secret"
	c.Outside.RateLimit = -1
	c.Log.Format = ""
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "rate_limit") || !strings.Contains(err.Error(), "log.format") {
		t.Fatalf("err = %v, want both problems", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error reveals the secret: %v", err)
	}
}

func TestDerived(t *testing.T) {
	c := Default()
	c.RuntimeDir = "/srv/run"
	if got := c.RuntimePath("msgo.pid"); got != "/srv/run/msgo.pid" {
		t.Errorf("RuntimePath = %q", got)
	}
	if got := c.RuntimePath("/tmp/x.log"); got != "/tmp/x.log" {
		t.Errorf("RuntimePath(abs) = %q", got)
	}
	if got := c.DBDSN(); got != "/srv/run/msgo.db" {
		t.Errorf("DBDSN = %q", got)
	}
	c.DB.DSN = "file:x.db"
	if got := c.DBDSN(); got != "file:x.db" {
		t.Errorf("DBDSN = %q", got)
	}
	if c.IdleTimeout() != time.Minute || c.TokenTTL() != 24*time.Hour || c.HandshakeTimeout() != 5*time.Second ||
		c.StopTimeout() != 10*time.Second || c.DrainWindow() != 5*time.Second || c.ConnMaxLifetime() != 5*time.Minute {
		t.Error("durations do not match the defaults")
	}
}

func TestEnsureSecret(t *testing.T) {
	c := Default()
	c.RuntimeDir = filepath.Join(t.TempDir(), "run")
	generated, err := EnsureSecret(c)
	if err != nil || !generated {
		t.Fatalf("EnsureSecret = %v, %v; want true, nil", generated, err)
	}
	if len(c.Auth.Secret) != 64 || strings.Trim(c.Auth.Secret, "0123456789abcdef") != "" {
		t.Errorf("secret %q is not 32 hex-encoded bytes", c.Auth.Secret)
	}
	fi, err := os.Stat(c.RuntimePath(SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(c.RuntimeDir); len(entries) != 1 {
		t.Errorf("runtime dir holds %d entries, want only the secret", len(entries))
	}

	again := Default()
	again.RuntimeDir = c.RuntimeDir
	if generated, err := EnsureSecret(again); err != nil || generated || again.Auth.Secret != c.Auth.Secret {
		t.Errorf("second EnsureSecret = %v, %v, same secret %v", generated, err, again.Auth.Secret == c.Auth.Secret)
	}

	set := Default()
	set.RuntimeDir = filepath.Join(t.TempDir(), "untouched")
	set.Auth.Secret = "given"
	if generated, err := EnsureSecret(set); err != nil || generated || set.Auth.Secret != "given" {
		t.Errorf("EnsureSecret with a secret = %v, %v, %q", generated, err, set.Auth.Secret)
	}
	if _, err := os.Stat(set.RuntimeDir); !os.IsNotExist(err) {
		t.Error("EnsureSecret with a secret touched the runtime dir")
	}
}

func TestEnsureSecretRace(t *testing.T) {
	dir := t.TempDir()
	secrets := make([]string, 8)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Go(func() {
			c := Default()
			c.RuntimeDir = dir
			if _, err := EnsureSecret(c); err != nil {
				t.Error(err)
			}
			secrets[i] = c.Auth.Secret
		})
	}
	wg.Wait()
	for _, s := range secrets {
		if s == "" || s != secrets[0] {
			t.Fatalf("racing starts disagree: %q", secrets)
		}
	}
}

func TestEnsureSecretEmptyFile(t *testing.T) {
	c := Default()
	c.RuntimeDir = t.TempDir()
	os.WriteFile(c.RuntimePath(SecretFile), []byte("\n"), 0o600)
	if _, err := EnsureSecret(c); err == nil {
		t.Fatal("empty secret file accepted")
	}
}

func TestEnsureNodeID(t *testing.T) {
	c := Default()
	EnsureNodeID(c)
	if len(c.NodeID) != 8 || c.Validate() != nil {
		t.Fatalf("NodeID = %q", c.NodeID)
	}
	c.NodeID = "fixed"
	EnsureNodeID(c)
	if c.NodeID != "fixed" {
		t.Fatalf("NodeID overwritten: %q", c.NodeID)
	}
}
