package transport

import (
	"net/netip"
	"runtime"
	"time"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultIdleTimeout      = 60 * time.Second
	DefaultMaxFrameSize     = 64 << 10
	DefaultMaxMessageSize   = 256 << 10
	DefaultMaxConnections   = 100000
	DefaultWriteQueueBytes  = 1 << 20
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultStopTimeout      = 10 * time.Second
	DefaultCloseTimeout     = 3 * time.Second
	// MaxHandshakeBytes bounds the HTTP upgrade request.
	MaxHandshakeBytes = 16 << 10
)

// Config is the transport's settings; New applies the Default* values to
// zero fields.
type Config struct {
	Paths            []string // accepted WebSocket paths; default "/" and "/ws"
	IdleTimeout      time.Duration
	MaxFrameSize     int
	MaxMessageSize   int
	MaxConnections   int
	MaxConnsPerIP    int // 0 = no limit
	AllowedOrigins   []string
	TrustedProxies   []netip.Prefix
	WriteQueueBytes  int
	Workers          int           // handler pool: goroutines serving the poller; default 64 x GOMAXPROCS
	HandshakeTimeout time.Duration // a connection not upgraded by then is dropped
	StopTimeout      time.Duration // in-flight messages get this long at stop
	CloseTimeout     time.Duration // a closing connection gets this long to answer our close frame
}

func (c Config) withDefaults() Config {
	if len(c.Paths) == 0 {
		c.Paths = []string{"/", "/ws"}
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxFrameSize <= 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.WriteQueueBytes <= 0 {
		c.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if c.Workers <= 0 {
		c.Workers = 64 * runtime.GOMAXPROCS(0)
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	return c
}
