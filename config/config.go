package config

// Config is every setting msgo reads. Files in a config directory (app.yaml,
// db.yaml, cache.yaml) fill it over the built-in defaults, then environment
// variables override single keys: MSGO_ plus the YAML path joined by "_" and
// upper-cased (outside.max_frame_size is MSGO_OUTSIDE_MAX_FRAME_SIZE).
type Config struct {
	// NodeID names this node in a cluster; generated when empty.
	NodeID string `yaml:"node_id"`
	// RuntimeDir holds the pid file, logs, the generated secret and the SQLite file.
	RuntimeDir string `yaml:"runtime_dir"`

	Outside Outside `yaml:"outside"`
	Manager Manager `yaml:"manager"`
	Auth    Auth    `yaml:"auth"`
	Log     Log     `yaml:"log"`
	Kefu    Kefu    `yaml:"kefu"`
	Live    Live    `yaml:"live"`
	Proxy   Proxy   `yaml:"proxy"`
	DB      DB      `yaml:"db"`
	Cache   Cache   `yaml:"cache"`
}

// Outside configures the client-facing WebSocket listener.
type Outside struct {
	Listen            string   `yaml:"listen"`              // 0.0.0.0:9501
	Paths             []string `yaml:"paths"`               // ["/", "/ws"]
	HeartbeatIdleTime int      `yaml:"heartbeat_idle_time"` // seconds, 60
	MaxFrameSize      int      `yaml:"max_frame_size"`      // bytes, 65536
	MaxMessageSize    int      `yaml:"max_message_size"`    // bytes, 262144
	RateLimit         int      `yaml:"rate_limit"`          // messages per second per connection, 100
	MaxConnections    int      `yaml:"max_connections"`     // 100000
	MaxConnsPerIP     int      `yaml:"max_conns_per_ip"`    // 0 = no limit
	AllowedOrigins    []string `yaml:"allowed_origins"`     // empty = any
	TrustedProxies    []string `yaml:"trusted_proxies"`     // IPs or CIDRs whose X-Real-IP/X-Forwarded-For is believed
	WriteQueueBytes   int      `yaml:"write_queue_bytes"`   // per-connection queued output before close 1008, 1048576
	Workers           int      `yaml:"workers"`             // handler pool size, 0 = 64 x GOMAXPROCS
	HandshakeTimeout  int      `yaml:"handshake_timeout"`   // seconds, 5
	StopTimeout       int      `yaml:"stop_timeout"`        // seconds in-flight handlers get at stop, 10
	DrainWindow       int      `yaml:"drain_window"`        // seconds over which a reload spreads its 1012 closes, 5
}

// Manager configures the backend-facing HTTP port.
type Manager struct {
	Listen string `yaml:"listen"` // 127.0.0.1:9502
	Token  string `yaml:"token"`  // bearer token; required off loopback
	Pprof  bool   `yaml:"pprof"`  // serve /debug/pprof behind the token
	// AllowedOrigins lists the Origin headers served; any other request
	// that carries one (a web page's) answers 403.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedHosts lists the host names or addresses the Host header may
	// name besides loopback and localhost; any other answers 421.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Auth configures client tokens.
type Auth struct {
	Secret string `yaml:"secret"` // generated into RuntimeDir/secret when empty
	TTL    int    `yaml:"ttl"`    // seconds, 86400
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
	File   string `yaml:"file"`   // empty = stderr; relative paths are under RuntimeDir
}

// Kefu configures the customer-service module.
type Kefu struct {
	FAQ    string   `yaml:"faq"`    // path of the bot's FAQ file; empty = built-in
	Canned []string `yaml:"canned"` // the agents' canned replies, 1..2000 characters each
}

// Live configures the event wall module.
type Live struct {
	Moderation LiveModeration `yaml:"moderation"`
}

// LiveModeration decides which wall messages wait for a moderator.
type LiveModeration struct {
	Mode      string   `yaml:"mode"`       // off or hold_all
	HoldWords []string `yaml:"hold_words"` // a message containing one waits for a moderator
	DropWords []string `yaml:"drop_words"` // a message containing one is thrown away
}

// Proxy configures the backend proxy: connects, chosen methods and
// disconnects forwarded to an HTTP (PHP) backend. Off while Endpoint is empty.
type Proxy struct {
	Endpoint            string   `yaml:"endpoint"`             // base URL, http:// or https://; empty = off
	Token               string   `yaml:"token"`                // Authorization: Bearer on every call
	Timeout             int      `yaml:"timeout"`              // seconds per call, 5
	Methods             []string `yaml:"methods"`              // method prefixes forwarded to /rpc
	Connect             bool     `yaml:"connect"`              // ask /connect at every handshake
	Disconnect          bool     `yaml:"disconnect"`           // report every ended connection to /disconnect
	Workers             int      `yaml:"workers"`              // goroutines waiting on the backend, 64
	Queue               int      `yaml:"queue"`                // calls waiting for a worker before 503, 4096
	DisconnectRetention int      `yaml:"disconnect_retention"` // seconds an event is retried, 86400
	RetryMinMS          int      `yaml:"retry_min_ms"`         // first retry delay of an event, ms, 500
	RetryMax            int      `yaml:"retry_max"`            // longest retry delay, seconds, 30
}

// DB configures the relational database.
type DB struct {
	Driver          string `yaml:"driver"`            // sqlite or mysql
	DSN             string `yaml:"dsn"`               // default RuntimeDir/msgo.db for sqlite
	MaxOpenConns    int    `yaml:"max_open_conns"`    // 32
	MaxIdleConns    int    `yaml:"max_idle_conns"`    // 8
	ConnMaxLifetime int    `yaml:"conn_max_lifetime"` // seconds, 300
	AutoMigrate     bool   `yaml:"auto_migrate"`      // true
}

// Cache configures the shared state store.
type Cache struct {
	Driver string `yaml:"driver"` // memory or redis
	Redis  Redis  `yaml:"redis"`
}

// Redis configures the redis store.
type Redis struct {
	Addr     string `yaml:"addr"` // 127.0.0.1:6379
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	Prefix   string `yaml:"prefix"` // key prefix, "msgo:"
}
