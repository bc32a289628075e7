package msgotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"msgo/framework"
	"msgo/library/cache"
	"msgo/library/encrypt"
)

// Module registers a module's routes, as app/*.Register does.
type Module func(r *framework.Router)

// Options configures a test node. Zero values give a lone node on a memory
// store with a random secret.
type Options struct {
	Modules     []Module
	Store       cache.Store // shared by nodes of one cluster; default a new cache.Memory
	Secret      string      // default random; nodes of one cluster share it
	NodeID      string      // default random
	Config      framework.Config
	Middleware  []framework.Middleware
	Unavailable []error
	HTTP        http.Handler // plain HTTP on the WebSocket port
	Logger      *slog.Logger // default: warnings and errors to stderr
	Backend     framework.Backend
}

// Server is a running test node.
type Server struct {
	*framework.Server
	// URL is the node's WebSocket address, ws://127.0.0.1:port/ws.
	URL    string
	Addr   string
	Codec  *encrypt.Codec
	Secret string
	Store  cache.Store
	ln     net.Listener
	done   chan struct{}
}

// Start starts a node and registers its stop with t.Cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Store == nil {
		m := cache.NewMemory()
		t.Cleanup(func() { m.Close() })
		o.Store = m
	}
	if o.Secret == "" {
		o.Secret = randomHex(16)
	}
	cfg := o.Config
	if cfg.NodeID == "" {
		cfg.NodeID = o.NodeID
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "t" + randomHex(4)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 16
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	codec := encrypt.New(o.Secret, 24*time.Hour)
	r := framework.NewRouter()
	r.Use(o.Middleware...)
	for _, m := range o.Modules {
		m(r)
	}
	srv, err := framework.New(framework.Options{
		Config:       cfg,
		Router:       r,
		Store:        o.Store,
		Authenticate: Authenticator(codec),
		Logger:       log,
		Unavailable:  o.Unavailable,
		HTTP:         o.HTTP,
		Backend:      o.Backend,
	})
	if err != nil {
		t.Fatalf("msgotest: start node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("msgotest: listen: %v", err)
	}
	s := &Server{Server: srv, Addr: ln.Addr().String(), URL: "ws://" + ln.Addr().String() + "/ws",
		Codec: codec, Secret: o.Secret, Store: o.Store, ln: ln, done: make(chan struct{})}
	go func() { srv.Serve(ln); close(s.done) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop closes every connection with 1001 and stops the node; it is safe to
// call twice.
func (s *Server) Stop() {
	s.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Server.Stop(ctx, 1001, 0)
	<-s.done
}

// Authenticator adapts an encrypt.Codec to the framework, as the console does.
func Authenticator(c *encrypt.Codec) framework.Authenticator {
	return func(token []byte) (framework.Identity, error) {
		cl, err := c.Parse(token)
		if err != nil {
			return framework.Identity{}, err
		}
		return framework.Identity{ID: cl.ID, Type: cl.Type, Code: cl.Code, Nickname: cl.Nickname}, nil
	}
}

// Token mints a token for id on this node's secret.
func (s *Server) Token(t testing.TB, id framework.Identity) string {
	t.Helper()
	tok, err := s.Codec.Mint(encrypt.Claims{ID: id.ID, Type: id.Type, Code: id.Code, Nickname: id.Nickname})
	if err != nil {
		t.Fatalf("msgotest: mint token: %v", err)
	}
	return tok
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
