package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"msgo/framework"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultWorkers   = 64
	DefaultQueue     = 4096
	DefaultRetention = 24 * time.Hour
	DefaultRetryMin  = 500 * time.Millisecond
	DefaultRetryMax  = 30 * time.Second
	// MaxAnswerBytes caps a backend's answer; a longer one is a failure.
	MaxAnswerBytes = 1 << 20
)

// Config is the proxy's settings (the proxy.* keys).
type Config struct {
	Endpoint   string        // base URL, http:// or https://; required
	Token      string        // sent as Authorization: Bearer on every call
	Timeout    time.Duration // per call
	Methods    []string      // method prefixes forwarded to /rpc ("shop" matches shop.order.create)
	Connect    bool          // ask /connect at every handshake
	Disconnect bool          // report every ended connection to /disconnect
	Workers    int           // goroutines waiting on the backend
	Queue      int           // calls waiting for a worker; beyond it, 503
	// Retention is how long an undelivered disconnect event is retried.
	Retention time.Duration
	// RetryMin and RetryMax bound the backoff between attempts of one event.
	RetryMin, RetryMax time.Duration
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	for i, m := range c.Methods {
		c.Methods[i] = strings.ToLower(strings.Trim(m, ". "))
	}
	return c
}

// Options wires a Proxy.
type Options struct {
	Node   string // this node's id; required
	Events Events // where disconnect events wait; required with Config.Disconnect
	Logger *slog.Logger
	Client *http.Client // nil: a client of its own that follows no redirect
}

// Proxy forwards connects, requests and disconnects to an HTTP backend. It
// is a framework.Backend.
type Proxy struct {
	cfg     Config
	node    string
	boot    string // this process's incarnation, part of every event id
	log     *slog.Logger
	client  *http.Client
	jobs    chan func()
	events  Events
	metrics *metrics
	del     *deliverer

	mu     sync.Mutex
	opened map[framework.ConnID]int64 // unix ms, for duration_ms

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

var _ framework.Backend = (*Proxy)(nil)

// New builds a Proxy; Start sets its workers going.
func New(cfg Config, o Options) (*Proxy, error) {
	cfg = cfg.withDefaults()
	if !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
		return nil, fmt.Errorf("proxy: endpoint must start with http:// or https://, got %q", cfg.Endpoint)
	}
	if o.Node == "" {
		return nil, errors.New("proxy: Options.Node is required")
	}
	if cfg.Disconnect && o.Events == nil {
		return nil, errors.New("proxy: Options.Events is required to report disconnects")
	}
	p := &Proxy{
		cfg: cfg, node: o.Node, log: o.Logger, client: o.Client, events: o.Events,
		boot:    hex.EncodeToString(randomBytes(4)),
		jobs:    make(chan func(), cfg.Queue),
		metrics: newMetrics(),
		opened:  make(map[framework.ConnID]int64),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.client == nil {
		p.client = &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: 90 * time.Second},
			// A redirect is the backend failing, not a place to go.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Disconnect {
		p.del = newDeliverer(p)
	}
	return p, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Start runs the workers and, when disconnects are reported, records this
// node alive, turns the connections a previous run under its id left open
// into events (it died without reporting them), then delivers stored events
// until Stop.
func (p *Proxy) Start(ctx context.Context) error {
	ctx, p.cancel = context.WithCancel(ctx)
	for range p.cfg.Workers {
		p.wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-p.jobs:
					job()
				}
			}
		})
	}
	if p.del == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := p.events.Beat(sctx, p.node, time.Now().UnixMilli()); err != nil {
		p.log.Warn("proxy: could not record this node alive in the events store", "err", err)
	}
	if n, err := p.events.Restarted(sctx, p.node, time.Now().UnixMilli()); err != nil {
		p.log.Warn("proxy: could not report connections a previous run left open", "err", err)
	} else if n > 0 {
		p.log.Info("proxy: connections a previous run left open will be reported", "count", n)
	}
	p.wg.Go(func() { p.del.run(ctx) })
	return nil
}

// Stop ends the workers and the delivery loop; calls in flight finish first.
// Call it after the server stopped, so every close was recorded.
func (p *Proxy) Stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	if p.del != nil {
		p.del.flush() // what closed since the loop's last store
	}
}

// submit queues job for a worker; false when the queue is full.
func (p *Proxy) submit(job func()) bool {
	select {
	case p.jobs <- job:
		return true
	default:
		p.metrics.calls.WithLabelValues("queue", "full").Inc()
		return false
	}
}

// Forwards reports whether method matches a configured prefix at a dot.
func (p *Proxy) Forwards(method string) bool { return p.prefixOf(method) != "" }

func (p *Proxy) prefixOf(method string) string {
	for _, pre := range p.cfg.Methods {
		if method == pre || (strings.HasPrefix(method, pre) && method[len(pre)] == '.') {
			return pre
		}
	}
	return ""
}

// CheckRoutes fails when a prefix also matches a Go route, naming both: a
// method must have one owner.
func (p *Proxy) CheckRoutes(routes []framework.Route) error {
	var errs []error
	for _, r := range routes {
		if pre := p.prefixOf(r.Method); pre != "" {
			errs = append(errs, fmt.Errorf("proxy.methods prefix %q also matches the Go route %q: move the route or narrow the prefix", pre, r.Method))
		}
	}
	return errors.Join(errs...)
}

// client is the "client" member of every call.
type client struct {
	Conn string `json:"conn"`
	Node string `json:"node"`
	IP   string `json:"ip"`
	User user   `json:"user"`
}

type user struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Code     string `json:"code"`
	Nickname string `json:"nickname"`
}

func clientOf(pe framework.Peer) client {
	ip := ""
	if pe.IP.IsValid() {
		ip = pe.IP.String()
	}
	return client{
		Conn: pe.Node + "/" + strconv.FormatUint(uint64(pe.ID), 10),
		Node: pe.Node, IP: ip,
		User: user{ID: pe.User.ID, Type: pe.User.Type, Code: pe.User.Code, Nickname: pe.User.Nickname},
	}
}

type connectBody struct {
	Client  client            `json:"client"`
	Headers map[string]string `json:"headers"`
}

type connectAnswer struct {
	answer
	Rooms []string `json:"rooms"`
}

// Connect asks /connect (when configured) and records the connection for
// its disconnect event (when configured), in that order, on a worker.
func (p *Proxy) Connect(pe framework.Peer, h framework.ConnectHeaders, done func(framework.Admission)) bool {
	if !p.cfg.Connect && !p.cfg.Disconnect {
		done(framework.Admission{Status: http.StatusOK})
		return true
	}
	deadline := time.Now().Add(p.cfg.Timeout)
	return p.submit(func() {
		cl := clientOf(pe)
		adm := framework.Admission{Status: http.StatusOK}
		if p.cfg.Connect {
			adm = p.connect(cl, h, deadline)
		}
		if adm.Status == http.StatusOK && p.cfg.Disconnect {
			if err := p.recordOpen(pe, cl); err != nil {
				p.log.Warn("proxy: could not record a connection for its disconnect event; refused", "conn", cl.Conn, "err", err)
				adm = framework.Admission{Status: http.StatusServiceUnavailable, Info: "backend store unavailable"}
			}
		}
		done(adm)
	})
}

func (p *Proxy) connect(cl client, h framework.ConnectHeaders, deadline time.Time) framework.Admission {
	body := connectBody{Client: cl, Headers: map[string]string{"origin": h.Origin, "user-agent": h.UserAgent}}
	var a connectAnswer
	status, err := p.call("connect", body, &a, deadline)
	switch {
	case err != nil:
		return framework.Admission{Status: http.StatusServiceUnavailable, Info: "backend unavailable"}
	case status == http.StatusOK:
		return framework.Admission{Status: status, Info: a.Info, Rooms: a.Rooms, Param: a.Param}
	case status == http.StatusForbidden:
		return framework.Admission{Status: status, Info: a.Info}
	}
	return framework.Admission{Status: http.StatusServiceUnavailable, Info: "backend refused with " + strconv.Itoa(status)}
}

type rpcBody struct {
	Client client          `json:"client"`
	Method string          `json:"method"`
	ID     json.RawMessage `json:"id"`
	Param  json.RawMessage `json:"param"`
}

// Call forwards a request to /rpc on a worker.
func (p *Proxy) Call(pe framework.Peer, method string, id, params json.RawMessage, done func(framework.BackendReply)) bool {
	deadline := time.Now().Add(p.cfg.Timeout)
	return p.submit(func() {
		if id == nil {
			id = json.RawMessage("null")
		}
		var a answer
		status, err := p.call("rpc", rpcBody{Client: clientOf(pe), Method: method, ID: id, Param: params}, &a, deadline)
		if string(a.Param) == "null" {
			a.Param = nil
		}
		switch {
		case errors.Is(err, errTimeout):
			done(framework.BackendReply{Status: http.StatusGatewayTimeout, Info: "backend timed out"})
		case err != nil:
			done(framework.BackendReply{Status: http.StatusBadGateway, Info: "backend failed"})
		default:
			done(framework.BackendReply{Status: status, Info: a.Info, Param: a.Param})
		}
	})
}

// Closed stores the connection's disconnect event; the delivery loop sends it.
func (p *Proxy) Closed(pe framework.Peer, code int) {
	if !p.cfg.Disconnect {
		return
	}
	now := time.Now().UnixMilli()
	p.mu.Lock()
	at, ok := p.opened[pe.ID]
	delete(p.opened, pe.ID)
	p.mu.Unlock()
	if !ok {
		at = now
	}
	p.del.add(Event{
		ID: p.eventID(pe.ID), Node: p.node, Client: mustJSON(clientOf(pe)), Opened: at,
		Code: code, Reason: reasonOf(code), Time: now,
	})
}

// NodeLost turns the connections a dead node left open into events, on a
// worker; only one of the nodes that report it gets each.
func (p *Proxy) NodeLost(node string) {
	if !p.cfg.Disconnect {
		return
	}
	p.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n, err := p.events.Lost(ctx, node, time.Now().UnixMilli())
		if err != nil {
			p.log.Warn("proxy: could not report a lost node's connections; retried at its next purge", "node", node, "err", err)
			return
		}
		if n > 0 {
			p.log.Info("proxy: reporting a lost node's connections", "node", node, "count", n)
			p.del.wake()
		}
	})
}

func (p *Proxy) eventID(id framework.ConnID) string {
	return p.node + "/" + p.boot + "/" + strconv.FormatUint(uint64(id), 10)
}

func (p *Proxy) recordOpen(pe framework.Peer, cl client) error {
	now := time.Now().UnixMilli()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer cancel()
	if err := p.events.Opened(ctx, Event{ID: p.eventID(pe.ID), Node: p.node, Client: mustJSON(cl), Opened: now}); err != nil {
		return err
	}
	p.mu.Lock()
	p.opened[pe.ID] = now
	p.mu.Unlock()
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings reach here
	}
	return b
}

// reasonOf names a close code for the backend.
func reasonOf(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1006:
		return "connection lost"
	case 1007:
		return "invalid payload"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1012:
		return "service restart"
	case 4000:
		return "idle timeout"
	}
	return "closed"
}
