package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/index"
	"msgo/app/live"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/cache"
	"msgo/library/db"
	"msgo/library/db/dbtest"
	"msgo/library/encrypt"
)

// liveNode is a node with the live module that a test can kill and start
// again on the same address and database, as an operator restarting msgo
// would. While gated, it refuses wall tokens at the handshake (403), so a
// test can keep the wall away while phones talk, and then see it fill the gap.
type liveNode struct {
	t     *testing.T
	addr  string
	gdb   *gorm.DB
	codec *encrypt.Codec
	pages http.Handler
	opts  live.Options // DB is set by start
	gated atomic.Bool

	mu    sync.Mutex
	srv   *framework.Server
	store *cache.Memory
	ln    net.Listener
	done  chan struct{}
	stop  func()
}

func (n *liveNode) start() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	r := framework.NewRouter()
	index.Register(r) // as msgo start does: the phone page asks whoami
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o := n.opts
	o.DB, o.Log = n.gdb, logger
	n.stop = live.Register(r, o)
	auth := msgotest.Authenticator(n.codec)
	store := cache.NewMemory() // the process's memory dies with it
	srv, err := framework.New(framework.Options{
		Config: framework.Config{NodeID: "live-browser", Workers: 16},
		Router: r,
		Store:  store,
		Authenticate: func(tok []byte) (framework.Identity, error) {
			id, err := auth(tok)
			if err == nil && n.gated.Load() && id.Type == framework.TypeWall {
				return framework.Identity{}, errors.New("gated")
			}
			return id, err
		},
		HTTP:        n.pages,
		Logger:      logger,
		Unavailable: []error{db.ErrUnavailable},
	})
	if err != nil {
		n.t.Fatal(err)
	}
	addr := n.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the old socket may linger a moment
	}
	if err != nil {
		n.t.Fatal(err)
	}
	n.addr, n.srv, n.store, n.ln, n.done = ln.Addr().String(), srv, store, ln, make(chan struct{})
	go func(done chan struct{}) { srv.Serve(ln); close(done) }(n.done)
}

// kill stops the node: every connection is closed with 1001.
func (n *liveNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv == nil {
		return
	}
	n.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.srv.Stop(ctx, 1001, 0) // Serve returns once Stop stops accepting
	<-n.done
	n.stop()
	n.store.Close()
	n.srv = nil
}

// control lets the node tests drive the node: POST /kill, /start, /gate,
// /ungate, and POST /push?room=R&event=E with a JSON param as the body,
// pushed to room R as the manager port would.
func (n *liveNode) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /push", func(w http.ResponseWriter, r *http.Request) {
		var param json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&param); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := framework.Push(r.URL.Query().Get("event"), param)
		if err == nil {
			n.mu.Lock()
			err = n.srv.App().SendToGroup(r.Context(), framework.Room(r.URL.Query().Get("room")), f)
			n.mu.Unlock()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, r *http.Request) { n.kill() })
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) { n.start() })
	mux.HandleFunc("POST /gate", func(w http.ResponseWriter, r *http.Request) { n.gated.Store(true) })
	mux.HandleFunc("POST /ungate", func(w http.ResponseWriter, r *http.Request) { n.gated.Store(false) })
	return mux
}

// TestBrowserLive runs test/browser/live/*.test.js: the wall and phone
// pages, served by a node with the live module on SQLite, which the tests
// kill and start again through a control server (the pages then come from
// the browser's cache until the node is back).
func TestBrowserLive(t *testing.T) {
	runLiveBrowser(t, "live", live.Options{})
}

// TestBrowserLiveModeration runs test/browser/live-moderation/*.test.js:
// the moderator page, the wall and phones in a room where every message
// waits for approval, one hold word and two drop words.
func TestBrowserLiveModeration(t *testing.T) {
	runLiveBrowser(t, "live-moderation", live.Options{Moderation: live.Moderation{
		Mode: "hold_all", HoldWords: []string{"微信"}, DropWords: []string{"spam", "傻瓜"}}})
}

// runLiveBrowser runs the browser tests under test/browser/dir on a live
// node built with o, on SQLite.
func runLiveBrowser(t *testing.T, dir string, o live.Options) {
	const secret = "browser-test-secret"
	gdb := dbtest.SQLite(t)
	if err := db.Migrate(t.Context(), gdb, live.Models()...); err != nil {
		t.Fatal(err)
	}
	skipShort(t)
	codec := encrypt.New(secret, 24*time.Hour)
	node := &liveNode{t: t, gdb: gdb, codec: codec, pages: pages(t, codec), opts: o}
	node.start()
	t.Cleanup(node.kill)
	control := httptest.NewServer(node.control())
	t.Cleanup(control.Close)
	runBrowserTests(t, filepath.Join(dir, "*.test.js"), "http://"+node.addr, "",
		"MSGO_CONTROL_URL="+control.URL, "MSGO_SECRET="+secret)
}
