package framework

import (
	"net/netip"
	"slices"
	"time"

	"msgo/framework/transport"
)

// Defaults applied by New to zero fields of Config; most are the transport's.
const (
	DefaultIdleTimeout    = transport.DefaultIdleTimeout
	DefaultMaxFrameSize   = transport.DefaultMaxFrameSize
	DefaultMaxMessageSize = transport.DefaultMaxMessageSize
	DefaultRateLimit      = 100
	// DefaultResumeBufferBytes bounds what a detached session keeps.
	DefaultResumeBufferBytes = 64 << 10
	DefaultMaxConnections    = transport.DefaultMaxConnections
	DefaultWriteQueueBytes   = transport.DefaultWriteQueueBytes
	DefaultHandshakeTimeout  = transport.DefaultHandshakeTimeout
	DefaultStopTimeout       = transport.DefaultStopTimeout
	DefaultCloseTimeout      = transport.DefaultCloseTimeout
	// MaxHandshakeBytes bounds the HTTP upgrade request.
	MaxHandshakeBytes = transport.MaxHandshakeBytes
)

// Config is a node's settings: its id, the user types its tokens carry, its
// rate limit, and the transport's.
type Config struct {
	NodeID string
	// UserTypes are the user types a token may carry (the application's
	// vocabulary, e.g. encrypt.Types()); required. A route's Allow names
	// some of them, and a push to a user id without a type reaches each.
	UserTypes        []string
	Paths            []string // accepted WebSocket paths; default "/" and "/ws"
	IdleTimeout      time.Duration
	MaxFrameSize     int
	MaxMessageSize   int
	RateLimit        int // messages per second per connection, burst the same; <0 disables
	MaxConnections   int
	MaxConnsPerIP    int // 0 = no limit
	AllowedOrigins   []string
	TrustedProxies   []netip.Prefix
	WriteQueueBytes  int
	Workers          int           // handler pool; default 64 x GOMAXPROCS
	HandshakeTimeout time.Duration // a connection not upgraded by then is dropped
	StopTimeout      time.Duration // in-flight handlers get this long at stop
	CloseTimeout     time.Duration // a closing connection gets this long to answer our close frame
	DrainWindow      time.Duration // a reload spreads its 1012 closes over this window
	// ResumeWindow is how long a session whose network dropped waits for
	// its client to resume it; 0 turns sessions off.
	ResumeWindow time.Duration
	// ResumeBufferBytes bounds the frames a detached session keeps; the
	// frame that would pass it ends the session. Default 65536.
	ResumeBufferBytes int
}

// withDefaults applies the defaults of what the transport does not own; the
// transport applies its own.
func (c Config) withDefaults() Config {
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.ResumeBufferBytes == 0 {
		c.ResumeBufferBytes = DefaultResumeBufferBytes
	}
	c.UserTypes = slices.Clone(c.UserTypes) // the caller's slice may change
	return c
}

// transport returns the transport's part of c.
func (c Config) transport() transport.Config {
	return transport.Config{
		Paths:            c.Paths,
		IdleTimeout:      c.IdleTimeout,
		MaxFrameSize:     c.MaxFrameSize,
		MaxMessageSize:   c.MaxMessageSize,
		MaxConnections:   c.MaxConnections,
		MaxConnsPerIP:    c.MaxConnsPerIP,
		AllowedOrigins:   c.AllowedOrigins,
		TrustedProxies:   c.TrustedProxies,
		WriteQueueBytes:  c.WriteQueueBytes,
		Workers:          c.Workers,
		HandshakeTimeout: c.HandshakeTimeout,
		StopTimeout:      c.StopTimeout,
		CloseTimeout:     c.CloseTimeout,
	}
}
